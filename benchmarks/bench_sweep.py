"""Benchmark: memory verdict for every GPU x model x quant x 6 context lengths.

Target: the whole sweep in under 1 s on a 2-core machine. Prints the figures.

    .venv/bin/python -m benchmarks.bench_sweep
"""

from __future__ import annotations

import sys
import time

from catalog.catalog import load_catalog
from sizing.sweep import sweep_memory

CONTEXTS = (1024, 4096, 8192, 32768, 65536, 131072)


def main() -> int:
    cat = load_catalog()
    runtime = cat.runtime("llama.cpp")
    quants = [q for q in cat.quants]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        sweep = sweep_memory(cat.gpus, cat.models, quants, CONTEXTS, runtime)
        fits = sweep.fits
        best = min(best, time.perf_counter() - start)
    scenarios = fits.size
    print(f"sweep: {len(cat.gpus)} GPUs x {len(cat.models)} models x {len(quants)} quants x "
          f"{len(CONTEXTS)} contexts = {scenarios:,} scenarios")
    print(f"best of 5: {best * 1000:.0f} ms, {scenarios / best:,.0f} scenarios/s "
          f"(target: whole sweep < 1000 ms) -> {'OK' if best < 1.0 else 'MISSED'}")
    print(f"fitting scenarios: {int(fits.sum()):,} ({fits.mean():.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
