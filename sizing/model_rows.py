"""The memory and speed formulas over every model on one GPU kind (What can I run, the
catalog sweep), as arrays (numpy): one runtime and one sequence, every row a (model,
weight format) pair with its own context.

Per-model and per-format quantities are gathered once into arrays
(:class:`ModelArrays`, :class:`QuantArrays`) and indexed per row; ``tests/test_fits.py``
compares them with the scalar engine row by row. Each formula is the scalar one
(:func:`sizing.memory.estimate_memory`, :func:`sizing.speed.estimate_speed`) term by
term, in the same order. The other array shapes, one scenario or a plan's rungs on
every GPU, are in :mod:`sizing.vector`, kept apart so the commands that need only
those do not build these classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.architecture import param_breakdown
from sizing.memory import (ACTIVATION_BYTES_PER_ELEMENT, ACTIVATION_HIDDEN_MULTIPLE,
                           ACTIVATION_INTERMEDIATE_MULTIPLE, LLAMA_CPP_BUFFER_MIB_PER_HEAD,
                           LLAMA_CPP_BUFFER_MIB_PER_HEAD_PER_1K_CONTEXT,
                           kv_elements_per_token_per_layer, vision_weight_bytes, weight_bytes)
from sizing.speed import (HOST_LINK_GB_PER_S, RAM_EFFICIENCY_FRAC, UBATCH_TOKENS, SpeedConstants,
                          bandwidth_bytes_per_s, compute_flops_per_s, pipeline_factor)
from sizing.units import gb_per_s_to_bytes_per_s, gib_to_bytes, mib_to_bytes
from sizing.vector import float_column


@dataclass(frozen=True)
class ModelArrays:
    """Per-model shapes, one entry per model. [counts, tokens, B]"""

    archs: tuple[ModelArch, ...]
    num_layers: np.ndarray
    attention_heads: np.ndarray
    hidden_size: np.ndarray
    activation_width: np.ndarray  # hidden and MLP elements per token of an eager pass
    vocab_size: np.ndarray
    full_layers: np.ndarray  # attention layers that see the whole context
    windowed_layers: np.ndarray
    window_tokens: np.ndarray  # inf: no window
    kv_elements: np.ndarray  # cached elements per token per attention layer
    state_bytes: np.ndarray  # recurrent layers' fixed state per sequence
    attention_width: np.ndarray  # query heads x head_dim
    max_context_tokens: np.ndarray
    embedding: np.ndarray  # parameter counts by role (sizing.architecture.param_breakdown)
    output: np.ndarray
    routed: np.ndarray
    routed_active: np.ndarray
    body: np.ndarray
    tied: np.ndarray
    vision_bytes: np.ndarray

    @classmethod
    def of(cls, archs: Sequence[ModelArch]) -> ModelArrays:
        parts = [param_breakdown(a) for a in archs]
        attention = [a.num_layers - a.recurrent_layers for a in archs]
        windowed = [min(a.sliding_window_layers, n) for a, n in zip(archs, attention)]
        return cls(
            archs=tuple(archs),
            num_layers=float_column(a.num_layers for a in archs),
            attention_heads=float_column(a.num_attention_heads for a in archs),
            hidden_size=float_column(a.hidden_size for a in archs),
            activation_width=float_column(
                ACTIVATION_HIDDEN_MULTIPLE * a.hidden_size + ACTIVATION_INTERMEDIATE_MULTIPLE
                * (a.moe_intermediate_size if a.is_moe and a.moe_intermediate_size
                   else a.intermediate_size) for a in archs),
            vocab_size=float_column(a.vocab_size for a in archs),
            full_layers=float_column(n - w for n, w in zip(attention, windowed)),
            windowed_layers=float_column(windowed),
            window_tokens=float_column(a.sliding_window_tokens or math.inf for a in archs),
            kv_elements=float_column(kv_elements_per_token_per_layer(a) for a in archs),
            state_bytes=float_column(a.recurrent_layers * a.recurrent_state_bytes_per_layer for a in archs),
            attention_width=float_column(a.num_attention_heads * a.head_dim for a in archs),
            max_context_tokens=np.array([a.max_context_tokens for a in archs], dtype=np.int64),
            embedding=float_column(p.embedding for p in parts), output=float_column(p.output for p in parts),
            routed=float_column(p.routed_experts for p in parts),
            routed_active=float_column(p.routed_experts_active for p in parts),
            body=float_column(p.body for p in parts),
            tied=np.array([a.tie_word_embeddings for a in archs], dtype=bool),
            vision_bytes=float_column(vision_weight_bytes(a) for a in archs))


@dataclass(frozen=True)
class QuantArrays:
    """Per-format bits, one entry per weight format. [bits per weight]"""

    quants: tuple[Quant, ...]
    body_bits: np.ndarray
    expert_bits: np.ndarray
    embedding_bits: np.ndarray
    output_bits: np.ndarray
    int_quant: np.ndarray

    @classmethod
    def of(cls, quants: Sequence[Quant]) -> QuantArrays:
        return cls(quants=tuple(quants), body_bits=float_column(q.body_bits_per_weight for q in quants),
                   expert_bits=float_column(q.expert_bits_per_weight or q.body_bits_per_weight
                                    for q in quants),
                   embedding_bits=float_column(q.embedding_bits_per_weight for q in quants),
                   output_bits=float_column(q.output_bits_per_weight for q in quants),
                   int_quant=np.array([q.kind == "int-quant" for q in quants], dtype=bool))


_ROW_SHAPES = ("num_layers", "attention_heads", "hidden_size", "activation_width", "vocab_size",
               "full_layers", "windowed_layers", "window_tokens", "kv_elements", "state_bytes",
               "attention_width")


@dataclass(frozen=True)
class Rows:
    """(model, format) rows and their weights as :func:`sizing.memory.weight_bytes` gives them.

    [B; parameters for ``active_params``]
    """

    models: ModelArrays
    quants: QuantArrays
    model_index: np.ndarray
    quant_index: np.ndarray
    device_bytes: np.ndarray
    host_bytes: np.ndarray
    active_bytes: np.ndarray  # read per generated token (MoE: routed subset)
    active_bytes_max: np.ndarray  # the same if every expert were read
    active_params: np.ndarray  # multiplied per token, embeddings excluded
    shape: dict[str, np.ndarray]  # the model shapes the formulas use, gathered per row
    int_quant: np.ndarray  # per row

    @classmethod
    def of(cls, models: ModelArrays, quants: QuantArrays, model_index: np.ndarray,
           quant_index: np.ndarray, *, embeddings_on_host: bool) -> Rows:
        m, q = models, quants
        mi, qi = model_index, quant_index
        tied = m.tied[mi]
        body = m.body[mi] * q.body_bits[qi] / 8.0
        experts = m.routed[mi] * q.expert_bits[qi] / 8.0
        experts_active = m.routed_active[mi] * q.expert_bits[qi] / 8.0
        # A tied table is stored at the head's type (sizing.memory.weight_bytes).
        embedding = m.embedding[mi] * np.where(tied, q.output_bits[qi], q.embedding_bits[qi]) / 8.0
        output = np.where(tied, 0.0, m.output[mi] * q.output_bits[qi] / 8.0)
        file_bytes = body + experts + embedding + output + m.vision_bytes[mi]
        head = np.where(tied, embedding, output)
        active = body + experts_active + head
        active_max = body + experts + head
        if embeddings_on_host:
            host = embedding
            device = file_bytes - embedding + np.where(tied, embedding, 0.0)
        else:
            host, device = np.zeros_like(file_bytes), file_bytes
        # Models read from a file in their own format: the file's exact tensor bytes.
        from_file = np.array([a.file_weights is not None for a in m.archs], dtype=bool)
        for row in np.flatnonzero(from_file[mi]):
            arch, quant = m.archs[mi[row]], q.quants[qi[row]]
            if arch.file_weights.quant == quant.id:
                exact = weight_bytes(arch, quant, embeddings_on_host=embeddings_on_host)
                device[row], host[row] = exact.device_bytes, exact.host_bytes
                active[row], active_max[row] = exact.active_bytes, exact.active_bytes_max
        params = m.body[mi] + m.routed_active[mi] + np.where(tied, m.embedding[mi], m.output[mi])
        shape = {name: getattr(m, name)[mi] for name in _ROW_SHAPES}
        return cls(models=m, quants=q, model_index=mi, quant_index=qi, device_bytes=device,
                   host_bytes=host, active_bytes=active, active_bytes_max=active_max,
                   active_params=params, shape=shape, int_quant=q.int_quant[qi])

    def take(self, index: np.ndarray) -> Rows:
        """The rows at ``index`` only."""
        return replace(self, model_index=self.model_index[index], quant_index=self.quant_index[index],
                       device_bytes=self.device_bytes[index], host_bytes=self.host_bytes[index],
                       active_bytes=self.active_bytes[index],
                       active_bytes_max=self.active_bytes_max[index],
                       active_params=self.active_params[index], int_quant=self.int_quant[index],
                       shape={k: v[index] for k, v in self.shape.items()})

    def kv_cache_bytes(self, context_tokens: np.ndarray, *, bytes_per_element: float) -> np.ndarray:
        """:func:`sizing.memory.model_kv_cache_bytes` of one sequence per row. [B]"""
        r = self.shape
        c = np.asarray(context_tokens, dtype=float)
        token_layers = r["full_layers"] * c + r["windowed_layers"] * np.minimum(c, r["window_tokens"])
        return token_layers * r["kv_elements"] * bytes_per_element + r["state_bytes"]


@dataclass(frozen=True)
class RowMemory:
    """:class:`sizing.memory.MemoryEstimate`'s fields over rows. [B, layers]"""

    fits: np.ndarray
    per_device_total_bytes: np.ndarray
    total_bytes: np.ndarray
    gpu_layers: np.ndarray
    num_layers: np.ndarray
    offloaded_bytes: np.ndarray
    host_weights_bytes: np.ndarray


@dataclass(frozen=True)
class MemoryModel:
    """:func:`sizing.memory.estimate_memory` for one runtime, GPU kind and count, one
    sequence per row; the context-free terms are computed once. [B]"""

    rows: Rows
    runtime: Runtime
    gpu_count: int
    tensor: bool
    new_tokens: int
    kv_bytes_per_element: float
    fixed_act_bytes: np.ndarray  # logits of a micro-batch and the quantized kernels' workspace
    overhead_bytes: float
    usable_bytes: float  # per device
    encoder_act_bytes: np.ndarray | float = 0.0  # a vision encoder's buffer for one image, per row

    @classmethod
    def of(cls, rows: Rows, *, runtime: Runtime, usable_bytes: float, gpu_count: int, tensor: bool,
           new_tokens: int, kv_bytes_per_element: float,
           encoder_act_bytes: np.ndarray | float = 0.0) -> MemoryModel:
        """``usable_bytes``: per device (:func:`sizing.memory.usable_bytes_per_device`);
        ``encoder_act_bytes``: per row (:func:`sizing.vision.encoder_activation_bytes`). [B]"""
        fixed = np.where(rows.int_quant, gib_to_bytes(runtime.quant_workspace_gib), 0.0)
        if runtime.logits == "micro-batch":
            fixed = fixed + rows.shape["vocab_size"] * runtime.logits_bytes_per_element
        return cls(rows=rows, runtime=runtime, gpu_count=gpu_count, tensor=tensor,
                   new_tokens=new_tokens, kv_bytes_per_element=kv_bytes_per_element,
                   fixed_act_bytes=fixed,
                   overhead_bytes=gib_to_bytes(runtime.fixed_overhead_gib + runtime.safety_margin_gib),
                   usable_bytes=usable_bytes, encoder_act_bytes=encoder_act_bytes)

    def take(self, index: np.ndarray) -> MemoryModel:
        """The same memory model over the rows at ``index`` only."""
        encoder = self.encoder_act_bytes
        return replace(self, rows=self.rows.take(index), fixed_act_bytes=self.fixed_act_bytes[index],
                       encoder_act_bytes=encoder[index] if isinstance(encoder, np.ndarray) else encoder)

    def at(self, context_tokens: np.ndarray, prompt_tokens: np.ndarray) -> RowMemory:
        """Memory with each row's context and prompt. [B]"""
        rows, runtime, n, r = self.rows, self.runtime, self.gpu_count, self.rows.shape
        c = np.asarray(context_tokens, dtype=float)
        p = np.asarray(prompt_tokens, dtype=float)
        kv = rows.kv_cache_bytes(c, bytes_per_element=self.kv_bytes_per_element)
        if runtime.compute_buffer == "llama-cpp":
            act = mib_to_bytes((np.maximum(c, 1) / 1024.0 * LLAMA_CPP_BUFFER_MIB_PER_HEAD_PER_1K_CONTEXT
                                + LLAMA_CPP_BUFFER_MIB_PER_HEAD) * r["attention_heads"])
        else:
            act = (np.minimum(np.maximum(p, 1), runtime.micro_batch_tokens) * r["activation_width"]
                   * ACTIVATION_BYTES_PER_ELEMENT)
        if runtime.logits == "whole-prompt":
            act = act + np.maximum(p, 1) * r["vocab_size"] * runtime.logits_bytes_per_element
        act = act + self.fixed_act_bytes
        if self.tensor and n > 1:
            act = act / n ** 0.5
        if self.new_tokens > 1 and runtime.decode_kv_copies > 1:
            act = act + kv * (runtime.decode_kv_copies - 1) / n
        act = act + self.encoder_act_bytes
        overhead, usable = self.overhead_bytes, self.usable_bytes
        resident = rows.device_bytes + kv
        per_device = resident / n + act + overhead
        fits = per_device <= usable
        layers = r["num_layers"]
        per_layer = resident / layers
        room = usable * n - n * (act + overhead)
        on_gpu = np.minimum(np.maximum(np.floor_divide(room, per_layer), 0), layers)
        gpu_layers = np.where(fits, layers, on_gpu)
        total = per_device * n
        if runtime.supports_offload:
            offloaded = (layers - gpu_layers) * per_layer
        else:
            offloaded = total - usable * n
        return RowMemory(fits=fits, per_device_total_bytes=per_device, total_bytes=total,
                         gpu_layers=gpu_layers.astype(np.int64), num_layers=layers.astype(np.int64),
                         offloaded_bytes=np.where(fits, 0.0, offloaded),
                         host_weights_bytes=rows.host_bytes)


def _attention_flops(rows: Rows, prompt_tokens: int) -> np.ndarray:
    """:func:`sizing.speed.attention_flops` per row. [FLOP]"""
    r = rows.shape
    p = float(prompt_tokens)
    window = np.minimum(p, np.where(np.isinf(r["window_tokens"]), p, r["window_tokens"]))
    pairs = r["full_layers"] * (p * p / 2.0) + r["windowed_layers"] * (p * window - window ** 2 / 2.0)
    return 4.0 * r["attention_width"] * pairs


def row_speed(rows: Rows, *, runtime: Runtime, gpu: Gpu, gpu_count: int, tensor: bool,
              constants: dict[str, SpeedConstants], prompt_tokens: int, new_tokens: int,
              kv_bytes_per_element: float, offloaded_frac: np.ndarray, ram_gb_per_s: float,
              link_bandwidth_gb_per_s: float, link_latency_s: float,
              ubatch_tokens: int = UBATCH_TOKENS) -> dict[str, np.ndarray]:
    """Decode and prefill speed of one sequence per row, as :func:`sizing.speed.estimate_speed`.

    ``constants`` maps a quant kind (float, int-quant) to its constants.
    Returns decode, decode_low, decode_high, prefill, prefill_low, prefill_high
    [tokens/s]; NaN where there is none (no prompt, or nothing generated).
    """
    del runtime  # the constants already carry it
    mi = rows.model_index
    kind_int = rows.int_quant

    def coef(group: str, name: str) -> np.ndarray:
        table = {k: getattr(c, group).get(name, 0.0) for k, c in constants.items()}
        return np.where(kind_int, table["int-quant"], table["float"])

    def band(group: str, side: int) -> np.ndarray:
        return np.where(kind_int, getattr(constants["int-quant"], group)[side],
                        getattr(constants["float"], group)[side])

    bw = bandwidth_bytes_per_s(gpu)
    # The runtime's prior (the same for both quant kinds) says whether its matmuls accumulate in FP32.
    fp32_accumulate = any(c.fp32_accumulate for c in constants.values())
    flops = compute_flops_per_s(gpu, rows.quants.quants[0], fp32_accumulate=fp32_accumulate)
    layers, hidden = rows.shape["num_layers"], rows.shape["hidden_size"]
    n = gpu_count
    kv_start = rows.kv_cache_bytes(np.full(len(mi), prompt_tokens), bytes_per_element=kv_bytes_per_element)
    kv_end = rows.kv_cache_bytes(np.full(len(mi), prompt_tokens + max(new_tokens, 1)),
                                 bytes_per_element=kv_bytes_per_element)
    kv_avg = 0.5 * (kv_start + kv_end)
    link = gb_per_s_to_bytes_per_s(link_bandwidth_gb_per_s or HOST_LINK_GB_PER_S)

    def allreduce_s(tokens: int) -> np.ndarray:
        payload = hidden * 2.0 * tokens
        return 2 * layers * (link_latency_s + 2 * (n - 1) / n * payload / link)

    off = np.asarray(offloaded_frac, dtype=float)
    ram = gb_per_s_to_bytes_per_s(ram_gb_per_s)
    memory_s = coef("decode", "weights") * (rows.active_bytes / bw) + coef("decode", "kv") * (kv_avg / bw)
    bytes_per_step = rows.active_bytes + kv_avg
    decode_allreduce = np.zeros(len(mi))
    hops = 0.0 if tensor or n <= 1 else math.log2(n)
    if tensor:
        memory_s = memory_s / n
        decode_allreduce = allreduce_s(1)
    memory_s = np.where(off > 0, memory_s * (1.0 - off), memory_s)
    ram_s = np.where(off > 0, off * bytes_per_step / (ram * RAM_EFFICIENCY_FRAC), 0.0)
    compute_s = coef("prefill", "compute") * 2.0 * rows.active_params / flops
    if tensor:
        compute_s = compute_s / n
    step_s = (np.maximum(memory_s, compute_s) + ram_s + coef("decode", "layers") * layers
              + coef("decode", "hops") * hops + decode_allreduce)
    devices_bw = bw * (n if tensor else 1)
    sol = 1.0 / (bytes_per_step * (1 - off) / devices_bw + off * bytes_per_step / ram)
    nan = np.full(len(mi), np.nan)
    out = {"decode": nan, "decode_low": nan, "decode_high": nan}
    if new_tokens > 0:
        decode = np.minimum(1.0 / step_s, sol)
        low = decode * band("decode_band", 0)
        unread = rows.active_bytes_max - rows.active_bytes  # experts a token does not route to
        full_step = step_s + coef("decode", "weights") * unread / devices_bw
        moe = rows.active_bytes_max > rows.active_bytes * 1.01
        low = np.where(moe, np.minimum(low, 1.0 / full_step), low)
        out = {"decode": decode, "decode_low": low,
               "decode_high": np.minimum(decode * band("decode_band", 1), sol)}
    out |= {"prefill": nan, "prefill_low": nan, "prefill_high": nan}
    if prompt_tokens > 0:
        ubatches = math.ceil(prompt_tokens / ubatch_tokens)
        prefill_s = (coef("prefill", "compute") * (2.0 * rows.active_params * prompt_tokens / flops)
                     + coef("prefill", "attention") * (_attention_flops(rows, prompt_tokens) / flops)
                     + coef("prefill", "ubatch_weights") * (ubatches * rows.active_bytes_max / bw)
                     + coef("prefill", "ubatch_layers") * (ubatches * layers))
        if tensor:
            prefill_s = prefill_s / n + ubatches * allreduce_s(ubatch_tokens)
        elif n > 1:
            factor = {k: pipeline_factor(prompt_tokens=prompt_tokens, gpu_count=n,
                                         efficiency_frac=c.pipeline_efficiency_frac,
                                         ubatch_tokens=ubatch_tokens) for k, c in constants.items()}
            prefill_s = prefill_s * np.where(kind_int, factor["int-quant"], factor["float"])
        prefill_s = prefill_s + np.where(off > 0, ubatches * off * rows.active_bytes_max
                                         / gb_per_s_to_bytes_per_s(HOST_LINK_GB_PER_S), 0.0)
        prefill = prompt_tokens / prefill_s
        out |= {"prefill": prefill, "prefill_low": prefill * band("prefill_band", 0),
                "prefill_high": prefill * band("prefill_band", 1)}
    return out
