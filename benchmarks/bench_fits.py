"""Benchmark: "what can I run" for one machine, and the array engine against the scalar one.

Prints the server-side rerun time of the whole ranking (every catalog model x
every weight format x every runtime the GPU runs; target < 100 ms on a 2-core
machine, best of 7, caches cold), the rows it evaluated, and the agreement of
the array engine with the scalar engine on every row of three machines
(memory, fit, offload, longest context, decode and prefill). Speeds on a
shared machine: the wall clock waits for a core, the CPU time does not.

    .venv/bin/python -m benchmarks.bench_fits
"""

from __future__ import annotations

import sys
import time

import numpy as np

from catalog.catalog import load_catalog
from catalog.quality import load_quality
from sizing.estimate import default_split, memory_for, speed_for
from sizing.fit import max_context_tokens
from sizing.fits import (USE_SHAPES, FitsRequest, evaluate_runtime, fits, listed_models,
                         ranking_quality, resolve_machine)
from sizing.request import EstimateRequest

TARGET_S = 0.100
MACHINES = (("rtx-3060-12gb", 1, "llama.cpp"), ("rtx-4090", 2, "vllm"),
            ("apple-m4-max-40c", 1, "mlx"))


def rerun_s(request: FitsRequest, cat, quality, repeats: int = 7) -> tuple[float, float, int]:
    """Best wall-clock and best CPU time of one rerun, and the rows shown. [s, s, count]

    On a shared machine the wall clock includes waiting for a core; the CPU
    time is what the rerun itself costs.
    """
    best_wall = best_cpu = float("inf")
    rows = 0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        table = fits(request, cat, quality=quality)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
        rows = len(table.rows)
    return best_wall, best_cpu, rows


def agreement(cat) -> tuple[int, float, int]:
    """(rows compared, largest relative difference, discrete mismatches) over every row."""
    compared, worst, mismatches = 0, 0.0, 0
    for gpu, count, runtime in MACHINES:
        request = FitsRequest(gpu=gpu, gpu_count=count, runtimes=(runtime,))
        machine, shape = resolve_machine(request, cat), USE_SHAPES["chat"]
        ev = evaluate_runtime(cat, machine, cat.runtime(runtime), listed_models(cat.models, "chat"),
                              shape)
        rows = ev.rows
        for i in range(len(rows.model_index)):
            arch = rows.models.archs[rows.model_index[i]]
            quant = rows.quants.quants[rows.quant_index[i]]
            context = max(min(shape.context_tokens, arch.max_context_tokens),
                          shape.prompt_tokens + shape.new_tokens)
            scalar = EstimateRequest(model=arch.id, quant=quant.id, gpu=gpu, gpu_count=count,
                                     runtime=runtime, prompt_tokens=shape.prompt_tokens,
                                     new_tokens=shape.new_tokens, context_tokens=context, images=0)
            memory = memory_for(scalar, cat, arch)
            compared += 1
            mismatches += (memory.fits != bool(ev.on_gpu[i])) + (memory.gpu_layers
                                                                 != ev.memory.gpu_layers[i])
            pairs = [(memory.per_device_total_bytes, ev.memory.per_device_total_bytes[i])]
            if memory.fits:
                mismatches += ev.max_context_tokens[i] != max_context_tokens(
                    arch, quant, machine.gpu, cat.runtime(runtime), gpu_count=count,
                    split=default_split(scalar, cat), prompt_tokens=shape.prompt_tokens,
                    new_tokens=shape.new_tokens)
            if ev.runs[i]:
                speed = speed_for(scalar, cat, arch, memory)
                pairs += [(speed.decode_tokens_per_s, ev.decode[i]),
                          (speed.prefill_tokens_per_s, ev.prefill[i])]
            for expected, got in pairs:
                if expected is not None:
                    worst = max(worst, abs(got - expected) / abs(expected))
    return compared, worst, mismatches


def main() -> int:
    cat = load_catalog()
    quality = ranking_quality(load_quality())
    for gpu, count, runtimes in (("rtx-3060-12gb", 1, ()), ("rtx-4090", 2, ()),
                                 ("rtx-3060-12gb", 1, ("llama.cpp",))):
        request = FitsRequest(gpu=gpu, gpu_count=count, ram_gib=32, runtimes=runtimes)
        machine = resolve_machine(request, cat)
        wall, cpu, rows = rerun_s(request, cat, quality)
        names = ",".join(r.id for r in machine.runtimes)
        print(f"fits {count} x {gpu}, runtimes {names}: {rows} rows shown; best of 7: "
              f"{wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU (target < "
              f"{TARGET_S * 1000:.0f} ms) -> {'OK' if wall < TARGET_S else 'MISSED'}")
    compared, worst, mismatches = agreement(cat)
    print(f"array vs scalar engine: {compared:,} rows of {len(MACHINES)} machines; largest "
          f"relative difference {worst:.1e} (memory, decode, prefill); {mismatches} mismatches "
          "of fit, layers on the GPU or longest context")
    return 0 if mismatches == 0 and worst < 1e-9 and np.isfinite(worst) else 1


if __name__ == "__main__":
    sys.exit(main())
