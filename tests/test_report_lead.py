"""A report answers the question of the page it is made from, and never contradicts itself.

Made from Builds it opens with the three builds, from Compare with the
comparison, from Cloud with the cloud offers, from the Configurator with the
verdict for the chosen GPU; the CLI picks the same with ``--lead``.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from catalog.errors import UserError
from report.content import LEADS, PlanInputs, _verdict, report_content
from report.html import render_html
from report.text import Translator, translate, translate_notice
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.request import parse_request

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# The team lead's question: a 70B model for five users within $6,000. The sidebar's
# GPU (an RTX 4090) was never their choice.
TEAM = {"model": "llama-3.1-70b", "gpu": "rtx-4090", "quant": "q4_k_m", "runtime": "llama.cpp"}
INPUTS = PlanInputs(budget_usd=6000, users=5, compare=("rtx-5090", "rtx-a6000"))


def headings(page: str) -> list[str]:
    """The text of every h2, in order."""
    return [html.unescape(re.sub(r"<[^>]+>", "", h))
            for h in re.findall(r"<h2>(.*?)</h2>", page, flags=re.S)]


@pytest.fixture(scope="module")
def team():
    cat = load_catalog()
    request = parse_request(TEAM)
    result = estimate(request, cat)
    contents = {lead: report_content(result, lang="en", request=request, inputs=INPUTS,
                                     catalog=cat, lead=lead) for lead in LEADS}
    return result, contents


def test_each_page_leads_with_its_own_question(team):
    result, contents = team
    first = {lead: headings(render_html(c).decode("utf-8"))[0] for lead, c in contents.items()}
    doc = {key: translate(f"doc.section.{key}", "en") for key in ("tiers", "gpus", "cloud")}
    assert first["builds"] == doc["tiers"]
    assert first["compare"] == doc["gpus"]
    assert first["cloud"] == doc["cloud"]
    assert first["configurator"].startswith(translate("doc.section.verdict", "en") + ":")
    assert [s.key for s in contents["builds"].sections][0] == "tiers"


def test_a_builds_report_does_not_open_with_a_verdict_on_a_gpu_nobody_chose(team):
    result, contents = team
    assert result.memory.verdict != "fits"  # a 70B model does not fit one RTX 4090
    builds = contents["builds"]
    page = render_html(builds).decode("utf-8")
    assert 'id="verdict"' not in page
    assert "RTX 4090" not in builds.title and builds.title.startswith("RigFit report: what to buy")
    # The sidebar GPU's fit is still there, later, named as the sidebar's.
    keys = [s.key for s in builds.sections]
    assert keys.index("fit") > keys.index("tiers")
    assert builds.section("fit").heading == "The sidebar's GPU: 1 × NVIDIA GeForce RTX 4090"
    assert 'id="verdict"' in render_html(contents["configurator"]).decode("utf-8")


def test_the_cli_chooses_the_lead(tmp_path, capsys):
    flags = [f"--{k}={v}" for k, v in TEAM.items()]
    out = tmp_path / "builds.html"
    assert main(["report", *flags, "--budget-usd", "6000", "--users", "5", "--lead", "builds",
                 "--format", "html", "--cdn", "-o", str(out)]) == 0
    assert headings(out.read_text(encoding="utf-8"))[0] == translate("doc.section.tiers", "en")
    default = tmp_path / "default.html"
    assert main(["report", *flags, "--format", "html", "--cdn", "-o", str(default)]) == 0
    assert headings(default.read_text(encoding="utf-8"))[0].startswith("Verdict:")
    capsys.readouterr()


def test_the_report_page_leads_with_the_page_the_user_came_from():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"model": "qwen2.5-14b", "gpu": "rtx-3090"})
    at.run()
    at.switch_page("pages/reports.py")
    at.run()
    assert at.radio(key="w_report_lead_configurator").value == "configurator"
    for page in ("builds", "compare", "cloud"):
        at.switch_page(f"pages/{page}.py")
        at.run()
        at.switch_page("pages/reports.py")
        at.run()
        assert not at.exception
        assert at.radio(key=f"w_report_lead_{page}").value == page


# Scenarios whose runtime cannot offload, on cards too small for them, and ones that can.
CONTRADICTION = [
    {"model": "llama-3.1-70b", "gpu": "rtx-4090", "runtime": "vllm", "quant": "awq-int4"},
    {"model": "qwen2.5-32b", "gpu": "rtx-4080", "runtime": "sglang", "quant": "awq-int4"},
    {"model": "qwen2.5-32b", "gpu": "rtx-3060-12gb", "runtime": "exllamav2", "quant": "exl2-4"},
    {"model": "llama-3.1-70b", "gpu": "apple-m2-pro-19c", "runtime": "mlx", "quant": "mlx-4bit"},
    {"model": "llama-3.1-70b", "gpu": "rtx-4090", "runtime": "llama.cpp", "quant": "q4_k_m"},
]


@pytest.mark.parametrize("scenario", CONTRADICTION, ids=lambda s: f"{s['runtime']}-{s['gpu']}")
def test_no_report_says_both_offload_and_cannot_offload(scenario):
    cat = load_catalog()
    request = parse_request({**scenario, "context_tokens": 8192})
    result = estimate(request, cat)
    runtime = cat.runtime(scenario["runtime"])
    assert result.memory.verdict == ("fits-with-offload" if runtime.supports_offload
                                     else "does-not-fit")
    content = report_content(result, lang="en", request=request,
                             inputs=PlanInputs(compare=(scenario["gpu"],)), catalog=cat)
    text = render_html(content).decode("utf-8").lower()
    assert not ("runs only with offload" in text and "cannot offload" in text)
    if not runtime.supports_offload:
        assert "runs only with offload" not in text and "offload" not in content.verdict.word.lower()


def test_verdict_and_warnings_agree_over_a_sample_of_scenarios():
    """Every runtime, random models, cards and formats it runs: what the report's verdict,
    speed line and warnings say about offload never disagree."""
    cat = load_catalog()
    pick = random.Random(13)
    tr = Translator("en", prefix="doc.")
    checked = 0
    for runtime in cat.runtimes:
        quants = [q.id for q in cat.quants if runtime.id in q.runtimes]
        for _ in range(40):
            data = {"model": pick.choice(cat.models).id, "gpu": pick.choice(cat.gpus).id,
                    "runtime": runtime.id, "quant": pick.choice(quants),
                    "kv_cache": next(k.id for k in cat.kv_cache_types if runtime.id in k.runtimes),
                    "context_tokens": pick.choice((4096, 32768))}
            try:
                result = estimate(parse_request(data), cat)
            except UserError:  # a setup the engine refuses makes no report
                continue
            verdict = _verdict(result, tr)
            text = " ".join([verdict.headline, verdict.speed,
                             *(translate_notice(w, "en") for w in result.warnings)]).lower()
            assert not ("runs only with offload" in text and "cannot offload" in text), data
            if not runtime.supports_offload:
                assert result.memory.verdict != "fits-with-offload", data
            checked += 1
    assert checked > 100
