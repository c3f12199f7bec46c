"""The PDF's own chart drawing: bars, points, lines and ticks where the data puts them."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from catalog.catalog import load_catalog
from report import charts
from report.content import PlanInputs, report_content
from report.pdf import FONT, font_file
from report.pdf_charts import Mark, chart_height_mm, draw_chart, nice_ticks, tick_text
from sizing.estimate import estimate
from sizing.request import parse_request

WIDTH_MM = 180.0


@pytest.fixture(scope="module")
def specs():
    catalog = load_catalog()
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "context_tokens": 8192})
    content = report_content(estimate(request, catalog), lang="zh", catalog=catalog,
                             inputs=PlanInputs(budget_usd=2000, users=5, hours_per_day=8))
    return charts.report_specs(content)


def draw(spec) -> tuple[float, list[Mark]]:
    """The chart drawn on a page; checks the height it took is the one it announced."""
    pdf = FPDF(format="A4", unit="mm")
    for style in ("", "B"):
        path, index = font_file(style)
        pdf.add_font(FONT, style, path, collection_font_number=index)
    pdf.add_page()
    height, marks = draw_chart(pdf, spec, font=FONT, x_mm=15.0, y_mm=20.0, width_mm=WIDTH_MM)
    assert height == pytest.approx(chart_height_mm(pdf, spec, font=FONT, width_mm=WIDTH_MM))
    return height, marks


def test_memory_bars_are_stacked_in_proportion_to_their_gib(specs):
    spec = specs["memory"]
    _, marks = draw(spec)
    bars = [m for m in marks if m.kind == "bar"]
    assert [b.name for b in bars] == [t["name"] for t in spec["data"]]
    assert [b.value for b in bars] == pytest.approx([t["x"][0] for t in spec["data"]])
    mm_per_gib = bars[0].w_mm / bars[0].value
    for before, bar in zip(bars, bars[1:]):
        assert bar.w_mm == pytest.approx(bar.value * mm_per_gib)
        assert bar.x_mm == pytest.approx(before.x_mm + before.w_mm)  # stacked end to end
    usable = next(m for m in marks if m.kind == "shape")
    assert usable.value == spec["layout"]["shapes"][0]["x0"]
    assert usable.x_mm - bars[0].x_mm == pytest.approx(usable.value * mm_per_gib)


def test_gpu_speed_bars_match_their_tokens_per_s_with_the_chosen_gpu_on_top(specs):
    spec = specs["gpus"]
    _, marks = draw(spec)
    speed = [m for m in marks if m.kind == "bar" and m.name == spec["data"][0]["name"]]
    assert [m.value for m in speed] == pytest.approx(spec["data"][0]["x"])
    mm_per_token_s = max(m.w_mm for m in speed) / max(m.value for m in speed)
    for m in speed:
        assert m.w_mm == pytest.approx(m.value * mm_per_token_s)
    chosen = speed[-1]  # the spec lists the chosen GPU last, Plotly draws it on top
    assert chosen.y_mm == min(m.y_mm for m in speed)
    memory = [m for m in marks if m.kind == "bar" and m.name != spec["data"][0]["name"]]
    assert min(m.x_mm for m in memory) > max(m.x_mm + m.w_mm for m in speed)  # second panel


def test_break_even_lines_end_at_their_last_month_cost(specs):
    spec = specs["break_even"]
    _, marks = draw(spec)
    lines = [m for m in marks if m.kind == "line"]
    traces = [t for t in spec["data"] if t["mode"] == "lines"]
    assert [m.name for m in lines] == [t["name"] for t in traces]
    assert [m.value for m in lines] == pytest.approx([t["y"][-1] for t in traces])
    # Higher cost is higher on the page: smaller y.
    by_cost = sorted(lines, key=lambda m: m.value)
    assert [m.y_mm for m in by_cost] == sorted((m.y_mm for m in by_cost), reverse=True)
    crossings = [m for m in marks if m.kind == "marker"]
    assert [m.value for m in crossings] == pytest.approx(spec["data"][-1]["y"])


def test_price_points_sit_at_their_price_and_speed(specs):
    spec = specs["value"]
    _, marks = draw(spec)
    points = [m for m in marks if m.kind == "marker"]
    assert [m.value for m in points] == pytest.approx([t["y"][0] for t in spec["data"]])
    prices = {t["name"]: t["x"][0] for t in spec["data"]}
    by_price = sorted(points, key=lambda m: prices[m.name])
    assert [m.x_mm for m in by_price] == sorted(m.x_mm for m in points)  # left to right
    speeds = sorted(points, key=lambda m: m.value)
    assert [m.y_mm for m in speeds] == sorted((m.y_mm for m in points), reverse=True)


@pytest.mark.parametrize("low, high, ticks", [
    (0, 25.92, [0, 5, 10, 15, 20, 25]),
    (0, 1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (350, 6200, [1000, 2000, 3000, 4000, 5000, 6000]),
])
def test_ticks_are_round_numbers_inside_the_range(low, high, ticks):
    assert nice_ticks(low, high) == pytest.approx(ticks)


def test_tick_labels_have_the_decimals_their_spacing_needs():
    assert [tick_text(v, [0, 2000, 4000]) for v in (0, 2000, 4000)] == ["0", "2,000", "4,000"]
    assert tick_text(0.4, [0.0, 0.2, 0.4]) == "0.4"
    assert tick_text(0.25, [0.0, 0.25, 0.5]) == "0.25"
