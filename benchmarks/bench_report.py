"""Time the report builders: PDF with charts (target <= 3 s), HTML (target <= 1 s).

The scenario has a budget, so the reports carry all four charts: memory, GPU
comparison, price vs speed (builds) and buy-vs-rent break-even (cloud).

Run: ``.venv/bin/python -m benchmarks.bench_report``. kaleido's browser starts
once (warm-up, timed separately, as in a long-running app); the reported times
are medians over a few builds after that, each from an Estimate to bytes
(content, plan, charts, layout).
"""

from __future__ import annotations

import statistics
import time

from catalog.catalog import load_catalog
from report import charts
from report.content import PlanInputs, report_content
from report.html import render_html
from report.pdf import render_pdf
from sizing.estimate import estimate
from sizing.request import parse_request

RUNS = 5
PDF_TARGET_S = 3.0
HTML_TARGET_S = 1.0


def _median_s(build, runs: int = RUNS) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(build())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
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
