"""Time a whole-catalog plan (every priced GPU x 1/2/4 x quant ladder, every
platform, every cloud instance). Target: under 2 s per plan on a 2-core machine.

Run: .venv/bin/python -m benchmarks.bench_plan
"""

from __future__ import annotations

import statistics
import sys
import time

from advisor.plan import plan
from catalog.catalog import load_catalog
from sizing.request import EstimateRequest

TARGET_S = 2.0
CASES = (
    ("llama-3.1-70b", 3000.0, 1),
    ("qwen2.5-14b", 1200.0, 1),
    ("qwen2.5-14b", 5000.0, 8),
    ("qwen3-30b-a3b", 2500.0, 1),
    ("llama-3.1-405b", 20000.0, 1),
)
REPEATS = 5


def main() -> int:
    start = time.perf_counter()
    catalog = load_catalog()
    print(f"catalog load: {time.perf_counter() - start:.2f} s (once per process)")
    worst = 0.0
    for model, budget, users in CASES:
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            try:
                result = plan(EstimateRequest(model=model), catalog, budget_usd=budget,
                              users=users, quant="best", context_tokens=8192)
                runs = result.builds_evaluated
            except ValueError as exc:  # an unmeetable workload is still a timed plan
                runs = f"error: {exc}"[:60]
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        worst = max(worst, max(times))
        print(f"{model:<16} budget {budget:>8,.0f} USD users {users}: median {median:.3f} s, "
              f"max {max(times):.3f} s, engine runs {runs}")
    verdict = "OK" if worst < TARGET_S else "SLOW"
    print(f"worst plan: {worst:.3f} s (target < {TARGET_S:g} s): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
