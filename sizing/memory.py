"""Memory on the device: weights, KV cache, compute buffers, overhead, fit.

Total = weights + KV cache + activations/compute buffers + runtime overhead,
checked against the memory the runtime can actually use on each device.
"Does not fit" is a result, not an exception. Formulas and sources:
docs/model.md, Memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from catalog.schema import Gpu, ModelArch, Quant, Runtime, Segment, Vendor
from sizing.architecture import param_breakdown
from sizing.units import gib_to_bytes, mib_to_bytes
from sizing.vision import encoder_weight_bytes

SplitMode = Literal["layer", "tensor"]

# llama.cpp compute-buffer rule: (context/1024 x 2 + 0.75) x attention heads MiB.
# Empirical rule (docs/model.md, Memory; as in
# https://github.com/pandora-s-git/LLMVRAMCalculator); the first term is the attention-score
# tensor of one 512-token micro-batch (512 x context x heads x 4 bytes).
LLAMA_CPP_BUFFER_MIB_PER_HEAD_PER_1K_CONTEXT = 2.0
LLAMA_CPP_BUFFER_MIB_PER_HEAD = 0.75

# macOS lets the GPU wire only part of unified memory (Metal's
# recommendedMaxWorkingSetSize). Measured: 10.67 GB on a 16 GB M4
# (https://github.com/exo-explore/exo/pull/1672), about 75 % on mid-size
# machines (https://github.com/gpustack/gpustack/issues/1375), and 107.52 GiB
# on 128 GiB M5 Max / M3 Ultra hosts, i.e. all but 20.48 GiB
# (https://github.com/antirez/ds4/pull/893).
APPLE_WIRED_FRAC_SMALL = 0.67
APPLE_WIRED_FRAC_LARGE = 0.75
APPLE_LARGE_MEMORY_GIB = 36.0
APPLE_RESERVED_GIB_HUGE = 20.48  # above 96 GiB the OS keeps a fixed reserve
APPLE_HUGE_MEMORY_GIB = 96.0

# Activation peak of eager/paged runtimes, per token in one forward pass, in
# units of (hidden size) and (intermediate size) fp16 elements: residual,
# normed input, q/k/v and attention output (about 4 x hidden) and the gated
# MLP's gate, up and product (about 3 x intermediate). Checked against the
# transformers rows of benchmarks/data/memory.csv in tests/test_memory.py.
ACTIVATION_HIDDEN_MULTIPLE = 4.0
ACTIVATION_INTERMEDIATE_MULTIPLE = 3.0
ACTIVATION_BYTES_PER_ELEMENT = 2.0


@dataclass(frozen=True)
class WeightBytes:
    """Bytes of the model's weights by where they live. [B]"""

    device_bytes: float  # on the GPU(s)
    host_bytes: float  # kept in system RAM by the runtime (embedding tables)
    file_bytes: float  # size of the checkpoint on disk
    active_bytes: float  # read from device memory per generated token (MoE: routed subset)
    active_bytes_max: float  # the same if every expert were read (full-bytes bound)


def weight_bytes(arch: ModelArch, quant: Quant, *, embeddings_on_host: bool = False) -> WeightBytes:
    """Weights at a quant's effective bits, embedding and head at their own types. [B]

    A model read from its files (``arch.file_weights``) in its own format has
    its exact tensor bytes instead. A vision-language model's encoder and
    projector sit on the device too, at 16 bits unless read from the file; they
    are not read per generated token.
    """
    parts = param_breakdown(arch)
    exact = arch.file_weights if arch.file_weights and arch.file_weights.quant == quant.id else None
    if exact is not None:
        body, experts = exact.body_bytes, exact.expert_bytes
        experts_active = (experts * parts.routed_experts_active / parts.routed_experts
                          if parts.routed_experts else 0.0)
        embedding, output = exact.embedding_bytes, exact.output_bytes
    else:
        expert_bits = quant.expert_bits_per_weight or quant.body_bits_per_weight
        body = parts.body * quant.body_bits_per_weight / 8.0
        experts = parts.routed_experts * expert_bits / 8.0
        experts_active = parts.routed_experts_active * expert_bits / 8.0
        if arch.tie_word_embeddings:
            # One shared table, stored at the head's type (llama.cpp quantizes a
            # tied embedding as the output tensor).
            embedding = parts.embedding * quant.output_bits_per_weight / 8.0
            output = 0.0
        else:
            embedding = parts.embedding * quant.embedding_bits_per_weight / 8.0
            output = parts.output * quant.output_bits_per_weight / 8.0
    vision = vision_weight_bytes(arch)
    file_bytes = body + experts + embedding + output + vision
    if embeddings_on_host:
        host = embedding
        # A tied table is also needed on the device as the output head.
        device = file_bytes - embedding + (embedding if arch.tie_word_embeddings else 0.0)
    else:
        host = 0.0
        device = file_bytes
    head = embedding if arch.tie_word_embeddings else output
    active = body + experts_active + head
    active_max = body + experts + head
    return WeightBytes(device, host, file_bytes, active, active_max)


def vision_weight_bytes(arch: ModelArch) -> float:
    """Bytes of a vision-language model's encoder and projector (0 for text only). [B]"""
    if arch.file_weights is not None and arch.file_weights.projector_bytes is not None:
        return arch.file_weights.projector_bytes
    return encoder_weight_bytes(arch.vision) if arch.vision is not None else 0.0


def kv_cache_bytes(*, num_layers: int, num_kv_heads: int, head_dim: int,
                   context_tokens: int, sequences: int, bytes_per_element: float) -> float:
    """Memory held by the attention key/value cache. [B]

    Two tensors (K and V) per layer, each num_kv_heads x head_dim per token.

    >>> kv_cache_bytes(num_layers=32, num_kv_heads=8, head_dim=128,
    ...                context_tokens=4096, sequences=1, bytes_per_element=2.0)
    536870912.0
    """
    for name, value in (("num_layers", num_layers), ("num_kv_heads", num_kv_heads),
                        ("head_dim", head_dim), ("sequences", sequences)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if context_tokens < 0:
        raise ValueError(f"context_tokens must be >= 0, got {context_tokens}")
    return float(2 * num_layers * num_kv_heads * head_dim * context_tokens * sequences
                 * bytes_per_element)


def kv_elements_per_token_per_layer(arch: ModelArch) -> int:
    """Cached elements per token in one attention layer.

    Latent attention caches the compressed latent plus the rope key
    (kv_lora_rank + qk_rope_head_dim); otherwise K and V over the KV heads.
    """
    if arch.kv_lora_rank is not None:
        return arch.kv_lora_rank + (arch.qk_rope_head_dim or 0)
    return 2 * arch.num_kv_heads * arch.head_dim


def model_kv_cache_bytes(arch: ModelArch, *, context_tokens: int, sequences: int = 1,
                         bytes_per_element: float = 2.0) -> float:
    """KV cache of a whole model, architecture rules applied. [B]

    Sliding-window layers hold at most the window; recurrent layers hold a
    fixed state per sequence whatever the context; latent attention caches
    the latent only.
    """
    if context_tokens < 0:
        raise ValueError(f"context_tokens must be >= 0, got {context_tokens}")
    if sequences < 1:
        raise ValueError(f"sequences must be at least 1, got {sequences}")
    attention_layers = arch.num_layers - arch.recurrent_layers
    windowed = min(arch.sliding_window_layers, attention_layers)
    full = attention_layers - windowed
    window = arch.sliding_window_tokens or context_tokens
    token_layers = full * context_tokens + windowed * min(context_tokens, window)
    per_token = kv_elements_per_token_per_layer(arch) * bytes_per_element
    state = arch.recurrent_layers * arch.recurrent_state_bytes_per_layer
    return float((token_layers * per_token + state) * sequences)


def kv_bytes_per_token(arch: ModelArch, *, bytes_per_element: float = 2.0) -> float:
    """KV bytes one more token of context adds (full-attention layers only). [B]"""
    attention_layers = arch.num_layers - arch.recurrent_layers
    full = attention_layers - min(arch.sliding_window_layers, attention_layers)
    return float(full * kv_elements_per_token_per_layer(arch) * bytes_per_element)


def compute_buffer_bytes(arch: ModelArch, runtime: Runtime, *, context_tokens: int,
                         sequences: int, prompt_tokens: int) -> float:
    """Activations and scratch buffers of one forward pass, per device. [B]"""
    if runtime.compute_buffer == "llama-cpp":
        total_context = max(context_tokens * sequences, 1)
        mib = (total_context / 1024.0 * LLAMA_CPP_BUFFER_MIB_PER_HEAD_PER_1K_CONTEXT
               + LLAMA_CPP_BUFFER_MIB_PER_HEAD) * arch.num_attention_heads
        return mib_to_bytes(mib)
    pass_tokens = min(max(prompt_tokens, 1) * sequences, runtime.micro_batch_tokens)
    width = (ACTIVATION_HIDDEN_MULTIPLE * arch.hidden_size
             + ACTIVATION_INTERMEDIATE_MULTIPLE * (arch.moe_intermediate_size
                                                  if arch.is_moe and arch.moe_intermediate_size
                                                  else arch.intermediate_size))
    return float(pass_tokens * width * ACTIVATION_BYTES_PER_ELEMENT)


def logits_bytes(arch: ModelArch, runtime: Runtime, *, prompt_tokens: int, sequences: int) -> float:
    """Device memory for output logits. [B]"""
    if runtime.logits == "whole-prompt":
        rows = max(prompt_tokens, 1) * sequences
    elif runtime.logits == "micro-batch":
        rows = sequences
    else:
        return 0.0  # last-token logits live in host memory (llama.cpp output buffer)
    return float(rows * arch.vocab_size * runtime.logits_bytes_per_element)


def apple_wired_frac(memory_gib: float) -> float:
    """Share of a Mac's unified memory the GPU may wire by default. [fraction]

    >>> apple_wired_frac(16), apple_wired_frac(64), round(apple_wired_frac(128), 2)
    (0.67, 0.75, 0.84)
    """
    if memory_gib <= APPLE_LARGE_MEMORY_GIB:
        return APPLE_WIRED_FRAC_SMALL
    if memory_gib <= APPLE_HUGE_MEMORY_GIB:
        return APPLE_WIRED_FRAC_LARGE
    return max(APPLE_WIRED_FRAC_LARGE, 1.0 - APPLE_RESERVED_GIB_HUGE / memory_gib)


def unified_memory(gpu: Gpu) -> bool:
    """Whether the GPU shares one memory with the CPU (an Apple or other SoC). [bool]

    Such a machine has no system RAM apart from the GPU's to offload layers to.
    """
    return gpu.memory_type.lower().startswith("lpddr") or gpu.segment == Segment.UNIFIED


def usable_bytes_per_device(gpu: Gpu, runtime: Runtime) -> float:
    """Memory the runtime may use on one device. [B]

    Apple unified memory: the GPU may wire only part of RAM. Preallocating
    runtimes (vLLM, SGLang) claim a fixed fraction of the card.
    """
    capacity = gib_to_bytes(gpu.memory_gib)
    if gpu.vendor is Vendor.APPLE:
        capacity *= apple_wired_frac(gpu.memory_gib)
    if runtime.memory_policy == "preallocate":
        capacity *= runtime.gpu_memory_frac
    return capacity


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory needed and available, summed over devices. [B]"""

    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    overhead_bytes: float
    total_bytes: float
    usable_bytes: float
    fits: bool
    offloaded_bytes: float  # bytes that must live in system RAM to run at all
    host_weights_bytes: float  # weights the runtime keeps in RAM by design
    gpu_layers: int  # layers resident on the GPU(s)
    num_layers: int
    devices: int
    per_device_total_bytes: float
    per_device_usable_bytes: float
    file_bytes: float
    kv_bytes_per_token: float
    kv_capacity_tokens: int | None  # preallocating runtimes: KV tokens the pool holds
    max_concurrent_sequences: int | None
    offload_possible: bool = True  # the runtime can keep layers in system RAM

    @property
    def headroom_bytes(self) -> float:
        return self.usable_bytes - self.total_bytes

    @property
    def verdict(self) -> str:
        if self.fits:
            return "fits"
        if self.offload_possible and self.offloaded_bytes > 0 and self.gpu_layers > 0:
            return "fits-with-offload"
        return "does-not-fit"


@dataclass(frozen=True)
class MemoryDemand:
    """What a scenario needs on each of ``gpu_count`` devices, whatever the device. [B]"""

    weights: WeightBytes
    kv_cache_bytes: float  # every sequence, summed over the devices
    per_device_act_bytes: float  # compute buffers, logits, workspace, cache copies
    per_device_overhead_bytes: float  # the runtime's fixed overhead and safety margin
    per_device_total_bytes: float


def memory_demand(arch: ModelArch, quant: Quant, runtime: Runtime, *,
                  context_tokens: int, prompt_tokens: int, sequences: int = 1,
                  kv_bytes_per_element: float = 2.0, gpu_count: int = 1,
                  split: SplitMode = "layer", new_tokens: int = 1,
                  encoder_activation_bytes: float = 0.0,
                  weights: WeightBytes | None = None) -> MemoryDemand:
    """The device-independent half of :func:`estimate_memory`. [B]

    Activations include the transient extra cache copies of runtimes that
    reallocate a growing cache while decoding (``decode_kv_copies``), and a
    vision encoder's buffer for one image (``encoder_activation_bytes``; the
    encoder keeps its own compute buffer beside the language model's).
    ``weights``: :func:`weight_bytes` of the same model, quant and runtime, when
    already worked out (a search over contexts).
    """
    if gpu_count < 1:
        raise ValueError(f"gpu_count must be at least 1, got {gpu_count}")
    if weights is None:
        weights = weight_bytes(arch, quant, embeddings_on_host=runtime.embeddings_on_host)
    kv = model_kv_cache_bytes(arch, context_tokens=context_tokens, sequences=sequences,
                              bytes_per_element=kv_bytes_per_element)
    per_device_act = compute_buffer_bytes(arch, runtime, context_tokens=context_tokens,
                                          sequences=sequences, prompt_tokens=prompt_tokens)
    per_device_act += logits_bytes(arch, runtime, prompt_tokens=prompt_tokens, sequences=sequences)
    if quant.kind == "int-quant":
        per_device_act += gib_to_bytes(runtime.quant_workspace_gib)
    if split == "tensor" and gpu_count > 1:
        per_device_act /= gpu_count ** 0.5  # activations shard partly across ranks
    if new_tokens > 1 and runtime.decode_kv_copies > 1:
        per_device_act += kv * (runtime.decode_kv_copies - 1) / gpu_count
    per_device_act += encoder_activation_bytes
    per_device_overhead = gib_to_bytes(runtime.fixed_overhead_gib + runtime.safety_margin_gib)
    per_device_total = (weights.device_bytes + kv) / gpu_count + per_device_act + per_device_overhead
    return MemoryDemand(weights=weights, kv_cache_bytes=kv, per_device_act_bytes=per_device_act,
                        per_device_overhead_bytes=per_device_overhead,
                        per_device_total_bytes=per_device_total)


def estimate_memory(arch: ModelArch, quant: Quant, gpu: Gpu, runtime: Runtime, *,
                    context_tokens: int, prompt_tokens: int, sequences: int = 1,
                    kv_bytes_per_element: float = 2.0, gpu_count: int = 1,
                    split: SplitMode = "layer", new_tokens: int = 1,
                    encoder_activation_bytes: float = 0.0,
                    demand: MemoryDemand | None = None) -> MemoryEstimate:
    """Memory for one scenario on ``gpu_count`` identical devices
    (:func:`memory_demand` against the memory one device offers). ``demand``: that
    half when already worked out for the same scenario on another GPU."""
    if demand is None:
        demand = memory_demand(arch, quant, runtime, context_tokens=context_tokens,
                               prompt_tokens=prompt_tokens, sequences=sequences,
                               kv_bytes_per_element=kv_bytes_per_element, gpu_count=gpu_count,
                               split=split, new_tokens=new_tokens,
                               encoder_activation_bytes=encoder_activation_bytes)
    weights, kv = demand.weights, demand.kv_cache_bytes
    per_device_act = demand.per_device_act_bytes
    per_device_overhead = demand.per_device_overhead_bytes
    per_device_total = demand.per_device_total_bytes
    per_device_usable = usable_bytes_per_device(gpu, runtime)
    total = per_device_total * gpu_count
    usable = per_device_usable * gpu_count
    fits = per_device_total <= per_device_usable
    offload = runtime.supports_offload and not unified_memory(gpu)
    offloaded = 0.0
    gpu_layers = arch.num_layers
    if not fits:
        per_layer = (weights.device_bytes + kv) / arch.num_layers
        room = usable - gpu_count * (per_device_act + per_device_overhead)
        gpu_layers = max(0, min(arch.num_layers, int(room // per_layer))) if per_layer > 0 else 0
        if offload:
            offloaded = (arch.num_layers - gpu_layers) * per_layer
        else:
            offloaded = total - usable
    kv_token = kv_bytes_per_token(arch, bytes_per_element=kv_bytes_per_element)
    capacity = concurrent = None
    if runtime.memory_policy == "preallocate":
        pool = usable - (weights.device_bytes + gpu_count * (per_device_act + per_device_overhead))
        capacity = max(0, int(pool // kv_token)) if kv_token > 0 else None
        if capacity is not None:
            per_sequence = max(model_kv_cache_bytes(arch, context_tokens=context_tokens,
                                                    bytes_per_element=kv_bytes_per_element), 1.0)
            concurrent = max(0, math.floor(max(pool, 0.0) / per_sequence))
    return MemoryEstimate(
        weights_bytes=weights.device_bytes,
        kv_cache_bytes=kv,
        activations_bytes=per_device_act * gpu_count,
        overhead_bytes=per_device_overhead * gpu_count,
        total_bytes=total,
        usable_bytes=usable,
        fits=fits,
        offloaded_bytes=offloaded,
        host_weights_bytes=weights.host_bytes,
        gpu_layers=gpu_layers,
        num_layers=arch.num_layers,
        devices=gpu_count,
        per_device_total_bytes=per_device_total,
        per_device_usable_bytes=per_device_usable,
        file_bytes=weights.file_bytes,
        kv_bytes_per_token=kv_token,
        kv_capacity_tokens=capacity,
        max_concurrent_sequences=concurrent,
        offload_possible=offload,
    )
