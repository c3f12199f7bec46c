"""App speed: page reruns for a changed input (server side) and cold start to healthy.

Each page is opened in an AppTest with the data caches empty, then its
context length is changed a few times to values not seen before, so every
rerun computes its scenario (the estimate, the tables over the catalog's GPUs,
the plan) with nothing cached for it. Wall and CPU time (the process, every
thread) are printed per page, with the part spent in the engine and advisor
calls the page makes through ``pages._engine`` (the rest is the page: widgets,
tables, charts, the frame).

Targets: a changed-input rerun p50 <= 50 ms and p95 <= 150 ms per page;
``streamlit run app.py`` to a 200 from /_stcore/health <= 5 s.

    .venv/bin/python -m benchmarks.bench_app            # print and write docs/performance.md
    .venv/bin/python -m benchmarks.bench_app --no-write
    .venv/bin/python -m benchmarks.bench_app --page Cloud   # one page, print only
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import threading
import time

import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.bench_load import share_like_a_server
from benchmarks.perf_doc import Clock, percentile, write_section
from benchmarks.serving import ROOT, free_port, start_server

P50_TARGET_S = 0.050
P95_TARGET_S = 0.150
COLD_TARGET_S = 5.0
PAGES = {  # page: its script and the query that opens it with something to show
    "Configurator": ("pages/configurator.py", {}),
    "Compare": ("pages/compare.py", {"compare": "rtx-3090,rtx-4090,rtx-5090,l40s,h100-sxm"}),
    "Builds": ("pages/builds.py", {"budget": "3000"}),
    "Cloud": ("pages/cloud.py", {"budget": "3000"}),
}
# Contexts no earlier rerun used: each rerun is a new scenario for every cache.
CONTEXTS = (5000, 6000, 7000, 9000, 10000, 11000, 12000, 13000, 14000, 15000, 17000)
# The engine and advisor calls pages make (pages/_engine.py), timed apart from the page.
ENGINE_CALLS = ("run_estimate", "run_fit_rows", "run_remedies", "run_fits", "run_every_gpu",
                "run_plan", "run_serve")


class EngineClock:
    """CPU seconds the script thread spends inside ENGINE_CALLS, summed over calls. [s]"""

    def __init__(self) -> None:
        self.cpu_s = 0.0
        self._depth = threading.local()

    def install(self) -> None:
        """Wrap the calls in pages._engine before any page imports them."""
        from pages import _engine

        for name in ENGINE_CALLS:
            setattr(_engine, name, self._timed(getattr(_engine, name)))

    def _timed(self, call):
        @functools.wraps(call)
        def timed(*args, **kwargs):
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            start = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                self._depth.n = depth
                if depth == 0:  # an engine call inside another counts once
                    self.cpu_s += time.thread_time() - start
        return timed


ENGINE = EngineClock()


def page_reruns(script: str, query: dict[str, str]
                ) -> tuple[list[float], list[float], list[float]]:
    """Wall, CPU and engine CPU seconds of each rerun after a change of context. [s]

    The data caches are emptied first: pages share some (Builds and Cloud the
    plan), and every page walks the same contexts, so a page measured after
    another would find its scenarios computed.
    """
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if script != "pages/configurator.py":
        at.switch_page(script)
        at.run()
    assert not at.exception, at.exception
    walls, cpus, engine = [], [], []
    for context in CONTEXTS:
        next(e for e in at.number_input if e.key and e.key.endswith("_context_tokens")).set_value(
            context)
        before = ENGINE.cpu_s
        with Clock() as clock:
            at.run()
        assert not at.exception, at.exception
        walls.append(clock.wall_s)
        cpus.append(clock.cpu_s)
        engine.append(ENGINE.cpu_s - before)
    return walls, cpus, engine


def cold_start_s() -> float:
    """Seconds from launching ``streamlit run app.py`` to a healthy server. [s]"""
    port = free_port()
    start = time.perf_counter()
    server = start_server(port)
    elapsed = time.perf_counter() - start
    server.terminate()
    server.wait(timeout=10)
    return elapsed


def verdict(p50_s: float, p95_s: float) -> str:
    return "OK" if p50_s <= P50_TARGET_S and p95_s <= P95_TARGET_S else "SLOW"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--page", action="append", choices=list(PAGES),
                        help="measure only this page (repeatable); prints only, as the "
                             "written table holds every page")
    args = parser.parse_args()
    share_like_a_server()  # scripts compiled once, as a server does, not on every AppTest run
    ENGINE.install()
    rows = []
    for name, (script, query) in PAGES.items():
        if args.page and name not in args.page:
            continue
        walls, cpus, engine = page_reruns(script, query)
        figures = [percentile(v, q) * 1000 for v in (walls, cpus) for q in (0.5, 0.95)]
        engine_ms = percentile(engine, 0.5) * 1000
        rows.append(f"| {name} | {len(walls)} | " + " | ".join(f"{f:,.0f}" for f in figures)
                    + f" | {engine_ms:,.0f} | {verdict(percentile(cpus, 0.5), percentile(cpus, 0.95))} |")
        print(f"{name}: wall p50 {figures[0]:.0f} ms p95 {figures[1]:.0f} ms, "
              f"CPU p50 {figures[2]:.0f} ms p95 {figures[3]:.0f} ms, engine CPU p50 "
              f"{engine_ms:.0f} ms", flush=True)
    if args.page:
        return
    cold = cold_start_s()
    print(f"cold start to healthy: {cold:.2f} s (target <= {COLD_TARGET_S:.0f} s)")
    if args.no_write:
        return
    table = "\n".join(rows)
    write_section("bench_app", f"""## Page reruns

Measured by `benchmarks/bench_app.py` on {dt.date.today().isoformat()}: each page in an
`AppTest` (the server's script run, no browser; the scripts compiled once and
run from `app.py`'s navigation, as on a server), the data caches emptied, its
context length changed {len(CONTEXTS)} times to values not seen before, so every
rerun computes its scenario with nothing cached for it. CPU is the
process's time over every thread, the cost of one rerun; "engine" is the
part of it spent in the engine and advisor calls the page makes
(`pages/_engine.py`: estimate, fit rows, plan), the rest is the page itself
(widgets, tables, charts, the frame). The wall clock also holds waiting for
a core on a shared machine. Target: p50 <= {P50_TARGET_S * 1000:.0f} ms and p95 <=
{P95_TARGET_S * 1000:.0f} ms (judged on CPU).

| Page | Reruns | Wall p50 [ms] | Wall p95 [ms] | CPU p50 [ms] | CPU p95 [ms] | Engine CPU p50 [ms] | Target |
|---|---:|---:|---:|---:|---:|---:|---|
{table}

Cold start, `streamlit run app.py` to a healthy server: {cold:.1f} s.

Reproduce: `.venv/bin/python -m benchmarks.bench_app`.""")
    print("wrote docs/performance.md (page reruns)")


if __name__ == "__main__":
    main()
