"""Score the serving model on published serving benchmarks.

Each row of ``benchmarks/data/serving_throughput.csv`` is a published run
(its URL in the row): a GPU, model, weight format and runtime at a fixed
number of requests in flight, with fixed prompt and reply lengths, and the
aggregate throughput it reached. RigFit's simulation runs the same closed
loop (no think time, the same number of requests in all where the run gives
it) through :func:`sizing.capacity.serving_setup`; the script prints
each row's error and the median. ``serving_section`` gives the table
``benchmarks/accuracy_report.py`` writes into docs/accuracy.md.

    python -m benchmarks.serving_accuracy
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

from catalog.catalog import Catalog, load_catalog
from sizing.capacity import ServeSettings, serving_setup
from sizing.request import parse_request

DATA = Path(__file__).resolve().parent / "data" / "serving_throughput.csv"
TARGET_MEDIAN_PCT = 25.0


def scored_rows(cat: Catalog) -> list[tuple[dict, float, float]]:
    """Each row with RigFit's throughput and the signed error. [tokens/s, %]"""
    out = []
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            request = parse_request({"model": row["model"], "gpu": row["gpu"], "quant": row["quant"],
                                     "runtime": row["runtime"],
                                     "prompt_tokens": int(row["prompt_tokens"]),
                                     "new_tokens": int(row["new_tokens"])})
            users = int(row["concurrency"])
            # llama.cpp's slots (-np) when the run set them; blank: the runtime's default.
            parallel = int(row["parallel"]) if row["parallel"] else None
            # A run of num_requests in all (ramp and last wave included); blank: the steady state.
            total = int(row["num_requests"]) if row["num_requests"] else None
            # Share of each prompt the runtime's prefix cache already held (shared contexts).
            hit_frac = float(row["prefix_hit_frac"]) if row["prefix_hit_frac"] else 0.0
            settings = ServeSettings(users=users, think_time_s=0.0, parallel=parallel,
                                     prefix_hit_frac=hit_frac)
            setup = serving_setup(request, settings, cat, None)
            result = setup.simulate(users, 0.0, total_requests=total)
            ours = (result.output_tokens_per_s if row["metric"] == "output"
                    else result.total_tokens_per_s)
            measured = float(row["measured_tokens_per_s"])
            out.append((row, ours, (ours / measured - 1.0) * 100.0))
    return out


def median_by(rows: list[tuple[dict, float, float]], column: str) -> dict[str, tuple[int, float]]:
    """Rows and median absolute error for each value of ``column``. [count, %]"""
    groups: dict[str, list[float]] = {}
    for row, _, err in rows:
        groups.setdefault(row[column], []).append(abs(err))
    return {key: (len(errs), statistics.median(errs)) for key, errs in groups.items()}


def serving_section(cat: Catalog) -> list[str]:
    """The docs/accuracy.md section: one line per published row and the medians."""
    rows = scored_rows(cat)
    median = statistics.median(abs(e) for _, _, e in rows)
    by_source = median_by(rows, "source_url")
    by_runtime = median_by(rows, "runtime")
    lines = ["## Serving throughput", "",
             "Aggregate throughput of a runtime serving a fixed number of requests in flight "
             "(`sizing/capacity.py`, `sizing/serving.py`) against published serving benchmarks "
             "(`benchmarks/data/serving_throughput.csv`, scored by `benchmarks/serving_accuracy.py`). "
             f"Target: median error within {TARGET_MEDIAN_PCT:.0f} %. Over {len(rows)} rows: "
             f"{median:.1f} % median. Nothing in the serving model is fitted to these rows.", "",
             "| source | rows | median error |", "|---|---:|---:|"]
    lines += [f"| {src} | {n} | {err:.1f} % |" for src, (n, err) in by_source.items()]
    lines += ["", "| runtime | rows | median error |", "|---|---:|---:|"]
    lines += [f"| {rt} | {n} | {err:.1f} % |" for rt, (n, err) in by_runtime.items()]
    lines += ["",
             "| source | GPU | model | runtime | in flight | prompt / reply | published tok/s | "
             "RigFit tok/s | error |", "|---|---|---|---|---:|---|---:|---:|---:|"]
    for row, ours, err in rows:
        lines.append(f"| {row['source_url']} | {row['gpu']} | {row['model']} {row['quant']} | "
                     f"{row['runtime']} | {row['concurrency']} | {row['prompt_tokens']} / "
                     f"{row['new_tokens']} | {float(row['measured_tokens_per_s']):,.0f} | "
                     f"{ours:,.0f} | {err:+.1f} % |")
    lines.append("")
    return lines


def main() -> int:
    cat = load_catalog()
    rows = scored_rows(cat)
    for row, ours, err in rows:
        print(f"{row['gpu']:<14} {row['model']:<18} {row['runtime']:<6} c={row['concurrency']:<4} "
              f"published {float(row['measured_tokens_per_s']):>7.0f}  RigFit {ours:>7.0f}  {err:+6.1f} %")
    median = statistics.median(abs(e) for _, _, e in rows)
    print(f"median |error| {median:.1f} % over {len(rows)} rows (target {TARGET_MEDIAN_PCT:.0f} %)")
    for column in ("source_url", "runtime"):
        for key, (n, err) in median_by(rows, column).items():
            print(f"  {key:<70} {n:>3} rows  median |error| {err:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
