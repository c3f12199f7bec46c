"""Time the reports: ``rigfit report`` end to end (PDF target <= 2 s, HTML <= 0.5 s)
and the builders inside one process.

The scenario has a budget, so the reports carry all four charts: memory, GPU
comparison, price vs speed (builds) and buy-vs-rent break-even (cloud).

End to end is a fresh ``rigfit report`` process for the default scenario
(imports, catalog, content, charts, file written), its wall time and its CPU
time (``os.wait4``). Run: ``.venv/bin/python -m benchmarks.bench_report
[--no-write]``. Inside one process, kaleido's browser starts
once (warm-up, timed separately, as in a long-running app); the reported times
are medians over a few builds after that, each from an Estimate to bytes
(content, plan, charts, layout).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.perf_doc import write_section
from benchmarks.serving import ROOT
from catalog.catalog import load_catalog
from report import charts
from report.content import PlanInputs, report_content
from report.html import render_html
from report.pdf import render_pdf
from sizing.estimate import estimate
from sizing.request import parse_request

RUNS = 5
PDF_TARGET_S = 2.0
HTML_TARGET_S = 0.5
CLI_RUNS = 3
CLI_MODEL = "llama-3.1-8b"  # every other input at its default
RIGFIT = ROOT / ".venv" / "bin" / "rigfit"


def cli_s(fmt: str) -> tuple[float, float]:
    """Median wall and CPU seconds of ``rigfit report --model CLI_MODEL --format fmt``
    (every other input at its default), each run a fresh process. [s]"""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(CLI_RUNS):
            start = time.perf_counter()
            child = subprocess.Popen([str(RIGFIT), "report", "--model", CLI_MODEL, "--format", fmt,
                                      "-o",
                                      str(Path(folder) / f"report.{fmt}")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(child.pid, 0)
            walls.append(time.perf_counter() - start)
            cpus.append(usage.ru_utime + usage.ru_stime)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"rigfit report --format {fmt} failed")
    return statistics.median(walls), statistics.median(cpus)


def _median_s(build, runs: int = RUNS) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(build())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    rows = []
    for fmt, target in (("pdf", PDF_TARGET_S), ("html", HTML_TARGET_S)):
        wall, cpu = cli_s(fmt)
        verdict = "OK" if cpu <= target else "SLOW"
        print(f"rigfit report --format {fmt}: wall {wall:.2f} s, CPU {cpu:.2f} s "
              f"(target <= {target:g} s): {verdict}", flush=True)
        rows.append(f"| `rigfit report --format {fmt}` | {wall:.2f} | {cpu:.2f} | {target:g} |")
    if not args.no_write:
        table = "\n".join(rows)
        write_section("bench_report", f"""## Reports from the command line

Measured by `benchmarks/bench_report.py` on {dt.date.today().isoformat()}: `rigfit report
--model {CLI_MODEL}` with every other input at its default, each a fresh process (imports, catalog, content,
charts, the file written), median of {CLI_RUNS}. CPU is the process's and its
waited-for children's (`os.wait4`); wall includes waiting for a core on a
shared machine.

| Command | Wall [s] | CPU [s] | Target [s] |
|---|---:|---:|---:|
{table}

In the app the reports are built only when their download button is
pressed. Reproduce: `.venv/bin/python -m benchmarks.bench_report`.""")
        print("wrote docs/performance.md (reports)")
    catalog = load_catalog()
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "context_tokens": 8192})
    result = estimate(request, catalog)
    inputs = PlanInputs(budget_usd=2000, users=5)

    def content(lang: str):
        return report_content(result, lang=lang, request=request, inputs=inputs, catalog=catalog)

    start = time.perf_counter()
    charts.start_exporter()
    render_pdf(content("zh"))  # fonts, plan caches and the first chart export
    print(f"warm-up (kaleido start + first PDF): {time.perf_counter() - start:.2f} s")
    for lang in ("en", "zh"):
        pdf_s, pdf_bytes = _median_s(lambda lang=lang: render_pdf(content(lang)))
        html_s, html_bytes = _median_s(lambda lang=lang: render_html(content(lang)))
        cdn_s, cdn_bytes = _median_s(lambda lang=lang: render_html(content(lang), cdn=True))
        print(f"[{lang}] PDF with charts: {pdf_s:.2f} s ({pdf_bytes / 1e3:,.0f} kB), "
              f"target <= {PDF_TARGET_S:g} s: {'ok' if pdf_s <= PDF_TARGET_S else 'SLOW'}")
        print(f"[{lang}] HTML offline:    {html_s:.2f} s ({html_bytes / 1e6:,.1f} MB), "
              f"target <= {HTML_TARGET_S:g} s: {'ok' if html_s <= HTML_TARGET_S else 'SLOW'}")
        print(f"[{lang}] HTML with CDN:   {cdn_s:.2f} s ({cdn_bytes / 1e3:,.0f} kB)")
    c = content("en")
    figures = charts.report_figures(c)
    parts = {"content (estimate on every GPU + plan)": lambda: content("en"),
             "figures (Plotly objects)": lambda: charts.report_figures(c),
             f"charts to PNG ({', '.join(figures)})": lambda: charts.figure_pngs(
                 list(figures.values())),
             "PDF layout without charts": lambda: render_pdf(c, charts_enabled=False)}
    for name, build in parts.items():
        part_s, _ = _median_s(lambda build=build: [build()], runs=3)
        print(f"  {name}: {part_s:.2f} s")


if __name__ == "__main__":
    main()
