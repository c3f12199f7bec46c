"""The report's serving section: the engine's figures, in the chosen currency, in HTML and PDF."""

from __future__ import annotations

import pytest

from advisor.region import region_terms
from catalog.catalog import load_catalog
from report.formats import usd_in_currency_text
from report.serve_section import serve_section
from report.text import Translator
from rigfit.cli import main
from sizing.capacity import ServeSettings, serve
from sizing.request import parse_request
from tests.test_report import needs_pdftotext, pdf_text

CAT = load_catalog()
SCENARIO = ["--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--runtime", "vllm", "--quant", "bf16"]
GERMANY = region_terms(CAT.market, region_id="germany")


@pytest.fixture(scope="module")
def team():
    """20 users on the scenario's machine, electricity at the German household price."""
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                             "quant": "bf16",
                             "electricity_usd_per_kwh": GERMANY.electricity_usd_per_kwh})
    return serve(request, ServeSettings(users=20), CAT)


def test_section_carries_the_engine_figures_in_the_currency(team):
    section = serve_section(team, Translator("en", prefix="doc."), currency="EUR",
                            units_per_usd=GERMANY.units_per_usd)
    assert section.key == "serve" and section.heading == "Serve a team"
    facts = {f.label: f.value for f in section.facts}
    assert facts["Users at the target"] == f"{team.max_users_at_target:,}"
    assert facts["Cost per million tokens"] == usd_in_currency_text(
        team.cost_usd_per_1m_tokens, "EUR", GERMANY.units_per_usd, digits=3)
    assert facts["Cost per million tokens"].startswith("€")
    assert [row[0] for row in section.tables[0].rows] == [f"{p.concurrency:,}" for p in team.curve]
    assert section.notes[0].startswith("20 users are " + ("served" if team.meets_target
                                                          else "not served"))


def test_report_command_adds_the_section_in_html(tmp_path, capsys, team):
    out = tmp_path / "report.html"
    assert main(["report", *SCENARIO, "--serve", "20", "--region", "germany", "--format", "html",
                 "--cdn", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert '<section id="serve">' in html and "Users at the target" in html
    cost = usd_in_currency_text(team.cost_usd_per_1m_tokens, "EUR", GERMANY.units_per_usd, digits=3)
    assert cost in html


@needs_pdftotext
def test_report_command_adds_the_section_in_a_chinese_pdf(tmp_path, capsys, team):
    out = tmp_path / "report.pdf"
    assert main(["report", *SCENARIO, "--serve", "20", "--region", "germany", "--format", "pdf",
                 "--lang", "zh", "-o", str(out)]) == 0
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "团队服务" in text and "达标用户数" in text
    assert f"达标用户数 {team.max_users_at_target:,}" in text
    assert usd_in_currency_text(team.cost_usd_per_1m_tokens, "EUR", GERMANY.units_per_usd,
                                digits=3) in text


def test_report_refuses_a_team_out_of_range(tmp_path, capsys):
    assert main(["report", *SCENARIO, "--serve", "0", "--format", "html", "-o",
                 str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "--serve" in err and "Traceback" not in err
