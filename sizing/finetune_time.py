"""Fine-tuning time: FLOPs per trained token, step time, throughput, dataset time.

Time is training FLOPs over the GPU's dense BF16 throughput at a utilisation
band from published runs, or the weight traffic over the memory bandwidth
where that is longer (docs/model.md, Fine-tuning: Time and cost).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.errors import UserError
from catalog.schema import Gpu, ModelArch
from sizing.architecture import param_breakdown
from sizing.finetune import (BF16_BYTES, FinetuneMemory, FinetuneSetup, model_weight_bytes,
                             trained_layers)
from sizing.units import gb_per_s_to_bytes_per_s, tflops_to_flops

# Share of the dense BF16 peak that training reaches, counting every FLOP run
# (recompute included). llm-foundry's published runs (MPT 1B-70B, FSDP,
# 2k-8k tokens) reach 40-59 % HFU on H100 and 52-75 % on A100
# (github.com/mosaicml/llm-foundry, scripts/train/benchmarking/README.md);
# the band below is their middle half, the middle value its centre.
UTILIZATION_LOW_FRAC = 0.40
UTILIZATION_MID_FRAC = 0.50
UTILIZATION_HIGH_FRAC = 0.60
# Share of the datasheet bandwidth that streaming weights reaches (the
# inference engine's decode band sits at 0.6-0.8).
BANDWIDTH_FRAC = 0.7
# Power drawn while training, as a share of the board power: compute-bound
# kernels run at the power limit (sizing.power: compute share 1.0 -> board power).
TRAINING_POWER_FRAC = 1.0


@dataclass(frozen=True)
class FinetuneTime:
    """Time per optimizer step and for a dataset. [s]"""

    step_s: float
    step_s_low: float  # at the high end of the utilisation band
    step_s_high: float
    tokens_per_s: float  # all GPUs together
    total_s: float | None  # the whole dataset x epochs; None without a dataset
    steps: int | None
    flops_per_token: float  # model FLOPs, recompute excluded [FLOP]
    compute_bound: bool
    gpu_power_w: float  # each GPU while training


def training_flops_per_token(arch: ModelArch, setup: FinetuneSetup) -> tuple[float, float]:
    """Model and hardware FLOPs per trained token. [FLOP]

    Full: 2N forward + 4N backward (input and weight gradients) = 6N
    (Kaplan et al. 2020). LoRA and QLoRA: frozen weights need no weight
    gradient, so 2N + 2N = 4N, adapters negligible. Attention adds
    ``layers x 4 x width x seq`` forward, three times that in all
    (llm-foundry's MFU formula). Checkpointing runs the forward again:
    hardware FLOPs add 2N + the attention forward. Frozen bottom layers run
    forward only; a frozen head skips its weight gradient. Returns (model,
    hardware).
    """
    parts = param_breakdown(arch)
    n_matmul = arch.params_active - parts.embedding
    width = arch.num_attention_heads * arch.head_dim
    attention_forward = arch.num_layers * 4.0 * width * setup.seq_len
    trained = trained_layers(arch, setup) / arch.num_layers
    backward = 4.0 if setup.method == "full" else 2.0
    model = (2.0 + backward * trained) * n_matmul + (1.0 + 2.0 * trained) * attention_forward
    if setup.freeze_embeddings:
        model -= 2.0 * arch.vocab_size * arch.hidden_size
    hardware = model
    if setup.gradient_checkpointing != "off":
        hardware += trained * (2.0 * n_matmul + attention_forward)
    return model, hardware


def dense_bf16_flops(gpu: Gpu) -> float:
    """The GPU's dense BF16 (or FP16 with fp32 accumulate) tensor throughput. [FLOP/s]"""
    tflops = gpu.dense_bf16_tflops or gpu.dense_fp16_fp32acc_tflops or gpu.fp32_tflops
    if not tflops:
        raise UserError(f"{gpu.name} has no published BF16 or FP32 throughput",
                        code="gpu_no_training_flops", params={"gpu": gpu.name})
    return tflops_to_flops(tflops)


def finetune_time(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup, memory: FinetuneMemory, *,
                  dataset_tokens: float | None = None, epochs: float = 1.0) -> FinetuneTime:
    """Step time, throughput and the time for ``dataset_tokens x epochs``. [s]

    Each micro-batch takes the longer of its compute (hardware FLOPs over
    the dense peak x utilisation) and its weight traffic (the whole model's
    weights read once per forward, recompute and backward, plus a bf16 copy written
    and read for every NF4 weight under QLoRA, over the bandwidth); the
    optimizer step then reads and writes the trainable states once.
    """
    if dataset_tokens is not None and not dataset_tokens > 0:
        raise UserError(f"dataset_tokens must be above 0 (got {dataset_tokens})",
                        code="value_not_positive", params={"field": "dataset_tokens",
                                                           "got": f"{dataset_tokens:g}"})
    if not epochs > 0:
        raise UserError(f"epochs must be above 0 (got {epochs})", code="value_not_positive",
                        params={"field": "epochs", "got": f"{epochs:g}"})
    model_flops, hw_flops = training_flops_per_token(arch, setup)
    tokens = float(setup.tokens_per_micro_batch)
    peak = dense_bf16_flops(gpu)
    bandwidth = gb_per_s_to_bytes_per_s(gpu.memory_bandwidth_gb_per_s or 0.0) * BANDWIDTH_FRAC
    passes = 3.0 if setup.gradient_checkpointing != "off" else 2.0
    # Every GPU reads every layer's weights, sharded or not (ZeRO-3 gathers them first).
    traffic = model_weight_bytes(arch, setup) * passes
    if setup.method == "qlora":
        traffic += passes * 2.0 * (arch.params_total * BF16_BYTES)
    memory_s = traffic / bandwidth if bandwidth else 0.0
    state_bytes = memory.gradients_bytes + memory.master_weights_bytes + memory.optimizer_bytes
    update_s = 2.0 * state_bytes / bandwidth if bandwidth else 0.0

    def step_at(utilization: float) -> float:
        compute_s = hw_flops * tokens / (peak * utilization)
        return setup.grad_accum * max(compute_s, memory_s) + update_s

    step = step_at(UTILIZATION_MID_FRAC)
    global_tokens = tokens * setup.grad_accum * setup.gpu_count
    tokens_per_s = global_tokens / step
    total_s = steps = None
    if dataset_tokens is not None:
        steps = max(1, round(dataset_tokens * epochs / global_tokens))
        total_s = dataset_tokens * epochs / tokens_per_s
    compute_bound = hw_flops * tokens / (peak * UTILIZATION_MID_FRAC) >= memory_s
    return FinetuneTime(step_s=step, step_s_low=step_at(UTILIZATION_HIGH_FRAC),
                        step_s_high=step_at(UTILIZATION_LOW_FRAC), tokens_per_s=tokens_per_s,
                        total_s=total_s, steps=steps, flops_per_token=model_flops,
                        compute_bound=compute_bound,
                        gpu_power_w=gpu.board_power_w * TRAINING_POWER_FRAC)


__all__ = ["FinetuneTime", "finetune_time", "training_flops_per_token", "dense_bf16_flops",
           "UTILIZATION_MID_FRAC"]
