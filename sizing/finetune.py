"""Fine-tuning on one or more GPUs: memory per GPU and time per step.

Memory is the sum of the model states (weights, trainable parameters'
gradients, fp32 master weights, optimizer states) and the residual states
(activations, logits and loss buffers, the CUDA context), each divided over
the GPUs as the sharding says (Rajbhandari et al. 2020, ZeRO: 2 + 2 + K bytes
per parameter, K = 12 for mixed-precision Adam). Every constant is explained
in docs/model.md, Fine-tuning.

Time per step is in :mod:`sizing.finetune_time`; the search for what fits
(largest micro-batch, longest sequence, what would make it fit) in
:mod:`sizing.finetune_fit`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from catalog.schema import Gpu, ModelArch, Vendor
from sizing.architecture import moe_layer_count, param_breakdown
from sizing.finetune_methods import METHODS, Method
from sizing.memory import apple_wired_frac
from sizing.units import gib_to_bytes

Sharding = Literal["ddp", "fsdp", "zero2", "zero3"]
Optimizer = Literal["adamw", "adamw-8bit", "paged-adamw-8bit", "adafactor", "sgd"]
LoraTargets = Literal["attention", "all-linear"]
Checkpointing = Literal["on", "off", "offload"]
Offload = Literal["none", "optimizer", "parameters"]
Precision = Literal["mixed", "bf16"]
Loss = Literal["standard", "chunked", "fused"]

SHARDINGS: tuple[Sharding, ...] = ("ddp", "fsdp", "zero2", "zero3")
OPTIMIZERS: tuple[Optimizer, ...] = ("adamw", "adamw-8bit", "paged-adamw-8bit", "adafactor", "sgd")
LORA_TARGETS: tuple[LoraTargets, ...] = ("attention", "all-linear")
CHECKPOINTING: tuple[Checkpointing, ...] = ("on", "off", "offload")
OFFLOADS: tuple[Offload, ...] = ("none", "optimizer", "parameters")
PRECISIONS: tuple[Precision, ...] = ("mixed", "bf16")
LOSSES: tuple[Loss, ...] = ("standard", "chunked", "fused")

MAX_LORA_RANK = 4096
MAX_SEQ_LEN = 1_048_576
MAX_MICRO_BATCH = 4096
MAX_GRAD_ACCUM = 65_536
MAX_GPUS = 16
MAX_LAYERS = 1000

BF16_BYTES = 2.0
FP32_BYTES = 4.0
# bitsandbytes NF4 with double quantization: 4 bits per weight, an 8-bit
# absmax per 64-weight block, and an fp32 constant per 256 of those blocks:
# 4 + 8/64 + 32/(64 x 256) = 4.127 bits (Dettmers et al. 2023, QLoRA, section 3).
NF4_DOUBLE_QUANT_BITS = 4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0)
# Optimizer state per trainable parameter when the states are fp32 (mixed
# precision): AdamW two moments, SGD one momentum; bitsandbytes 8-bit AdamW
# keeps both moments in one byte each (Dettmers et al. 2022, 8-bit optimizers;
# Hugging Face, "Model training anatomy"). Pure bf16 training keeps torch's
# AdamW and SGD states in the parameters' dtype, half these.
OPTIMIZER_STATE_BYTES_FP32 = {"adamw": 8.0, "adamw-8bit": 2.0, "paged-adamw-8bit": 2.0, "sgd": 4.0}
# Saved activations per token and layer in elements, for a Llama-style block
# with flash attention and no dropout: the inputs of both norms and of the
# attention and MLP projections (4 x hidden), the query, key, value and
# attention output that flash attention keeps (2 x heads x head_dim +
# 2 x kv_heads x head_dim), and the gate, up, activation and product tensors
# of a gated MLP (4 x intermediate). Korthikanti et al. 2022 count 34 x hidden
# bytes for a GPT block with flash attention and dropout; for a 4x-wide
# non-gated MLP this count gives 32 x hidden bytes.
ACT_HIDDEN_TENSORS = 4
ACT_INTERMEDIATE_TENSORS = 4
# Bytes per vocabulary logit and token held for the loss. Standard
# (Hugging Face Trainer): bf16 logits, their fp32 copy, the fp32 log-softmax
# saved for backward, its fp32 gradient and the bf16 gradient: 2+4+4+4+2 = 16.
# Chunked (torchtune CEWithChunkedOutputLoss, 8 chunks): the bf16 logits in
# full (each chunk's bf16 gradient replaces it as backward consumes it) and
# one chunk's fp32 copy, log-softmax and gradient: 2 + 12/8 = 3.5. Fused
# (Unsloth, Liger: linear layer and loss computed chunk by chunk): no
# full-size logits, 0.
LOSS_BYTES_PER_LOGIT = {"standard": 16.0, "chunked": 3.5, "fused": 0.0}
# CUDA context and cuBLAS/cuDNN workspaces per GPU, outside the allocator's
# counters: the inference runtimes' 0.35-0.75 GiB (catalog/runtimes.yaml).
CUDA_CONTEXT_GIB = 0.5
# ZeRO-3 / FSDP gather one layer's full weights before use and prefetch the next.
GATHERED_LAYERS = 2


@dataclass(frozen=True)
class FinetuneSetup:
    """How a model is fine-tuned: method, optimizer, shapes and parallelism."""

    method: Method = "lora"
    optimizer: Optimizer = "adamw"
    lora_rank: int = 16
    lora_targets: LoraTargets = "all-linear"
    dora: bool = False
    seq_len: int = 2048  # tokens per sequence
    micro_batch: int = 1  # sequences per GPU per forward pass
    grad_accum: int = 1  # micro-batches per optimizer step
    gradient_checkpointing: Checkpointing = "on"
    gpu_count: int = 1
    sharding: Sharding = "ddp"
    offload: Offload = "none"
    precision: Precision = "mixed"
    loss: Loss = "standard"
    optimizer_in_backward: bool = False  # step each layer during backward; no gradient buffer
    # Freezing, for full fine-tuning: the bottom layers and the embedding and head.
    frozen_layers: int = 0
    freeze_embeddings: bool = False

    def __post_init__(self) -> None:
        _check_choice("method", self.method, METHODS)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("lora_targets", self.lora_targets, LORA_TARGETS)
        _check_choice("gradient_checkpointing", self.gradient_checkpointing, CHECKPOINTING)
        _check_choice("sharding", self.sharding, SHARDINGS)
        _check_choice("offload", self.offload, OFFLOADS)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("loss", self.loss, LOSSES)
        for name, value, high in (("lora_rank", self.lora_rank, MAX_LORA_RANK),
                                  ("seq_len", self.seq_len, MAX_SEQ_LEN),
                                  ("micro_batch", self.micro_batch, MAX_MICRO_BATCH),
                                  ("grad_accum", self.grad_accum, MAX_GRAD_ACCUM),
                                  ("gpu_count", self.gpu_count, MAX_GPUS)):
            if not isinstance(value, int) or not 1 <= value <= high:
                raise ValueError(f"{name} must be a whole number from 1 to {high:,} (got {value})")
        if not isinstance(self.frozen_layers, int) or not 0 <= self.frozen_layers <= MAX_LAYERS:
            raise ValueError(f"frozen_layers must be a whole number from 0 to {MAX_LAYERS:,} "
                             f"(got {self.frozen_layers})")
        if self.method != "full" and (self.frozen_layers or self.freeze_embeddings):
            raise ValueError("frozen_layers and freeze_embeddings apply to full fine-tuning "
                             "(LoRA and QLoRA already freeze the whole base)")
        if self.offload == "parameters" and not self.shards_weights:
            raise ValueError("offload 'parameters' needs sharding fsdp or zero3 "
                             "(parameter offload moves the weight shards)")

    @property
    def shards_weights(self) -> bool:
        return self.sharding in ("fsdp", "zero3")

    @property
    def shards_states(self) -> bool:
        return self.sharding != "ddp"

    @property
    def tokens_per_micro_batch(self) -> int:
        return self.seq_len * self.micro_batch

    def with_(self, **changes: object) -> FinetuneSetup:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")


@dataclass(frozen=True)
class LinearShape:
    """One weight matrix of a layer: its input and output widths and how many. [count]"""

    name: str
    in_features: int
    out_features: int
    count: float  # matrices of this shape in the whole model
    attention: bool

    @property
    def params(self) -> float:
        return float(self.in_features * self.out_features) * self.count


def linear_shapes(arch: ModelArch) -> tuple[LinearShape, ...]:
    """The projection matrices of the model's layers (embedding and head excluded).

    Attention: query, key, value and output projections. MLP: gate, up and
    down of every dense layer, and of every routed and shared expert in the
    layers that carry experts.
    """
    h, layers = arch.hidden_size, arch.num_layers
    q_width = arch.num_attention_heads * arch.head_dim
    kv_width = arch.num_kv_heads * arch.head_dim
    shapes = [LinearShape("q_proj", h, q_width, layers, True),
              LinearShape("k_proj", h, kv_width, layers, True),
              LinearShape("v_proj", h, kv_width, layers, True),
              LinearShape("o_proj", q_width, h, layers, True)]
    moe_layers = moe_layer_count(arch)
    dense_layers = layers - moe_layers
    if dense_layers:
        for name in ("gate_proj", "up_proj"):
            shapes.append(LinearShape(name, h, arch.intermediate_size, dense_layers, False))
        shapes.append(LinearShape("down_proj", arch.intermediate_size, h, dense_layers, False))
    if moe_layers:
        width = arch.moe_intermediate_size or arch.intermediate_size
        experts = moe_layers * ((arch.num_experts or 0) + arch.num_shared_experts)
        for name in ("expert_gate_proj", "expert_up_proj"):
            shapes.append(LinearShape(name, h, width, experts, False))
        shapes.append(LinearShape("expert_down_proj", width, h, experts, False))
    return tuple(shapes)


def lora_targets_of(arch: ModelArch, targets: LoraTargets) -> tuple[LinearShape, ...]:
    """The matrices that get adapters: attention only, or every linear layer."""
    return tuple(s for s in linear_shapes(arch) if s.attention or targets == "all-linear")


def lora_param_count(arch: ModelArch, *, rank: int, targets: LoraTargets, dora: bool = False) -> float:
    """Trainable adapter parameters: rank x (in + out) per target, plus DoRA's
    magnitude vector (one value per output row). [count]

    Hu et al. 2021 (LoRA): W + BA with A (rank x in) and B (out x rank);
    Liu et al. 2024 (DoRA) adds a magnitude per output feature.

    >>> from catalog.catalog import load_catalog
    >>> arch = load_catalog().model("llama-3.1-8b")
    >>> lora_param_count(arch, rank=16, targets="all-linear")
    41943040.0
    """
    total = 0.0
    for s in lora_targets_of(arch, targets):
        total += rank * (s.in_features + s.out_features) * s.count
        if dora:
            total += s.out_features * s.count
    return total


def trained_layers(arch: ModelArch, setup: FinetuneSetup) -> int:
    """Layers that backward runs through: all but the frozen bottom ones. [count]"""
    if setup.frozen_layers >= arch.num_layers:
        raise ValueError(f"frozen_layers ({setup.frozen_layers}) must be fewer than the model's "
                         f"{arch.num_layers} layers")
    return arch.num_layers - setup.frozen_layers


def trainable_param_count(arch: ModelArch, setup: FinetuneSetup) -> float:
    """Parameters the optimizer updates. [count]

    Full fine-tuning trains every weight but those frozen: the bottom
    ``frozen_layers`` layers' share of the body and, with
    ``freeze_embeddings``, the embedding and head.
    """
    if setup.method == "full":
        parts = param_breakdown(arch)
        tables = parts.embedding + parts.output
        body = (arch.params_total - tables) * trained_layers(arch, setup) / arch.num_layers
        return body + (0.0 if setup.freeze_embeddings else tables)
    return lora_param_count(arch, rank=setup.lora_rank, targets=setup.lora_targets, dora=setup.dora)


def optimizer_state_bytes(*, trainable_params: float, optimizer: Optimizer,
                          precision: Precision = "mixed",
                          factored_rows_cols: float = 0.0) -> float:
    """Optimizer state for ``trainable_params`` parameters. [B]

    AdamW 8 bytes, 8-bit AdamW 2, SGD with momentum 4 per parameter in fp32
    (pure bf16 halves AdamW and SGD, whose states follow the parameters'
    dtype). Adafactor keeps only row and column sums of the second moment
    (Shazeer & Stern 2018): 4 bytes x (rows + cols) of every matrix,
    ``factored_rows_cols``.

    >>> optimizer_state_bytes(trainable_params=8e9, optimizer="adamw")
    64000000000.0
    """
    if optimizer == "adafactor":
        return FP32_BYTES * factored_rows_cols
    per_param = OPTIMIZER_STATE_BYTES_FP32[optimizer]
    if precision == "bf16" and optimizer in ("adamw", "sgd"):
        per_param /= 2.0
    return trainable_params * per_param


def _factored_rows_cols(arch: ModelArch, setup: FinetuneSetup) -> float:
    """Rows + columns of every trainable matrix (Adafactor's factored state). [count]"""
    if setup.method == "full":
        body = sum((s.in_features + s.out_features) * s.count for s in linear_shapes(arch))
        body *= trained_layers(arch, setup) / arch.num_layers
        tables = 0 if setup.freeze_embeddings else 1 if arch.tie_word_embeddings else 2
        return body + tables * (arch.vocab_size + arch.hidden_size)
    r = setup.lora_rank
    return sum((s.in_features + 2 * r + s.out_features) * s.count
               for s in lora_targets_of(arch, setup.lora_targets))


def activation_elements_per_token_layer(arch: ModelArch) -> float:
    """Saved activations of one layer for one token, without checkpointing. [elements]"""
    q_width = arch.num_attention_heads * arch.head_dim
    kv_width = arch.num_kv_heads * arch.head_dim
    if arch.is_moe and arch.moe_intermediate_size:
        mlp_width = arch.moe_intermediate_size * ((arch.num_experts_per_token or 1)
                                                  + arch.num_shared_experts)
    else:
        mlp_width = arch.intermediate_size
    return (ACT_HIDDEN_TENSORS * arch.hidden_size + 2 * q_width + 2 * kv_width
            + ACT_INTERMEDIATE_TENSORS * mlp_width)


def activation_bytes(arch: ModelArch, setup: FinetuneSetup) -> tuple[float, float]:
    """Activations held on one GPU and in host memory during a micro-batch. [B]

    Without checkpointing every layer keeps its saved tensors. With it, each
    layer keeps only its input (hidden x 2 bytes per token) and one layer's
    tensors exist at a time during recompute. Offloaded checkpointing
    (Unsloth) moves those layer inputs to host memory, keeping two in flight.
    DoRA also keeps the adapted layers' outputs for the magnitude scaling.
    The adapters' own rank-wide intermediates (rank per adapted matrix and
    token, 0.5 % of a Llama layer's activations at rank 64) are left out, so
    LoRA never needs more activation memory than full fine-tuning, which
    saves the same layer inputs. Returns (device, host).
    """
    tokens = float(setup.tokens_per_micro_batch)
    per_layer = activation_elements_per_token_layer(arch)
    if setup.method != "full" and setup.dora:
        targets = lora_targets_of(arch, setup.lora_targets)
        per_layer += sum(s.out_features * s.count for s in targets) / arch.num_layers
    layer_bytes = tokens * per_layer * BF16_BYTES
    checkpoint_bytes = tokens * arch.hidden_size * BF16_BYTES
    layers = trained_layers(arch, setup)  # frozen bottom layers save nothing for backward
    if setup.gradient_checkpointing == "off":
        return layers * layer_bytes, 0.0
    if setup.gradient_checkpointing == "on":
        return layers * checkpoint_bytes + layer_bytes, 0.0
    return 2 * checkpoint_bytes + layer_bytes, layers * checkpoint_bytes


def loss_bytes(arch: ModelArch, setup: FinetuneSetup) -> float:
    """Logits and cross-entropy buffers of one micro-batch. [B]

    ``tokens x vocabulary x bytes per logit`` (LOSS_BYTES_PER_LOGIT): with a
    128k vocabulary the standard loss holds about 2 MB per token.
    """
    return setup.tokens_per_micro_batch * arch.vocab_size * LOSS_BYTES_PER_LOGIT[setup.loss]


@dataclass(frozen=True)
class FinetuneMemory:
    """Memory of one GPU while fine-tuning, and what lives in host RAM. [B]"""

    weights_bytes: float  # base/working weights (bf16, or NF4 for QLoRA) and adapters
    trainable_params: float  # [count], whole model
    gradients_bytes: float
    master_weights_bytes: float  # fp32 copy under mixed precision
    optimizer_bytes: float
    activations_bytes: float  # saved activations, logits and loss buffers
    overhead_bytes: float  # CUDA context and workspaces
    total_bytes: float
    usable_bytes: float  # one GPU's memory
    host_bytes: float  # offloaded states and checkpoints in system RAM, whole machine
    gpu_count: int
    # Paged optimizer states on the GPU (part of optimizer_bytes): unified memory,
    # which PyTorch's allocator counters (peak reserved) leave out.
    paged_bytes: float = 0.0

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.usable_bytes

    @property
    def headroom_bytes(self) -> float:
        return self.usable_bytes - self.total_bytes


def usable_gpu_bytes(gpu: Gpu) -> float:
    """Memory one GPU offers to training: the card, or the part of a Mac's RAM
    its GPU may wire. [B]"""
    capacity = gib_to_bytes(gpu.memory_gib)
    if gpu.vendor is Vendor.APPLE:
        capacity *= apple_wired_frac(gpu.memory_gib)
    return capacity


def model_weight_bytes(arch: ModelArch, setup: FinetuneSetup) -> float:
    """Weights of the whole model, one copy: base at its training precision plus adapters. [B]"""
    adapters = 0.0 if setup.method == "full" else trainable_param_count(arch, setup)
    return _weight_bytes(arch, setup, adapters)


def _weight_bytes(arch: ModelArch, setup: FinetuneSetup, adapters: float) -> float:
    """Weights of the whole model on one copy: base plus adapters. [B]"""
    adapter_bytes = adapters * (FP32_BYTES if setup.precision == "mixed" else BF16_BYTES)
    if setup.method == "full":
        return arch.params_total * BF16_BYTES
    if setup.method == "lora":
        return arch.params_total * BF16_BYTES + adapter_bytes
    parts = param_breakdown(arch)
    # The embedding and head are not quantized. Under mixed precision they are
    # fp32: PEFT's prepare_model_for_kbit_training (the QLoRA recipe) casts every
    # non-quantized weight to fp32; pure bf16 training keeps them bf16.
    tables = parts.embedding + parts.output
    table_bytes = FP32_BYTES if setup.precision == "mixed" else BF16_BYTES
    return ((arch.params_total - tables) * NF4_DOUBLE_QUANT_BITS / 8.0 + tables * table_bytes
            + adapter_bytes)


def _largest_layer_fraction(arch: ModelArch) -> float:
    """One layer's share of the weights (for gathered or per-layer buffers)."""
    return 1.0 / arch.num_layers


def finetune_memory(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup) -> FinetuneMemory:
    """Memory on each GPU for one fine-tuning setup. [B]

    Model states divide over ``gpu_count`` GPUs as the sharding says
    (ZeRO-2: gradients and optimizer states; ZeRO-3 / FSDP: weights too, plus
    the gathered layers in flight). Offload moves master weights, optimizer
    states and gradients (``optimizer``) and the weight shards
    (``parameters``) to host RAM; a paged optimizer's states spill there
    when the GPU has no room for them. Activations are per GPU: data
    parallelism gives each its own micro-batch.
    """
    n = setup.gpu_count
    trainable = trainable_param_count(arch, setup)
    adapters = 0.0 if setup.method == "full" else trainable
    weights = _weight_bytes(arch, setup, adapters)
    full_mixed = setup.method == "full" and setup.precision == "mixed"
    grad_each = BF16_BYTES if setup.method == "full" or setup.precision == "bf16" else FP32_BYTES
    gradients = trainable * grad_each
    if setup.optimizer_in_backward:
        gradients *= _largest_layer_fraction(arch)
    master = trainable * FP32_BYTES if full_mixed else 0.0
    optimizer = optimizer_state_bytes(trainable_params=trainable, optimizer=setup.optimizer,
                                      precision=setup.precision,
                                      factored_rows_cols=_factored_rows_cols(arch, setup))
    act_device, act_host = activation_bytes(arch, setup)
    act_device += loss_bytes(arch, setup)
    host = act_host * n
    weights_gpu = weights
    if setup.shards_weights and n > 1:
        weights_gpu = weights / n + GATHERED_LAYERS * weights * _largest_layer_fraction(arch)
    if setup.offload == "parameters":
        host += weights
        weights_gpu = GATHERED_LAYERS * weights * _largest_layer_fraction(arch)
    states_divisor = n if setup.shards_states else 1
    gradients_gpu, master_gpu, optimizer_gpu = (gradients / states_divisor, master / states_divisor,
                                                optimizer / states_divisor)
    if setup.offload != "none":
        host += gradients + master + optimizer if setup.shards_states else \
            (gradients + master + optimizer) * n
        gradients_gpu = master_gpu = optimizer_gpu = 0.0
    overhead = gib_to_bytes(CUDA_CONTEXT_GIB)
    usable = usable_gpu_bytes(gpu)
    total = weights_gpu + gradients_gpu + master_gpu + optimizer_gpu + act_device + overhead
    if setup.optimizer == "paged-adamw-8bit" and total > usable and optimizer_gpu > 0:
        # Paged (unified-memory) states move to host RAM page by page under pressure.
        spilled = min(optimizer_gpu, total - usable)
        optimizer_gpu -= spilled
        total -= spilled
        host += spilled * n
    return FinetuneMemory(
        weights_bytes=weights_gpu, trainable_params=trainable, gradients_bytes=gradients_gpu,
        master_weights_bytes=master_gpu, optimizer_bytes=optimizer_gpu,
        activations_bytes=act_device, overhead_bytes=overhead, total_bytes=total,
        usable_bytes=usable, host_bytes=host, gpu_count=n,
        paged_bytes=optimizer_gpu if setup.optimizer == "paged-adamw-8bit" else 0.0)


__all__ = ["FinetuneSetup", "FinetuneMemory", "finetune_memory", "lora_param_count",
           "optimizer_state_bytes", "linear_shapes", "activation_bytes", "loss_bytes",
           "usable_gpu_bytes", "trained_layers", "trainable_param_count", "model_weight_bytes"]
