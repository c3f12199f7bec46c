"""Plans for an encoder-only (embedding) model: sized by memory, timed and priced by the
input tokens it embeds per second (prefill), in the planner and on the command line (the
Builds and Cloud pages are in test_app_builds_cloud.py)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from advisor.prices import usd_per_1m_tokens
from advisor.results import PlanResult
from catalog.catalog import load_catalog
from report.content import PlanInputs, report_content
from report.plan_charts import value_spec
from report.text import group_strings
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.request import EstimateRequest

MODEL = "qwen3-embedding-8b"
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def result() -> PlanResult:
    """The plan the command line makes, read back from its JSON."""
    return PlanResult.model_validate(json.loads(
        _cli("plan", "--model", MODEL, "--budget", "2000", "--format", "json")))


@pytest.fixture(scope="module")
def table() -> str:
    return _cli("plan", "--model", MODEL, "--budget", "2000")


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_tiers_are_ranked_and_described_by_prefill(result):
    assert result.task == "embed"
    assert [t.tier for t in result.tiers] == ["budget", "balanced", "workstation"]
    for t in result.tiers:
        assert t.decode_tokens_per_s is None and t.prefill_tokens_per_s > 0
        assert t.reason.code.endswith("_encoder")
        assert "speed unknown" not in t.reason.text
    budget, balanced, workstation = result.tiers
    assert f"embeds {budget.prefill_tokens_per_s:,.0f} tokens/s" in budget.reason.text
    # Balanced: the most embedded tokens/s per dollar among the builds within budget.
    assert balanced.tokens_per_s_per_kusd == pytest.approx(
        balanced.prefill_tokens_per_s / balanced.total_usd * 1000.0)
    assert balanced.tokens_per_s_per_kusd >= budget.tokens_per_s_per_kusd
    assert workstation.prefill_tokens_per_s >= max(budget.prefill_tokens_per_s,
                                                   balanced.prefill_tokens_per_s)


def test_cloud_prices_an_encoder_per_million_input_tokens(result):
    assert len(result.cloud) > 10
    assert all(c.meets_workload for c in result.cloud)
    for c in result.cloud:
        assert c.decode_tokens_per_s is None
        assert c.usd_per_1m_tokens == pytest.approx(usd_per_1m_tokens(
            usd_per_hour=c.usd_per_hour, tokens_per_s=c.prefill_tokens_per_s))
    cheapest = [c.usd_per_1m_tokens for c in result.cloud]
    assert cheapest == sorted(cheapest)


def test_cli_table_describes_input_tokens_and_embedding_speed(table, result):
    workload = next(line for line in table.splitlines() if line.startswith("workload:"))
    assert "512 input tokens per request" in workload
    assert "new tokens" not in workload and "tokens/s each" not in workload
    assert "speed unknown" not in table and "decode unknown" not in table
    assert "no catalog instance" not in table
    budget = result.tiers[0]
    assert f"  embeds {budget.prefill_tokens_per_s:,.0f} tokens/s; " in table
    assert "embedded_tokens/s" in table and "per_1M_input_tokens" in table
    fastest = max(t.prefill_tokens_per_s for t in result.tiers if t.within_budget)
    assert table.splitlines()[0].startswith(
        f"3 distinct builds hold Qwen3-Embedding 8B within the budget, the fastest embedding "
        f"{fastest:,.0f} tokens/s;")


def test_cli_table_in_chinese():
    text = _cli("--lang", "zh", "plan", "--model", MODEL, "--budget", "2000")
    assert "每个请求 512 个输入 token" in text
    assert "每秒嵌入" in text and "生成速度未知" not in text
    assert "不生成内容" in text


def test_cli_json_has_cloud_rows(result):
    data = json.loads(_cli("cloud", "--model", MODEL, "--budget", "2000", "--format", "json"))
    assert data["task"] == "embed"
    assert len(data["cloud"]) == len(result.cloud)
    assert data["message"][-1]["code"] in {"plan_holds_encoder", "plan_stretch_labelled"}



@pytest.mark.parametrize(("lang", "words"), [("en", "Embedded tokens/s"), ("zh", "每秒嵌入 token")])
def test_report_describes_an_encoder_by_its_embedding_speed(lang, words):
    request = EstimateRequest(model=MODEL, gpu="rtx-4090")
    content = report_content(estimate(request, CATALOG), lang=lang, request=request,
                             inputs=PlanInputs(budget_usd=2000.0), catalog=CATALOG)
    tiers, cloud = content.section("tiers"), content.section("cloud")
    assert tiers.tables[0].columns[3] == words and cloud.tables[0].columns[3] == words
    assert all(row[3] not in {"—", ""} for row in tiers.tables[0].rows)
    assert "512" in tiers.intro and ("new tokens" not in tiers.intro) and "新 token" not in tiers.intro


def test_value_chart_plots_an_encoder_by_its_embedding_speed(result):
    spec = value_spec(result, labels=group_strings("plan_chart.", "zh"))
    assert spec is not None and spec["layout"]["title"]["text"] == "价格与嵌入速度"
    plotted = sorted(y for trace in spec["data"] for y in trace["y"])
    cvp = result.consumer_vs_pro
    shown = [*result.tiers, cvp.consumer, cvp.professional]
    assert plotted == sorted({b.prefill_tokens_per_s for b in shown if b is not None})
    # No per-user speed target to draw: the only line is the budget.
    assert len(spec["layout"]["shapes"]) == 1
