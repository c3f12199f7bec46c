"""The Method page's accuracy section: figures from the catalog and the accuracy summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.catalog import load_catalog
from report.method import ACCURACY_CHART, accuracy_section, check_tables, read_summary

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


CHECKED = {
    "seed_article": {"title": "An article", "url": "http://example.org/a", "published": "2025-12-25"},
    "seed_speed": [{"gpu": "NVIDIA GeForce RTX 3060 12GB", "seed_tokens_per_s": 28,
                    "llama_cpp_q8_0": [40.7, 25.5, 49.9], "transformers_int8": None}],
    "temperatures": [
        {"gpu": "NVIDIA GeForce RTX 3090", "cooler": "triple-fan", "source": "A review, open bench",
         "review": "A review", "measured_c": 62.0, "rigfit_c": 61.6},
        {"gpu": "NVIDIA GeForce RTX 3060 12GB", "cooler": "dual-fan", "source": None, "review": None,
         "measured_c": 78, "rigfit_c": 71.2}],
    "power_caps": [{"source": "https://example.org/sweep", "gpu": "RTX 3090", "phase": "prefill",
                    "uncapped_w": 381, "cap_w": 250, "published_frac": 0.82, "rigfit_frac": 0.826}],
}


@pytest.mark.parametrize("lang, words", [
    ("en", ("The article RigFit grew from", "Full-load GPU temperature", "Speed under a power cap",
            "In a case", "Prompt processing", "Triple-fan")),
    ("zh", ("RigFit 起源的那篇文章", "满载显卡温度", "限制功耗时的速度", "机箱内", "提示处理",
            "三风扇开放式散热器")),
])
def test_the_seed_temperature_and_power_cap_tables_are_worded_in_each_language(catalog, lang, words):
    seed, temps, caps = check_tables(catalog, lang, {**SUMMARY, **CHECKED})
    assert [c.key for c in (seed, temps, caps)] == ["seed", "temperature", "power_cap"]
    assert seed.table.rows == (("NVIDIA GeForce RTX 3060 12GB", "28", "41 (26–50)", "—"),)
    assert [r[-2:] for r in temps.table.rows] == [("62", "62"), ("78", "71")]
    assert temps.table.rows[0][2] == "A review" and temps.table.rows[1][2] == seed.heading
    assert caps.table.rows[0][0] == "https://example.org/sweep" and caps.link_column == 0
    assert caps.table.rows[0][3:] == ("381", "250", "82", "83")
    text = " ".join([w for c in (seed, temps, caps) for w in
                     (c.heading, c.intro, c.note, *c.table.columns,
                      *(cell for row in c.table.rows for cell in row))])
    for word in words:
        assert word in text
    assert "[*An article*](http://example.org/a)" in seed.intro
    for developer_word in (".py", ".csv", ".md", "do not edit", "benchmarks/", "sizing/"):
        assert developer_word not in text.replace("https://example.org/sweep", "")


def test_the_written_summary_holds_the_three_tables(catalog):
    english, chinese = check_tables(catalog, "en"), check_tables(catalog, "zh")
    assert [len(c.table.rows) for c in english] == [3, 6, 21]
    assert [c.table.rows for c in english][0] == [c.table.rows for c in chinese][0]
    assert english[0].table.rows[0][:2] == ("NVIDIA GeForce RTX 3060 12GB", "28")


@pytest.mark.parametrize("lang, heading, column", [
    ("en", "#### Speed under a power cap", "Published (% of uncapped)"),
    ("zh", "#### 限制功耗时的速度", "公开实测（占不限功耗的 %）"),
])
def test_the_page_shows_the_three_tables(lang, heading, column):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/method.py")
    at.run()
    assert not at.exception
    assert heading in [m.value for m in at.markdown]
    caps = at.dataframe[-1].value
    assert len(caps) == 21 and column in caps.columns
    assert len(at.dataframe[-2].value) == 6 and len(at.dataframe[-3].value) == 3
