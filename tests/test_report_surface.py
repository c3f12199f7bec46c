"""The PDF reads cleanly: legends clear of axis titles, table words whole, no echoes.

Checks the chart layout objects (where each legend sits), the PDF table's
column widths against the widths of its words, and the PDF's text through
poppler's pdftotext.
"""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest
from fpdf import FPDF

from catalog.catalog import load_catalog
from report import charts
from report.content import PlanInputs, Table, report_content
from report.pdf import _UNBREAKABLE, BODY_W_MM, FONT, _column_widths, font_file, render_pdf
from sizing.estimate import estimate
from sizing.request import parse_request
from tests.test_report import pdf_text

SCENARIO = {"model": "llama-3.1-70b", "gpu": "rtx-3090", "gpu_count": 2, "quant": "q4_k_m"}
INPUTS = PlanInputs(budget_usd=3000, users=5, hours_per_day=8)


@pytest.fixture(scope="module")
def contents():
    catalog = load_catalog()
    result = estimate(parse_request(SCENARIO), catalog)
    return {lang: report_content(result, lang=lang, inputs=INPUTS, catalog=catalog)
            for lang in ("en", "zh")}


def legend_clear_of_the_x_axis(legend) -> bool:
    """Beside the plot (right of it) or above it: never below, where the x-axis title is."""
    beside = legend.x is not None and legend.x >= 1 and legend.xanchor == "left"
    above = legend.y is not None and legend.y >= 1 and legend.yanchor == "bottom"
    return beside or above


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_report_legend_sits_below_its_plot(contents, lang):
    figures = charts.report_figures(contents[lang])
    assert set(figures) == {"memory", "gpus", "value", "break_even"}
    points = [SimpleNamespace(cap_w=w, speed_frac=f, power_w=w * 0.9) for w, f in ((100, 0.8),
                                                                                   (200, 1.0))]
    power = charts.power_limit_figure(points, sweet_spot_w=150.0, title="t",
        speed_label="speed", power_label="power", cap_label="cap")
    for name, fig in [*figures.items(), ("power_limit", power)]:
        assert legend_clear_of_the_x_axis(fig.layout.legend), name


def pdf_with_font() -> FPDF:
    pdf = FPDF()
    pdf.add_font(FONT, "", font_file("")[0])
    pdf.add_font(FONT, "B", font_file("B")[0])
    return pdf


def test_a_column_is_never_narrower_than_its_longest_word():
    pdf = pdf_with_font()
    table = Table(columns=("Instance", "USD/h", "USD/month", "USD per 1M tokens",
                           "Break-even (budget / balanced / workstation)"),
                  rows=(("RunPod 1 × NVIDIA RTX 6000 Ada Generation " * 3, "0.77", "187", "2.33",
                         "18.6 / 18.6 / 27.6"),),
                  numeric=(False, True, True, True, True))
    widths = _column_widths(table, pdf)
    scale = BODY_W_MM / sum(widths)  # fpdf stretches or shrinks the widths to the body
    for i, column in enumerate(table.columns):
        pdf.set_font(FONT, "B", 8)
        word = max(pdf.get_string_width(w) for w in _UNBREAKABLE.findall(column))
        assert widths[i] * scale >= word, column


def test_the_pdf_has_whole_headers_and_no_echoed_words(contents, tmp_path, pdftotext_installed):
    text = pdf_text(render_pdf(contents["en"], charts_enabled=False), tmp_path)
    assert "USD/month" in text and "USD/m onth" not in text
    assert "yes, yes" not in text
    assert "120 V / 15 A: within its limit; 230 V / 16 A: within its limit" in text


def prose(node) -> list[str]:
    """Every sentence of a report's content, tables' cells left out."""
    if isinstance(node, str):
        return [node]
    if dataclasses.is_dataclass(node):
        return [s for f in dataclasses.fields(node) if f.name not in ("rows", "columns")
                for s in prose(getattr(node, f.name))]
    if isinstance(node, (list, tuple)):
        return [s for item in node for s in prose(item)]
    if isinstance(node, dict):
        return [s for item in node.values() for s in prose(item)]
    return []


def test_no_sentence_says_a_word_twice(contents):
    sentences = prose(contents["en"])
    assert any("inlet air" in s for s in sentences)
    assert [s for s in sentences if re.search(r"\b([A-Za-z]{3,}) \1\b", s)] == []
