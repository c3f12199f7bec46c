"""Time the serving simulation: one throughput curve, and a whole ``serve`` answer
(curve, the load and the search for the users at the target). Target: under
0.3 s per curve on a 2-core machine.

Run: .venv/bin/python -m benchmarks.bench_serve
"""

from __future__ import annotations

import statistics
import sys
import time

from catalog.catalog import load_catalog
from sizing.capacity import ServeSettings, serving_setup, serve
from sizing.request import parse_request
from sizing.serving import curve_concurrencies

TARGET_CURVE_S = 0.3
CASES = (
    {"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm", "quant": "bf16", "workload": "chat"},
    {"model": "llama-3.1-8b", "gpu": "h100-sxm", "runtime": "vllm", "quant": "bf16", "workload": "rag"},
    {"model": "qwen3-30b-a3b", "gpu": "h100-sxm", "runtime": "vllm", "quant": "fp8", "workload": "chat"},
    {"model": "llama-3.1-70b", "gpu": "h100-sxm", "gpu_count": 4, "runtime": "vllm", "quant": "bf16",
     "workload": "code"},
    {"model": "llama-3.1-8b", "gpu": "rtx-3090", "runtime": "llama.cpp", "quant": "q4_k_m",
     "workload": "chat"},
)
USERS = 50
REPEATS = 3


def main() -> int:
    catalog = load_catalog()
    settings = ServeSettings(users=USERS)
    worst = 0.0
    for case in CASES:
        request = parse_request(case)
        curve_times, serve_times = [], []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            setup = serving_setup(request, settings, catalog, None)
            limit = min(setup.scheduler.max_running, setup.pool_requests or setup.scheduler.max_running)
            points = curve_concurrencies(limit, USERS)
            for c in points:
                setup.simulate(c, 0.0)
            curve_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = serve(request, settings, catalog)
            serve_times.append(time.perf_counter() - t0)
        curve_s = statistics.median(curve_times)
        worst = max(worst, curve_s)
        print(f"{case['model']:<14} {case['gpu']:<9} {case['runtime']:<9} {case['workload']:<5} "
              f"curve of {len(points):>2} points {curve_s:.3f} s; "
              f"serve {statistics.median(serve_times):.3f} s "
              f"(users at target {result.max_users_at_target})")
    print(f"slowest curve {worst:.3f} s (target {TARGET_CURVE_S} s): "
          + ("met" if worst <= TARGET_CURVE_S else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
