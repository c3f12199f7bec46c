"""Memory for every GPU x model x quant x context at once (numpy broadcasting).

The same component functions as :func:`sizing.memory.estimate_memory`, each
evaluated once per axis it depends on, then summed by broadcasting: weights
depend on (model, quant), the KV cache and compute buffer on (model, context),
usable memory on the GPU. Used by the GPU tables and the catalog benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.memory import (compute_buffer_bytes, logits_bytes, model_kv_cache_bytes,
                           usable_bytes_per_device, weight_bytes)
from sizing.units import gib_to_bytes


@dataclass(frozen=True)
class MemorySweep:
    """Per-device totals and usable memory, single GPU, one sequence. [B]

    ``total_bytes[model, quant, context]`` and ``usable_bytes[gpu]``; ``fits``
    broadcasts them to ``[gpu, model, quant, context]``.
    """

    total_bytes: np.ndarray
    usable_bytes: np.ndarray

    @property
    def fits(self) -> np.ndarray:
        return self.total_bytes[None, :, :, :] <= self.usable_bytes[:, None, None, None]


def sweep_memory(gpus: Sequence[Gpu], models: Sequence[ModelArch], quants: Sequence[Quant],
                 contexts: Sequence[int], runtime: Runtime, *, prompt_tokens: int = 512,
                 kv_bytes_per_element: float = 2.0) -> MemorySweep:
    """Totals for every combination, matching ``estimate_memory`` term by term."""
    weights = np.array([[weight_bytes(m, q, embeddings_on_host=runtime.embeddings_on_host).device_bytes
                         for q in quants] for m in models])
    per_context = np.array([[
        model_kv_cache_bytes(m, context_tokens=c, bytes_per_element=kv_bytes_per_element)
        + compute_buffer_bytes(m, runtime, context_tokens=c, sequences=1,
                               prompt_tokens=min(prompt_tokens, c))
        + logits_bytes(m, runtime, prompt_tokens=min(prompt_tokens, c), sequences=1)
        for c in contexts] for m in models])
    workspace = np.array([gib_to_bytes(runtime.quant_workspace_gib) if q.kind == "int-quant" else 0.0
                          for q in quants])
    overhead = gib_to_bytes(runtime.fixed_overhead_gib + runtime.safety_margin_gib)
    total = weights[:, :, None] + per_context[:, None, :] + workspace[None, :, None] + overhead
    usable = np.array([usable_bytes_per_device(g, runtime) for g in gpus])
    return MemorySweep(total_bytes=total, usable_bytes=usable)
