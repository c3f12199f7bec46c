"""Memory for every GPU x model x quant x context at once (numpy broadcasting).

The array form of :func:`sizing.memory.estimate_memory` (:mod:`sizing.vector`,
the engine What can I run ranks with) over every (model, quant) pair at each
context, one sequence on one GPU; usable memory depends on the GPU alone, so
the verdict broadcasts the two. Used by the catalog benchmark and its test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.memory import usable_bytes_per_device
from sizing.model_rows import MemoryModel, ModelArrays, QuantArrays, Rows


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
    usable = np.array([usable_bytes_per_device(g, runtime) for g in gpus])
    model_index, quant_index = np.divmod(np.arange(len(models) * len(quants)), len(quants))
    rows = Rows.of(ModelArrays.of(models), QuantArrays.of(quants), model_index, quant_index,
                   embeddings_on_host=runtime.embeddings_on_host)
    memory = MemoryModel.of(rows, runtime=runtime, usable_bytes=0.0, gpu_count=1, tensor=False,
                            new_tokens=1, kv_bytes_per_element=kv_bytes_per_element)
    context = np.repeat(np.asarray(contexts, dtype=float)[:, None], len(model_index), axis=1)
    total = memory.at(context, np.minimum(context, prompt_tokens)).per_device_total_bytes
    return MemorySweep(total_bytes=total.T.reshape(len(models), len(quants), len(contexts)),
                       usable_bytes=usable)
