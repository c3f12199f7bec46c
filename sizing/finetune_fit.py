"""What fits when fine-tuning: the largest micro-batch and sequence, the
cheapest method, and the changes that would make a setup fit.

Memory grows monotonically with sequence length and micro-batch, so the
largest value that fits is found by bisection over :func:`finetune_memory`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.schema import Gpu, ModelArch
from sizing.finetune import (MAX_GPUS, MAX_GRAD_ACCUM, MAX_MICRO_BATCH, MAX_SEQ_LEN, FinetuneSetup,
                             finetune_memory)
from sizing.notices import Notice


def largest_fitting(fits: Callable[[int], bool], *, high: int) -> int:
    """The largest n in 1..high with ``fits(n)``, for a predicate true up to a
    point and false after it; 0 when even 1 does not fit.

    >>> largest_fitting(lambda n: n <= 37, high=1000)
    37
    >>> largest_fitting(lambda n: False, high=8)
    0
    """
    if high < 1 or not fits(1):
        return 0
    low, top = 1, high
    while low < top:
        mid = (low + top + 1) // 2
        if fits(mid):
            low = mid
        else:
            top = mid - 1
    return low


def max_micro_batch(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup) -> int:
    """The largest micro-batch that fits at the setup's sequence length (0: none). [sequences]"""
    return largest_fitting(lambda b: finetune_memory(arch, gpu, setup.with_(micro_batch=b)).fits,
                           high=MAX_MICRO_BATCH)


def max_seq_len(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup) -> int:
    """The longest sequence that fits at the setup's micro-batch, up to the
    model's context (0: none). [tokens]"""
    return largest_fitting(lambda s: finetune_memory(arch, gpu, setup.with_(seq_len=s)).fits,
                           high=min(arch.max_context_tokens, MAX_SEQ_LEN))


def cheapest_method(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup) -> str | None:
    """The first of full, LoRA, QLoRA that fits with the other settings kept
    (full gives up least, QLoRA most); None when none does."""
    for method in ("full", "lora", "qlora"):
        if finetune_memory(arch, gpu, as_method(setup, method)).fits:
            return method
    return None


def as_method(setup: FinetuneSetup, method: str) -> FinetuneSetup:
    """The setup with another method; LoRA and QLoRA freeze the whole base, so
    full fine-tuning's own freezing is dropped."""
    if method == "full":
        return setup.with_(method=method)
    return setup.with_(method=method, frozen_layers=0, freeze_embeddings=False)


@dataclass(frozen=True)
class FinetuneRemedy:
    """A change (or several made together) that makes the setup fit, with the
    memory it then needs."""

    notices: tuple[Notice, ...]  # one per change
    setup: FinetuneSetup
    total_bytes: float  # per GPU after the change [B]

    @property
    def code(self) -> str:
        return "+".join(n.code for n in self.notices)

    @property
    def text(self) -> str:
        return " ".join(n.text for n in self.notices)


def _candidates(setup: FinetuneSetup) -> list[tuple[Notice, FinetuneSetup]]:
    """Single changes, least given up first."""
    out: list[tuple[Notice, FinetuneSetup]] = []
    if setup.gradient_checkpointing == "off":
        out.append((Notice("ft_fix_checkpointing", "Turn on gradient checkpointing "
                           "(about a third more compute)."),
                    setup.with_(gradient_checkpointing="on")))
    if setup.loss == "standard":
        out.append((Notice("ft_fix_loss", "Use a chunked or fused cross-entropy loss "
                           "(no full-size fp32 logits)."), setup.with_(loss="fused")))
    if setup.optimizer in ("adamw", "sgd"):
        out.append((Notice("ft_fix_8bit_optimizer", "Use 8-bit AdamW (2 bytes of state per "
                           "trainable parameter instead of 8)."),
                    setup.with_(optimizer="adamw-8bit")))
    if setup.precision == "mixed":
        out.append((Notice("ft_fix_bf16", "Train in pure bf16 (no fp32 copies of weights, "
                           "adapters or optimizer states)."), setup.with_(precision="bf16")))
    if setup.gradient_checkpointing == "on":
        out.append((Notice("ft_fix_offload_checkpoints", "Offload the checkpointed activations "
                           "to system RAM (Unsloth-style)."),
                    setup.with_(gradient_checkpointing="offload")))
    if setup.micro_batch > 1 and setup.grad_accum * setup.micro_batch <= MAX_GRAD_ACCUM:
        out.append((Notice("ft_fix_micro_batch", f"Use micro-batch 1 with {setup.micro_batch}x "
                           "the gradient accumulation (same effective batch).",
                           factor=setup.micro_batch),
                    setup.with_(micro_batch=1, grad_accum=setup.grad_accum * setup.micro_batch)))
    if setup.method == "full":
        out.append((Notice("ft_fix_lora", "Train LoRA adapters instead of every weight."),
                    as_method(setup, "lora")))
    if setup.method != "qlora":
        out.append((Notice("ft_fix_qlora", "Use QLoRA: a 4-bit NF4 base model with LoRA adapters."),
                    as_method(setup, "qlora")))
    if setup.offload == "none" and setup.method == "full":
        out.append((Notice("ft_fix_offload_optimizer", "Offload the optimizer states, master "
                           "weights and gradients to system RAM (ZeRO-Offload)."),
                    setup.with_(offload="optimizer",
                                sharding=setup.sharding if setup.shards_states else "zero2")))
    if setup.shards_weights and setup.gpu_count > 1 and setup.offload != "parameters":
        out.append((Notice("ft_fix_offload_parameters", "Offload the weight shards and optimizer "
                           "states to system RAM (FSDP / ZeRO-3 CPU offload)."),
                    setup.with_(offload="parameters")))
    for count in range(setup.gpu_count + 1, MAX_GPUS + 1):
        sharding = "zero3" if setup.sharding in ("ddp", "zero2") else setup.sharding
        out.append((Notice("ft_fix_more_gpus", f"Shard across {count} GPUs with ZeRO-3 / FSDP.",
                           gpus=count), setup.with_(gpu_count=count, sharding=sharding)))
    return out


def remedies(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup, *, limit: int = 4) -> list[FinetuneRemedy]:
    """Up to ``limit`` single changes that make the setup fit, least given up
    first; only the fewest GPUs that fit is offered. When no change on these
    GPUs fits alone, the changes are made together, in the same order, up to
    the first combination that fits, and that comes first."""
    found: list[FinetuneRemedy] = []
    more_gpus = False
    candidates = _candidates(setup)
    for notice, changed in candidates:
        if notice.code == "ft_fix_more_gpus" and more_gpus:
            continue
        memory = finetune_memory(arch, gpu, changed)
        if memory.fits:
            found.append(FinetuneRemedy((notice,), changed, memory.total_bytes))
            more_gpus = more_gpus or notice.code == "ft_fix_more_gpus"
        if len(found) >= limit:
            break
    if not any(not r.setup.gpu_count > setup.gpu_count for r in found):
        combined = _combined(arch, gpu, setup, [c for c in candidates
                                                if c[0].code != "ft_fix_more_gpus"])
        if combined is not None:
            found = [combined, *found][:limit]
    return found


def _combined(arch: ModelArch, gpu: Gpu, setup: FinetuneSetup,
              candidates: list[tuple[Notice, FinetuneSetup]]) -> FinetuneRemedy | None:
    """The changes made one after another until the setup fits, then each one
    left out again where the rest still fits (None: they never fit)."""
    changes = [(notice, {f: getattr(changed, f) for f in changed.__dataclass_fields__
                         if getattr(changed, f) != getattr(setup, f)})
               for notice, changed in candidates]

    def applied(chosen: list[tuple[Notice, dict]]) -> FinetuneSetup:
        current = setup
        for _notice, fields in chosen:
            current = current.with_(**fields)
        return current

    for end in range(1, len(changes) + 1):
        if finetune_memory(arch, gpu, applied(changes[:end])).fits:
            taken = changes[:end]
            for change in list(taken[:-1]):
                rest = [c for c in taken if c is not change]
                if finetune_memory(arch, gpu, applied(rest)).fits:
                    taken = rest
            final = applied(taken)
            return FinetuneRemedy(tuple(n for n, _ in taken), final,
                                  finetune_memory(arch, gpu, final).total_bytes)
    return None


__all__ = ["largest_fitting", "max_micro_batch", "max_seq_len", "cheapest_method", "remedies",
           "FinetuneRemedy"]
