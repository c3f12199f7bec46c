"""Searches over one axis: the longest context and the best quant that fit."""

from __future__ import annotations

from catalog.catalog import Catalog
from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.limits import largest_within
from sizing.memory import (SplitMode, estimate_memory, memory_demand, usable_bytes_per_device,
                           weight_bytes)


def max_context_tokens(arch: ModelArch, quant: Quant, gpu: Gpu, runtime: Runtime, *,
                       sequences: int = 1, kv_bytes_per_element: float = 2.0,
                       gpu_count: int = 1, split: SplitMode = "layer",
                       limit_tokens: int | None = None, prompt_tokens: int | None = None,
                       new_tokens: int = 1) -> int:
    """Longest context per sequence that fits entirely on the GPU(s) (0: none). [tokens]

    The scenario's prompt (capped at the context) and output tokens are kept,
    so the answer agrees with the verdict for that scenario; without a prompt,
    one micro-batch fills the context. Memory never falls as context grows and
    is piecewise linear in it, so :func:`sizing.limits.largest_within` finds
    the exact boundary of :func:`sizing.memory.estimate_memory`'s verdict (one
    device's demand against what one device offers) in a few checks; the
    weights, the same at every context, are worked out once.
    """
    high = limit_tokens or arch.max_context_tokens
    prompt_cap = runtime.micro_batch_tokens if prompt_tokens is None else prompt_tokens
    weights = weight_bytes(arch, quant, embeddings_on_host=runtime.embeddings_on_host)

    def per_device_bytes(context: int) -> float:
        return memory_demand(arch, quant, runtime, context_tokens=context,
                             prompt_tokens=min(context, prompt_cap), sequences=sequences,
                             kv_bytes_per_element=kv_bytes_per_element, gpu_count=gpu_count,
                             split=split, new_tokens=new_tokens,
                             weights=weights).per_device_total_bytes

    return largest_within(per_device_bytes, usable_bytes_per_device(gpu, runtime), high=high)


def published_in(quant: Quant, arch: ModelArch) -> bool:
    """Whether ``arch`` exists in ``quant``'s format.

    Most formats are made on load (bf16, bitsandbytes, vLLM's dynamic FP8) or
    published by the community for practically every open model (GGUF, GPTQ,
    AWQ, EXL2, MLX); a ``native_only`` format (MXFP4) exists only where the
    model's authors ship it, i.e. when the model lists it in ``native_formats``.
    """
    return not quant.native_only or quant.format in arch.native_formats


def runtime_quants(catalog: Catalog, runtime: Runtime) -> list[Quant]:
    """Quants a runtime runs, largest (most faithful) first.

    f32 is left out (f16/bf16 are as faithful for inference), and so are
    formats another one of similar size beats (``recommended: false``). Sorted
    once per catalog and runtime.
    """
    kept = catalog.derived("runtime quants")
    found = kept.get(runtime.id)  # read once: another session may fill it meanwhile
    if found is None:
        options = [q for q in catalog.quants
                   if runtime.id in q.runtimes and q.id != "f32" and q.recommended]
        found = kept[runtime.id] = tuple(sorted(options, key=lambda q: q.body_bits_per_weight,
                                                reverse=True))
    return list(found)


def candidate_quants(catalog: Catalog, runtime: Runtime, arch: ModelArch) -> list[Quant]:
    """Quants a runtime runs and the model is published in, largest (most faithful) first."""
    return list(_candidates(catalog, runtime, arch)[0])


def considered_formats(catalog: Catalog, runtime: Runtime, arch: ModelArch) -> list[str]:
    """The format families :func:`best_quant` chooses among, most faithful first."""
    return list(_candidates(catalog, runtime, arch)[1])


def _candidates(catalog: Catalog, runtime: Runtime, arch: ModelArch
                ) -> tuple[tuple[Quant, ...], tuple[str, ...]]:
    """:func:`candidate_quants` and their format families, kept per catalog, runtime
    and the model's native formats (all of a model that :func:`published_in` reads)."""
    kept = catalog.derived("candidate quants")
    key = (runtime.id, arch.native_formats)
    found = kept.get(key)  # read once: another session may fill it meanwhile
    if found is None:
        quants = tuple(q for q in runtime_quants(catalog, runtime) if published_in(q, arch))
        found = kept[key] = (quants, tuple(dict.fromkeys(q.format.value for q in quants)))
    return found


def best_quant(catalog: Catalog, arch: ModelArch, gpu: Gpu, runtime: Runtime, *,
               context_tokens: int, prompt_tokens: int, sequences: int = 1,
               kv_bytes_per_element: float = 2.0, gpu_count: int = 1,
               split: SplitMode = "layer", new_tokens: int = 1) -> Quant | None:
    """The highest-precision quant that fits entirely on the GPU(s), or None.

    Chosen among :func:`candidate_quants`: formats the runtime runs and the
    model is published in.
    """
    for quant in candidate_quants(catalog, runtime, arch):
        if estimate_memory(arch, quant, gpu, runtime, context_tokens=context_tokens,
                           prompt_tokens=prompt_tokens, sequences=sequences,
                           kv_bytes_per_element=kv_bytes_per_element, gpu_count=gpu_count,
                           split=split, new_tokens=new_tokens).fits:
            return quant
    return None
