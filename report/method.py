"""The Method page's accuracy section, worded in the reader's language.

The figures come from two places: the speed calibration in the catalog
(in-sample and cross-validated errors of the fitted constants) and
``docs/accuracy.json``, the headline figures that ``benchmarks/accuracy_report.py``
writes beside the developer's accuracy document (memory checks, the
holdout measurements never used for fitting, and the rows of the seed-article,
temperature and power-cap tables). The sentences and column titles
are strings of the catalog in ``report/locales/`` under ``method.acc.``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from catalog.catalog import Catalog
from report.content import Table
from report.formats import date_text, number_text
from report.text import Translator, catalog_name

DOCS = Path(__file__).resolve().parent.parent / "docs"
ACCURACY_SUMMARY = DOCS / "accuracy.json"
ACCURACY_CHART = DOCS / "img" / "accuracy_speed.png"
METRICS = ("decode", "prefill")


@dataclass(frozen=True)
class AccuracySection:
    """Paragraphs (Markdown) around one table of the speed constants' errors."""

    before: tuple[str, ...]
    table: Table
    after: tuple[str, ...]
    chart_caption: str


def read_summary(path: Path = ACCURACY_SUMMARY) -> dict[str, float | str]:
    """The headline figures ``benchmarks/accuracy_report.py`` wrote."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _pct(value: float | None, digits: int = 1) -> str:
    return number_text(value, digits)


def accuracy_section(catalog: Catalog, lang: str,
                     summary: dict[str, float | str] | None = None) -> AccuracySection:
    """The accuracy section in ``lang``: how errors are counted, memory, speed, holdout."""
    tr = Translator(lang, prefix="method.acc.")
    s = read_summary() if summary is None else summary
    fit = catalog.speed_calibration
    rows = []
    for metric in METRICS:
        cal = getattr(fit, metric)
        cv = cal.cross_validated
        rows.append((tr(f"metric_{metric}"), number_text(cal.residuals.rows, 0),
                     _pct(cal.residuals.median_abs_pct), _pct(cv.by_gpu.median_abs_pct),
                     _pct(cv.by_gpu.p90_abs_pct), number_text((cv.by_gpu.within_band_frac or 0) * 100, 0),
                     _pct(cv.by_source.median_abs_pct)))
    table = Table(columns=tuple(tr(f"col_{name}") for name in (
        "metric", "rows", "in_sample", "cv_median", "cv_p90", "cv_inside", "cv_source")),
        rows=tuple(rows), numeric=(False,) + (True,) * 6)
    before = (tr("errors"),
              tr("memory", weights_rows=s["weights_rows"], weights_worst=_pct(s["weights_worst_pct"], 2),
                 peaks_rows=s["peaks_rows"], peaks_median=_pct(s["peaks_median_pct"]),
                 peaks_worst=_pct(s["peaks_worst_pct"])),
              tr("speed", date=date_text(fit.fitted_on, lang),
                 decode_rows=number_text(fit.decode.residuals.rows, 0),
                 prefill_rows=number_text(fit.prefill.residuals.rows, 0)))
    after = (tr("holdout", rows=s["holdout_decode_rows"] + s["holdout_prefill_rows"],
                decode_median=_pct(s["holdout_decode_median_pct"]),
                decode_p90=_pct(s["holdout_decode_p90_pct"]),
                decode_inside=number_text(s["holdout_decode_inside_pct"], 0),
                prefill_median=_pct(s["holdout_prefill_median_pct"]),
                prefill_p90=_pct(s["holdout_prefill_p90_pct"]),
                roofline_decode=_pct(s["holdout_decode_roofline_median_pct"]),
                roofline_prefill=_pct(s["holdout_prefill_roofline_median_pct"])),
             tr("limits"))
    return AccuracySection(before=before, table=table, after=after, chart_caption=tr("chart"))


@dataclass(frozen=True)
class CheckTable:
    """One published-against-RigFit table with the sentences before and after it."""

    key: str
    heading: str
    intro: str
    table: Table
    note: str
    link_column: int | None = None  # the column of source URLs, if any


def _band(band: list[float] | None) -> str:
    """RigFit's middle speed with its range: "41 (26–50)". [tokens/s]"""
    if not band:
        return "—"
    mid, low, high = band
    return f"{number_text(mid, 0)} ({number_text(low, 0)}–{number_text(high, 0)})"


def _seed_table(s: dict, tr: Translator, lang: str) -> CheckTable:
    article = s["seed_article"]
    rows = tuple((r["gpu"], number_text(r["seed_tokens_per_s"], 0), _band(r["llama_cpp_q8_0"]),
                  _band(r["transformers_int8"])) for r in s["seed_speed"])
    table = Table(columns=tuple(tr(f"seed_col_{name}") for name in
                                ("gpu", "seed", "llama_cpp", "transformers")),
                  rows=rows, numeric=(False, True, True, True))
    return CheckTable("seed", tr("seed_heading"),
                      tr("seed_intro", title=article["title"], url=article["url"],
                         date=date_text(dt.date.fromisoformat(article["published"]), lang)),
                      table, tr("seed_note"))


def _temperature_table(s: dict, tr: Translator, lang: str, catalog: Catalog) -> CheckTable:
    rows = tuple((r["gpu"], catalog_name("cooler", r["cooler"], catalog.cooler(r["cooler"]).name, lang),
                  r["review"] or tr("temp_seed_source"),
                  tr("temp_open_bench") if r["review"] else tr("temp_in_case"),
                  number_text(r["measured_c"], 0), number_text(r["rigfit_c"], 0))
                 for r in s["temperatures"])
    table = Table(columns=tuple(tr(f"temp_col_{name}") for name in
                                ("gpu", "cooler", "source", "setting", "measured", "rigfit")),
                  rows=rows, numeric=(False, False, False, False, True, True))
    return CheckTable("temperature", tr("temp_heading"), tr("temp_intro"), table, tr("temp_note"))


def _power_cap_table(s: dict, tr: Translator) -> CheckTable:
    rows = tuple((r["source"], r["gpu"], tr(f"phase_{r['phase']}"), number_text(r["uncapped_w"], 0),
                  number_text(r["cap_w"], 0), number_text(r["published_frac"] * 100, 0),
                  number_text(r["rigfit_frac"] * 100, 0)) for r in s["power_caps"])
    table = Table(columns=tuple(tr(f"cap_col_{name}") for name in
                                ("source", "gpu", "phase", "uncapped", "cap", "published", "rigfit")),
                  rows=rows, numeric=(False, False, False, True, True, True, True))
    return CheckTable("power_cap", tr("cap_heading"), tr("cap_intro"), table, tr("cap_note"),
                      link_column=0)


def check_tables(catalog: Catalog, lang: str,
                 summary: dict | None = None) -> tuple[CheckTable, ...]:
    """The seed article's speeds, full-load temperatures and speed under a power cap, each
    as published beside RigFit's estimate, worded in ``lang``."""
    tr = Translator(lang, prefix="method.acc.")
    s = read_summary() if summary is None else summary
    return (_seed_table(s, tr, lang), _temperature_table(s, tr, lang, catalog),
            _power_cap_table(s, tr))


__all__ = ["ACCURACY_CHART", "ACCURACY_SUMMARY", "AccuracySection", "CheckTable",
           "accuracy_section", "check_tables", "read_summary"]
