"""Decode and prefill speed: memory and compute physics with fitted constants.

Decode is memory-bound: each token reads the active weights and the KV cache
once. Time per token is modelled as

    t = a[api, kind] * W / BW + k[api] * KV / BW + L * tau[api] + h * log2(N)

with W the weight bytes read per token, KV the cache bytes read at the
average context, L the layers (kernel launches scale with them) and N the GPUs
of a layer split. Prefill is compute-bound:

    t(P) = c[api, kind] * 2 * N_active * P / C + g[api] * A(P) / C
           + ceil(P / 512) * (u[api] * W / BW + L * v[api])

with C the dense fp16 tensor throughput and A(P) the attention FLOPs. The
coefficients a, k, tau, h, c, g, u, v are fitted by
``benchmarks/calibrate.py`` on published llama.cpp measurements and stored in
``catalog/speed_calibration.yaml``; APIs and runtimes without measurements
use documented priors relative to them (``catalog/speed_priors.yaml``). No
measured value of any GPU is stored here. The bandwidth / bytes speed of light
bounds every estimate. Terms, constants and sources: docs/model.md, Speed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from catalog.errors import UserError, echo
from catalog.schema import Gpu, ModelArch, Quant
from sizing.architecture import param_breakdown
from sizing.memory import model_kv_cache_bytes, unified_memory, weight_bytes
from sizing.notices import Notice
from sizing.units import gb_per_s_to_bytes_per_s, tflops_to_flops

DECODE_FEATURES = ("weights", "kv", "layers", "hops")
PREFILL_FEATURES = ("compute", "attention", "ubatch_weights", "ubatch_layers")
UBATCH_TOKENS = 512  # llama.cpp default n_ubatch (-ub)
BATCH_TOKENS = 2048  # llama.cpp default n_batch: pipeline parallelism works within it
# Build eras whose kernels differ enough to need their own efficiency constants:
# "2023" covers llama.cpp builds of 2023-24, "2025" those of 2025-26 (flash
# attention on by default, MMQ and faster prompt kernels). Estimates are for
# current builds; older rows still inform the constants the eras share.
ERAS = ("2023", "2025")
CURRENT_ERA = "2025"

# System RAM sustains 60-80 % of its DDR spec in practice (docs/model.md, Speed).
RAM_EFFICIENCY_FRAC = 0.7
_RAM = re.compile(r"^(ddr[45])-(\d{3,5})x(\d{1,2})$")
# Speeds and channel counts a real system can have, per DDR generation:
# (lowest MT/s, highest MT/s, most 64-bit channels). DDR4: JEDEC DDR4-1600 up to
# the fastest retail kits (DDR4-5333; faster only under liquid nitrogen), and
# 16 channels on a two-socket, eight-channel server. DDR5: JEDEC DDR5-3200 up
# to the fastest retail CUDIMM kits (about DDR5-10000), and 24 channels on a
# two-socket, twelve-channel server (AMD EPYC 9004/9005).
# Sources: https://www.jedec.org/standards-documents/docs/jesd79-4a,
# https://www.jedec.org/standards-documents/docs/jesd79-5c,
# https://www.amd.com/en/products/processors/server/epyc/9005-series.html
RAM_LIMITS = {"ddr4": (1600, 5333, 16), "ddr5": (3200, 10000, 24)}
# A PCIe 4.0 x16 link as achieved: the host link of offloaded layers, and the GPU
# link when none is given.
HOST_LINK_GB_PER_S = 25.6


class SpeedUnknownError(ValueError):
    """A speed that cannot be estimated (e.g. unknown bandwidth); says why.

    ``str()`` is the English reason; ``code`` and ``params`` let a front end
    say it in another language (``engine.<code>`` in the string catalog), and
    :attr:`notice` is the sentence an estimate attaches.
    """

    def __init__(self, reason: str, *, code: str, **params: str) -> None:
        super().__init__(reason)
        self.code = code
        self.params = params

    @property
    def notice(self) -> Notice:
        return Notice(self.code, f"Speed unknown: {self}.", **self.params)


def ram_bandwidth_gb_per_s(spec: str) -> float:
    """Peak bandwidth of system RAM from a spec such as ``ddr5-6000x2``. [GB/s]

    MT/s x 8 bytes per 64-bit channel x channels.

    >>> ram_bandwidth_gb_per_s("ddr5-6000x2")
    96.0
    """
    match = _RAM.match(spec.strip().lower())
    if not match:
        raise UserError(f"RAM spec '{echo(spec)}' must look like ddr5-6000x2 "
                        "(type-MT/s x channels)", code="ram_spec_form", params={"spec": echo(spec)})
    kind, mt_per_s, channels = match.group(1), int(match.group(2)), int(match.group(3))
    low_mt, high_mt, most_channels = RAM_LIMITS[kind]
    if not low_mt <= mt_per_s <= high_mt or not 1 <= channels <= most_channels:
        raise UserError(f"RAM spec '{echo(spec)}': {kind.upper()} runs at {low_mt}-{high_mt} MT/s "
                        f"on 1-{most_channels} channels", code="ram_spec_range",
                        params={"spec": echo(spec), "kind": kind.upper(), "low_mt": low_mt,
                                "high_mt": high_mt, "channels": most_channels})
    return mt_per_s * 8 * channels / 1000.0


@dataclass(frozen=True)
class Workload:
    """The physical quantities speed depends on, for one scenario. [SI units]"""

    weight_bytes: float  # device weight bytes read per token (MoE: routed subset)
    weight_bytes_all_experts: float  # the same if every expert were read
    active_params: float  # parameters multiplied per token, embeddings excluded
    num_layers: int
    attention_width: int  # query heads x head_dim
    kv_bytes_at: tuple[float, float]  # KV bytes read per token at (prompt, prompt + new)
    full_attention_layers: int
    windowed_layers: int
    window_tokens: int | None


def workload(arch: ModelArch, quant: Quant, *, prompt_tokens: int, new_tokens: int,
             kv_bytes_per_element: float, embeddings_on_host: bool) -> Workload:
    """Collect what the speed model needs from the model and format."""
    weights = weight_bytes(arch, quant, embeddings_on_host=embeddings_on_host)
    parts = param_breakdown(arch)
    active = parts.body + parts.routed_experts_active + (parts.embedding if arch.tie_word_embeddings
                                                         else parts.output)
    start = model_kv_cache_bytes(arch, context_tokens=prompt_tokens, bytes_per_element=kv_bytes_per_element)
    end = model_kv_cache_bytes(arch, context_tokens=prompt_tokens + new_tokens,
                               bytes_per_element=kv_bytes_per_element)
    attention_layers = arch.num_layers - arch.recurrent_layers
    windowed = min(arch.sliding_window_layers, attention_layers)
    return Workload(
        weight_bytes=weights.active_bytes,
        weight_bytes_all_experts=weights.active_bytes_max,
        active_params=active,
        num_layers=arch.num_layers,
        attention_width=arch.num_attention_heads * arch.head_dim,
        kv_bytes_at=(start, end),
        full_attention_layers=attention_layers - windowed,
        windowed_layers=windowed,
        window_tokens=arch.sliding_window_tokens,
    )


def decode_features(w: Workload, *, bandwidth_bytes_per_s: float, gpu_count: int = 1,
                    sequences: int = 1) -> dict[str, float]:
    """Feature values whose weighted sum is the time of one decode step. [s, count]"""
    kv_avg = 0.5 * (w.kv_bytes_at[0] + w.kv_bytes_at[1]) * sequences
    return {
        "weights": w.weight_bytes / bandwidth_bytes_per_s,
        "kv": kv_avg / bandwidth_bytes_per_s,
        "layers": float(w.num_layers),
        "hops": math.log2(gpu_count) if gpu_count > 1 else 0.0,
    }


def attention_flops(w: Workload, prompt_tokens: int) -> float:
    """FLOPs of QK^T and AV over a causal prompt. [FLOP]

    2 matmuls x 2 FLOPs x width x (pairs of tokens); causal masks halve the
    pairs, windowed layers see at most the window.
    """
    p = float(prompt_tokens)
    full_pairs = p * p / 2.0
    window = w.window_tokens or prompt_tokens
    windowed_pairs = p * min(p, float(window)) - min(p, float(window)) ** 2 / 2.0
    pairs = w.full_attention_layers * full_pairs + w.windowed_layers * windowed_pairs
    return 4.0 * w.attention_width * pairs


def prefill_features(w: Workload, *, prompt_tokens: int, compute_flops_per_s: float,
                     bandwidth_bytes_per_s: float, sequences: int = 1,
                     ubatch_tokens: int = UBATCH_TOKENS) -> dict[str, float]:
    """Feature values whose weighted sum is the time to process the prompt. [s, count]

    The prompt runs in micro-batches of ``ubatch_tokens`` (llama.cpp ``-ub``):
    each reads every weight once and launches every layer's kernels once.
    """
    tokens = prompt_tokens * sequences
    ubatches = math.ceil(tokens / ubatch_tokens)
    return {
        "compute": 2.0 * w.active_params * tokens / compute_flops_per_s,
        "attention": attention_flops(w, prompt_tokens) * sequences / compute_flops_per_s,
        "ubatch_weights": ubatches * w.weight_bytes_all_experts / bandwidth_bytes_per_s,
        "ubatch_layers": float(ubatches * w.num_layers),
    }


def pipeline_factor(*, prompt_tokens: int, gpu_count: int, efficiency_frac: float = 1.0,
                    ubatch_tokens: int = UBATCH_TOKENS) -> float:
    """Prefill time of a layer split over N GPUs relative to one GPU. [fraction]

    llama.cpp pipelines the micro-batches of one batch across the GPUs:
    (n + N - 1) stages of 1/N of the work for n micro-batches. The fitted
    ``efficiency_frac`` says how much of that ideal gain real rigs keep.
    """
    if gpu_count <= 1:
        return 1.0
    per_batch = math.ceil(min(prompt_tokens, BATCH_TOKENS) / ubatch_tokens)
    per_batch = max(per_batch, 1)
    ideal = (per_batch + gpu_count - 1) / (per_batch * gpu_count)
    return 1.0 - efficiency_frac * (1.0 - ideal)


def compute_flops_per_s(gpu: Gpu, quant: Quant, *, fp32_accumulate: bool = False) -> float:
    """The dense throughput prefill runs at (fp16 tensor, FP16 accumulate). [FLOP/s]

    Falls back to the FP32-accumulate rate, then to twice the shader FP32 rate
    for GPUs without tensor units. ``fp32_accumulate``: the FP32-accumulate
    rate first (PyTorch and cuBLAS half-precision GEMMs, as vLLM and SGLang run).
    """
    rates = (gpu.dense_fp16_tflops, gpu.dense_fp16_fp32acc_tflops, gpu.dense_bf16_tflops)
    if fp32_accumulate:
        rates = (gpu.dense_fp16_fp32acc_tflops, gpu.dense_bf16_tflops, gpu.dense_fp16_tflops)
    for value in rates:
        if value:
            return tflops_to_flops(value)
    if gpu.fp32_tflops:
        return tflops_to_flops(2 * gpu.fp32_tflops)
    raise SpeedUnknownError(f"{gpu.name}: no published compute throughput, prefill speed unknown",
                            code="speed_unknown_compute", gpu=gpu.name)


def bandwidth_bytes_per_s(gpu: Gpu) -> float:
    if gpu.memory_bandwidth_gb_per_s is None:
        raise SpeedUnknownError(f"{gpu.name}: memory bandwidth not published, speed unknown",
                                code="speed_unknown_bandwidth", gpu=gpu.name)
    return gb_per_s_to_bytes_per_s(gpu.memory_bandwidth_gb_per_s)


def memory_class(gpu: Gpu) -> str:
    """Memory family a GPU belongs to: hbm, gddr or unified (Apple). [label]

    Efficiency constants are shared within a memory family: HBM parts reach a
    different fraction of their datasheet bandwidth than GDDR boards.
    """
    if gpu.memory_type.lower().startswith("hbm"):
        return "hbm"
    if unified_memory(gpu):
        return "unified"
    return "gddr"


def coefficient_keys(*, api: str, kind: str, memory: str, generation: str, era: str = CURRENT_ERA,
                     flash_attention: bool = True) -> dict[str, str]:
    """The key under which each feature's fitted coefficient is stored.

    Keys are slash-separated parts, most important first: the API, then the
    quant kind, memory family, build era and GPU architecture generation
    (``Gpu.architecture``: tensor-core generations differ in how much of their
    peak the prompt kernels reach) where the feature depends on them.
    Attention depends on whether flash attention is on (``fa``) or off.
    """
    fa = "fa" if flash_attention else "nofa"
    return {
        "weights": f"{api}/{kind}/{memory}/{generation}", "kv": api, "layers": f"{api}/{memory}/{era}",
        "hops": "all", "compute": f"{api}/{kind}/{memory}/{era}/{generation}", "attention": f"{api}/{fa}",
        "ubatch_weights": api, "ubatch_layers": f"{api}/{era}",
    }


def closest_key(table: dict[str, float], wanted: str, apis: list[str]) -> str | None:
    """The stored key nearest to ``wanted``: an API of ``apis`` (in order) first,
    then the most matching parts, earlier parts weighing more; CUDA's, then
    ``all``, when no key of those APIs exists.

    >>> closest_key({"cuda/int-quant/gddr/2023": 1.2, "cuda/int-quant/gddr/2025": 1.1,
    ...              "cuda/float/hbm/2025": 1.5}, "rocm/int-quant/gddr/2025", ["rocm", "cuda"])
    'cuda/int-quant/gddr/2025'
    """
    if wanted in table:
        return wanted
    parts = wanted.split("/")
    for api in [*apis, "cuda"]:
        scored = []
        for key in table:
            have = key.split("/")
            if have[0] != api or len(have) != len(parts):
                continue
            # a mismatch in part i costs 2^(n - i): the quant kind outweighs memory and era
            cost = sum(2 ** (len(parts) - i) for i in range(1, len(parts)) if have[i] != parts[i])
            scored.append((cost, key))
        if scored:
            return min(scored)[1]
    return "all" if "all" in table else None


def weighted_time_s(features: dict[str, float], coefficients: dict[str, float]) -> float:
    """Sum of feature x coefficient. [s]"""
    return sum(features[name] * coefficients.get(name, 0.0) for name in features)



# --- the estimate ---------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedEstimate:
    """Speeds for one scenario, each with a band from calibration residuals."""

    decode_tokens_per_s: float | None  # aggregate over the batch
    decode_tokens_per_s_low: float | None
    decode_tokens_per_s_high: float | None
    decode_tokens_per_s_per_sequence: float | None
    decode_speed_of_light_tokens_per_s: float | None  # bandwidth / bytes, no overheads
    prefill_tokens_per_s: float | None
    prefill_tokens_per_s_low: float | None
    prefill_tokens_per_s_high: float | None
    ttft_s: float
    total_time_s: float
    calibrated: bool  # False when priors, not fitted constants, set the speed
    basis: str  # which constants were used, in words
    decode_memory_util_frac: float  # share of peak bandwidth in use while decoding
    decode_compute_util_frac: float
    prefill_compute_util_frac: float
    # Share of the prompt time each GPU spends in compute-bound kernels (weight
    # matmuls, attention) and in streaming the weights once per micro-batch; the
    # rest goes to per-layer launches, host transfers and waiting on other GPUs.
    prefill_compute_time_frac: float = 0.0
    prefill_memory_time_frac: float = 0.0


@dataclass(frozen=True)
class SpeedConstants:
    """Resolved coefficients for one (API, runtime, quant kind, memory family)."""

    decode: dict[str, float]
    prefill: dict[str, float]
    decode_band: tuple[float, float]
    prefill_band: tuple[float, float]
    pipeline_efficiency_frac: float
    calibrated: bool
    basis: str
    fp32_accumulate: bool = False  # prompt matmuls at the FP32-accumulate tensor rate


def _band_for(metric, apis: list[str]) -> tuple[float, float]:
    """The band of the first API with its own residuals, else the overall one."""
    for api in apis:
        if api in metric.api_bands:
            return metric.api_bands[api]
    return metric.band_low_frac, metric.band_high_frac


def resolve_constants(calibration, *, api: str, kind: str, memory: str, generation: str,
                      flash_attention: bool = True, api_prior=None,
                      runtime_prior=None) -> SpeedConstants:
    """Fitted constants for the scenario, falling back through documented priors."""
    apis = [api] + ([api_prior.borrow_from.value] if api_prior and api_prior.borrow_from else [])
    calibrated = api_prior is None and runtime_prior is None
    out: dict[str, dict[str, float]] = {}
    for metric, names in (("decode", DECODE_FEATURES), ("prefill", PREFILL_FEATURES)):
        table = getattr(calibration, metric).coefficients
        values: dict[str, float] = {}
        for name in names:
            feature_table = table.get(name, {})
            wanted = coefficient_keys(api=apis[0], kind=kind, memory=memory, generation=generation,
                                      flash_attention=flash_attention)[name]
            key = closest_key(feature_table, wanted, apis)
            if key is None:
                raise SpeedUnknownError(f"no speed constant for {name} on {api}",
                                        code="speed_unknown_constant", feature=name, api=api)
            values[name] = feature_table[key]
        out[metric] = values
    widening = 1.0
    basis = [f"llama.cpp {api} fit ({kind}, {memory} memory)"]
    # No runtime reads weights faster than the memory bandwidth (coefficient >= 1).
    for prior in (api_prior, runtime_prior):
        if prior is None:
            continue
        out["decode"]["weights"] *= prior.decode_weights_factor
        if prior.decode_weights_inverse_efficiency is not None:
            out["decode"]["weights"] = prior.decode_weights_inverse_efficiency
        if prior.decode_kv_inverse_efficiency is not None:
            out["decode"]["kv"] = prior.decode_kv_inverse_efficiency
        out["decode"]["layers"] *= prior.layer_overhead_factor
        out["prefill"]["compute"] *= prior.prefill_compute_factor
        out["prefill"]["ubatch_layers"] *= prior.layer_overhead_factor
        widening = max(widening, prior.band_widening)
        basis.append(f"prior for {prior.id}")
    if api_prior is not None and api_prior.borrow_from is not None:
        basis[0] = f"llama.cpp {api_prior.borrow_from.value} fit ({kind}, {memory} memory)"

    out["decode"]["weights"] = max(1.0, out["decode"]["weights"])

    def band(low: float, high: float) -> tuple[float, float]:
        return low ** widening, high ** widening

    return SpeedConstants(
        decode=out["decode"], prefill=out["prefill"],
        decode_band=band(*_band_for(calibration.decode, apis)),
        prefill_band=band(*_band_for(calibration.prefill, apis)),
        pipeline_efficiency_frac=calibration.prefill.pipeline_efficiency_frac,
        calibrated=calibrated, basis="; ".join(basis),
        fp32_accumulate=any(p is not None and p.fp32_accumulate for p in (api_prior, runtime_prior)))


def estimate_speed(w: Workload, *, gpu: Gpu, quant: Quant, constants: SpeedConstants,
                   prompt_tokens: int, new_tokens: int, sequences: int = 1, gpu_count: int = 1,
                   split: str = "layer", hidden_size: int = 4096,
                   link_bandwidth_gb_per_s: float | None = None, link_latency_s: float = 1e-5,
                   offloaded_frac: float = 0.0, ram_gb_per_s: float = 89.6,
                   host_link_gb_per_s: float = HOST_LINK_GB_PER_S,
                   ubatch_tokens: int = UBATCH_TOKENS,
                   tokens_per_sequence: int = 1) -> SpeedEstimate:
    """Decode and prefill speed for one scenario. [tokens/s, s]

    ``offloaded_frac`` is the share of weights and cache held in system RAM
    (partial offload); that share is read at ``ram_gb_per_s`` x 0.7 while
    decoding and streamed over the host link for each prompt micro-batch.
    ``tokens_per_sequence`` tokens of each sequence go through one decode step
    (a speculative verification step checks the draft's tokens at once): the
    weights and cache are read once, the matmul FLOPs scale with it.
    """
    bw = bandwidth_bytes_per_s(gpu)
    flops = compute_flops_per_s(gpu, quant, fp32_accumulate=constants.fp32_accumulate)
    tensor = split == "tensor" and gpu_count > 1
    c = constants

    # Decode: time of one step for `sequences` sequences.
    feats = decode_features(w, bandwidth_bytes_per_s=bw, gpu_count=1 if tensor else gpu_count,
                            sequences=sequences)
    memory_s = c.decode["weights"] * feats["weights"] + c.decode["kv"] * feats["kv"]
    bytes_per_step = w.weight_bytes + 0.5 * (w.kv_bytes_at[0] + w.kv_bytes_at[1]) * sequences
    link = gb_per_s_to_bytes_per_s(link_bandwidth_gb_per_s or HOST_LINK_GB_PER_S)

    def allreduce_s(tokens: int) -> float:
        """Two ring all-reduces per layer of ``tokens`` fp16 activation rows. [s]"""
        payload = hidden_size * 2.0 * tokens
        return 2 * w.num_layers * (link_latency_s + 2 * (gpu_count - 1) / gpu_count * payload / link)

    decode_allreduce_s = 0.0
    if tensor:
        memory_s /= gpu_count
        decode_allreduce_s = allreduce_s(sequences)
    ram_s = 0.0
    if offloaded_frac > 0:
        memory_s *= 1.0 - offloaded_frac
        ram_s = offloaded_frac * bytes_per_step / (gb_per_s_to_bytes_per_s(ram_gb_per_s)
                                                   * RAM_EFFICIENCY_FRAC)
    compute_s = c.prefill["compute"] * 2.0 * w.active_params * sequences * tokens_per_sequence / flops
    if tensor:
        compute_s /= gpu_count
    step_s = (max(memory_s, compute_s) + ram_s + c.decode["layers"] * feats["layers"]
              + c.decode["hops"] * feats["hops"] + decode_allreduce_s)
    devices_bw = bw * (gpu_count if tensor else 1)
    sol_step_s = bytes_per_step * (1 - offloaded_frac) / devices_bw + (
        offloaded_frac * bytes_per_step / gb_per_s_to_bytes_per_s(ram_gb_per_s))
    sol = sequences / sol_step_s
    decode = per_seq = low = high = None
    if new_tokens > 0:
        decode = min(sequences / step_s, sol)
        per_seq = decode / sequences
        low = decode * c.decode_band[0]
        if w.weight_bytes_all_experts > w.weight_bytes * 1.01:
            # MoE: measured runtimes land between the active-bytes and full-bytes bounds.
            full_step = step_s + c.decode["weights"] * (w.weight_bytes_all_experts - w.weight_bytes) / (
                devices_bw)
            low = min(low, sequences / full_step)
        high = min(decode * c.decode_band[1], sol)

    # Prefill: time to process every sequence's prompt.
    prefill = p_low = p_high = None
    prefill_s = 0.0
    prefill_compute_util = 0.0
    prefill_compute_time = prefill_memory_time = 0.0
    if prompt_tokens > 0:
        pf = prefill_features(w, prompt_tokens=prompt_tokens, compute_flops_per_s=flops,
                              bandwidth_bytes_per_s=bw, sequences=sequences,
                              ubatch_tokens=ubatch_tokens)
        prefill_s = weighted_time_s(pf, c.prefill)
        if tensor:
            ubatches = math.ceil(prompt_tokens * sequences / ubatch_tokens)
            prefill_s = prefill_s / gpu_count + ubatches * allreduce_s(ubatch_tokens)
        elif gpu_count > 1:
            prefill_s *= pipeline_factor(prompt_tokens=prompt_tokens, gpu_count=gpu_count,
                                         efficiency_frac=c.pipeline_efficiency_frac,
                                         ubatch_tokens=ubatch_tokens)
        if offloaded_frac > 0:
            ubatches = math.ceil(prompt_tokens * sequences / ubatch_tokens)
            prefill_s += ubatches * offloaded_frac * w.weight_bytes_all_experts / (
                gb_per_s_to_bytes_per_s(host_link_gb_per_s))
        tokens = prompt_tokens * sequences
        prefill = tokens / prefill_s
        p_low, p_high = prefill * c.prefill_band[0], prefill * c.prefill_band[1]
        prefill_compute_util = min(1.0, pf["compute"] / prefill_s)
        # Each of the GPUs holds 1/N of every layer (tensor) or of the layers (layer split).
        busy_s = (c.prefill["compute"] * pf["compute"]
                  + c.prefill.get("attention", 0.0) * pf["attention"]) / gpu_count
        stream_s = c.prefill.get("ubatch_weights", 0.0) * pf["ubatch_weights"] / gpu_count
        prefill_compute_time = min(1.0, busy_s / prefill_s)
        prefill_memory_time = min(1.0 - prefill_compute_time, stream_s / prefill_s)
    first_step = step_s if new_tokens > 0 else 0.0
    ttft = prefill_s + first_step
    total = prefill_s + (new_tokens * step_s)
    return SpeedEstimate(
        decode_tokens_per_s=decode, decode_tokens_per_s_low=low, decode_tokens_per_s_high=high,
        decode_tokens_per_s_per_sequence=per_seq,
        decode_speed_of_light_tokens_per_s=sol if new_tokens > 0 else None,
        prefill_tokens_per_s=prefill, prefill_tokens_per_s_low=p_low,
        prefill_tokens_per_s_high=p_high, ttft_s=ttft, total_time_s=total,
        calibrated=c.calibrated, basis=c.basis,
        decode_memory_util_frac=min(1.0, (bytes_per_step * (1 - offloaded_frac) / devices_bw) / step_s),
        decode_compute_util_frac=min(1.0, (2.0 * w.active_params * sequences / flops) / step_s),
        prefill_compute_util_frac=prefill_compute_util,
        prefill_compute_time_frac=prefill_compute_time,
        prefill_memory_time_frac=prefill_memory_time)
