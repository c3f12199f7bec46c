"""The Reports page adds the Fine-tune, Serve and What can I run answers, in HTML and PDF."""

from __future__ import annotations

import pytest

from advisor.finetune import finetune_plan
from advisor.region import region_terms
from catalog.catalog import load_catalog
from pages._sections import EXTRA_SECTIONS, extra_section
from pages._state import DEFAULTS
from report.formats import duration_text, usd_in_currency_text
from report.html import build_html
from report.pdf import build_pdf
from sizing.capacity import ServeSettings, serve
from sizing.estimate import estimate
from sizing.finetune_request import parse_finetune_request
from sizing.request import parse_request
from tests.test_app_builds_cloud import open_page
from tests.test_report import needs_pdftotext, pdf_text

CAT = load_catalog()
SCENARIO = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm", "quant": "bf16"}
GERMANY = region_terms(CAT.market, region_id="germany")
CFG = {**DEFAULTS, **SCENARIO, "users": 20, "method": "qlora"}


@pytest.fixture(scope="module")
def scenario():
    request = parse_request({**SCENARIO,
                             "electricity_usd_per_kwh": GERMANY.electricity_usd_per_kwh})
    return request, estimate(request, CAT)


def sections(lang: str, request):
    return tuple(extra_section(key, CFG, request, None, GERMANY, lang) for key in EXTRA_SECTIONS)


def expected_figures(request):
    team = serve(request, ServeSettings(users=20), CAT)
    tune = finetune_plan(parse_finetune_request({
        "model": "llama-3.1-8b", "gpu": "rtx-4090", "method": "qlora",
        "dataset_tokens": DEFAULTS["dataset_mtokens"] * 1e6,
        "electricity_usd_per_kwh": GERMANY.electricity_usd_per_kwh}), CAT)
    return team, tune


def test_html_report_holds_the_three_sections_with_the_engine_figures(scenario):
    request, result = scenario
    team, tune = expected_figures(request)
    html = build_html(result, lang="en", request=request, cdn=True,
                      extra=sections("en", request)).decode("utf-8")
    for key in ("finetune", "serve", "fits"):
        assert f'<section id="{key}">' in html
    assert usd_in_currency_text(team.cost_usd_per_1m_tokens, "EUR", GERMANY.units_per_usd,
                                digits=3) in html
    assert usd_in_currency_text(tune.cost.local_usd, "EUR", GERMANY.units_per_usd, digits=2) in html
    assert duration_text(tune.time.total_s) in html
    assert "What can I run" in html


@needs_pdftotext
def test_chinese_pdf_report_holds_the_three_sections(scenario, tmp_path):
    request, result = scenario
    team, tune = expected_figures(request)
    text = pdf_text(build_pdf(result, lang="zh", request=request, extra=sections("zh", request)),
                    tmp_path)
    assert "微调" in text and "团队服务" in text and "我能跑什么" in text
    assert f"达标用户数 {team.max_users_at_target:,}" in text
    assert duration_text(tune.time.total_s, "zh") in text
    assert usd_in_currency_text(tune.cost.local_usd, "EUR", GERMANY.units_per_usd, digits=2) in text


@pytest.mark.parametrize("lang, labels", [
    ("en", ["Fine-tuning", "Serving a team", "What can I run"]),
    ("zh", ["微调", "团队服务", "我能跑什么"]),
])
def test_reports_page_offers_the_sections_and_builds_them(lang, labels):
    at = open_page("pages/reports.py", **SCENARIO, lang=lang)
    boxes = [at.checkbox(key=f"w_report_include_{key}") for key in EXTRA_SECTIONS]
    assert [b.label for b in boxes] == labels
    for box in boxes:
        box.check()
    at.run()
    assert not at.exception and not at.error
    assert all(b.value for b in (at.checkbox(key=f"w_report_include_{k}") for k in EXTRA_SECTIONS))
