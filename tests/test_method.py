"""The Method page's accuracy section: figures from the catalog and the accuracy summary."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog
from report.method import ACCURACY_CHART, accuracy_section, read_summary

SUMMARY = {"written_on": "2026-12-01", "weights_rows": 33, "weights_worst_pct": 2.0,
           "peaks_rows": 50, "peaks_median_pct": 3.0, "peaks_worst_pct": 8.6,
           "holdout_decode_rows": 49, "holdout_decode_median_pct": 13.5,
           "holdout_decode_p90_pct": 47.4, "holdout_decode_inside_pct": 73,
           "holdout_decode_roofline_median_pct": 58.4, "holdout_prefill_rows": 46,
           "holdout_prefill_median_pct": 35.7, "holdout_prefill_p90_pct": 121.3,
           "holdout_prefill_inside_pct": 87, "holdout_prefill_roofline_median_pct": 306.0}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_the_speed_table_holds_the_catalogs_fitted_errors(catalog):
    section = accuracy_section(catalog, "en", SUMMARY)
    decode = catalog.speed_calibration.decode
    row = section.table.rows[0]
    assert row[0] == "Generation"
    assert row[1] == f"{decode.residuals.rows:,}"
    assert row[2] == f"{decode.residuals.median_abs_pct:.1f}"
    assert row[3] == f"{decode.cross_validated.by_gpu.median_abs_pct:.1f}"
    assert row[5] == f"{decode.cross_validated.by_gpu.within_band_frac * 100:.0f}"
    assert len(section.table.rows) == 2 and len(section.table.columns) == len(row)


def test_chinese_words_the_same_figures_without_file_paths(catalog):
    english = accuracy_section(catalog, "en", SUMMARY)
    chinese = accuracy_section(catalog, "zh", SUMMARY)
    text = " ".join([*chinese.before, *chinese.after, *chinese.table.columns, chinese.chart_caption])
    assert "从未用于拟合" in text and "95 条公开实测" in text and "13.5 %" in text
    assert "58.4 %" in text and "2.00 %" in text
    assert [r[1:] for r in chinese.table.rows] == [r[1:] for r in english.table.rows]
    for developer_word in (".py", ".csv", ".md", "do not edit", "benchmarks/"):
        assert developer_word not in text
        assert developer_word not in " ".join([*english.before, *english.after])


def test_the_written_summary_has_every_figure_the_page_needs(catalog):
    summary = read_summary()
    assert set(SUMMARY) <= set(summary)
    assert accuracy_section(catalog, "zh").after[0].count("%") >= 6
    assert ACCURACY_CHART.is_file()
