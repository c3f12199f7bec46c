"""AppTest of the Serve page: the figures shown are the engine's, in both languages."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from pages._state import STATE_KEY, query_for
from sizing.capacity import ServeResult, ServeSettings, serve
from sizing.request import parse_request
from tests.test_app_builds_cloud import alive_after_reruns, open_page, unescape

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TEAM = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm", "quant": "bf16",
        "workload": "chat", "users": "20", "ttft_p95_s": "2", "itl_p95_ms": "100"}


def open_serve(**query: str) -> AppTest:
    return open_page("pages/serve.py", **query)


@pytest.fixture(scope="module")
def team():
    return open_serve(**TEAM)


def test_serve_shows_the_engine_users_at_target(team):
    expected = serve(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                                    "quant": "bf16", "workload": "chat", "context_tokens": 8192}),
                     ServeSettings(users=20, ttft_p95_s=2, itl_p95_ms=100), load_catalog())
    metrics = {m.label: m.value for m in team.metric}
    assert metrics["Users at the target"] == f"{expected.max_users_at_target:,}"
    assert metrics["What limits first"] == {"kv_pool": "KV pool", "slots": "Slots",
                                            "compute": "Compute",
                                            "bandwidth": "Bandwidth"}[expected.limiter]
    assert metrics["Tokens/s generated at 20 users"] == f"{expected.throughput_tokens_per_s:,.0f}"


def test_serve_plots_the_curve_with_its_knee(team):
    figures = [json.loads(e.proto.spec) for e in team.get("plotly_chart")]
    throughput, latency = figures
    xs = throughput["data"][0]["x"]
    assert xs[:4] == [1, 2, 4, 8]
    knee = throughput["data"][1]["x"][0]
    assert knee in xs
    assert latency["data"][0]["x"] == xs


def test_serve_keeps_its_inputs_in_the_link(team):
    query = query_for(team.session_state[STATE_KEY])
    assert (query["users"], query["ttft_p95_s"], query["itl_p95_ms"]) == ("20", "2", "100")


def test_serve_in_chinese_and_a_runtime_it_does_not_model():
    at = open_serve(**TEAM, lang="zh")
    assert at.title[0].value == "团队服务"
    assert "达标用户数" in [m.label for m in at.metric]
    refused = open_serve(model="llama-3.1-8b", gpu="rtx-4090", runtime="transformers", quant="f16",
                         lang="zh")
    assert "服务模拟支持" in refused.error[0].value


def test_serve_refuses_an_embedding_model_instead_of_timing_replies_it_never_gives():
    at = open_serve(model="qwen3-embedding-8b", gpu="rtx-4090", lang="zh")
    assert "8B 是嵌入模型：它不生成内容" in at.error[0].value
    assert "达标用户数" not in [m.label for m in at.metric]


def test_builds_size_by_the_service_level_of_a_link():
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {**TEAM, "budget_usd": "4000"}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/builds.py")
    at.run()
    assert not at.exception
    said = " ".join(c.value for c in at.caption)
    assert "Sized by a service level" in said and "20 users" in said


def test_serve_leaves_the_targets_out_of_the_link_at_their_defaults():
    at = open_serve(model="llama-3.1-8b", gpu="rtx-4090", runtime="vllm", quant="bf16")
    query = query_for(at.session_state[STATE_KEY])
    assert "ttft_p95_s" not in query and "itl_p95_ms" not in query
    assert {m.label for m in at.metric} >= {"Users at the target"}


def test_serve_with_speculative_decoding_shows_the_speedups():
    at = open_serve(model="llama-3.1-70b", gpu="h100-sxm", gpu_count="2", runtime="vllm",
                    quant="bf16", workload="chat", users="8", speculative="on")
    said = " ".join(c.value for c in at.caption)
    assert "llama-3.2-1b as the draft" in said.replace("\\", "")
    table = at.dataframe[0].value
    assert list(table["Requests decoding"]) == [1, 8, 32, 128]
    assert float(table["Speed-up"][0].rstrip("×")) > 1.5


def test_serve_at_an_arrival_rate():
    at = open_serve(model="llama-3.1-8b", gpu="rtx-4090", runtime="vllm", quant="bf16",
                    workload="chat", requests_per_minute="60")
    metrics = {m.label: m.value for m in at.metric}
    assert "Tokens/s generated at 60 requests/min" in metrics
    assert any("60 requests per minute are served" in s.value for s in at.success)
    assert query_for(at.session_state[STATE_KEY])["requests_per_minute"] == "60"


def test_serve_costs_in_the_region_currency_at_its_electricity_price():
    from advisor.region import region_terms
    from report.formats import usd_in_currency_text

    at = open_serve(**TEAM, region="germany")
    cat = load_catalog()
    terms = region_terms(cat.market, region_id="germany")
    assert terms.currency == "EUR" and terms.electricity_usd_per_kwh != pytest.approx(0.17, abs=0.01)
    expected = serve(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                                    "quant": "bf16", "workload": "chat", "context_tokens": 8192,
                                    "electricity_usd_per_kwh": terms.electricity_usd_per_kwh}),
                     ServeSettings(users=20, ttft_p95_s=2, itl_p95_ms=100), cat)
    assert expected.usd_per_kwh == pytest.approx(terms.electricity_usd_per_kwh)
    cost = next(m for m in at.metric if m.label == "Cost per million tokens")
    assert cost.value == usd_in_currency_text(expected.cost_usd_per_1m_tokens, "EUR",
                                              terms.units_per_usd, digits=3)
    assert cost.value.startswith("€")


def test_a_latency_target_of_zero_is_one_clear_line_on_serve_and_builds():
    # The target box goes down to 0, which the engine refuses (a target must be above 0):
    # said as the field and its bound, where it used to raise a validation traceback.
    at = open_serve(**TEAM)
    box = next(n for n in at.number_input if n.key and n.key.endswith("ttft_p95_s"))
    box.set_value(0.0).run()
    assert not at.exception
    assert "ttft_p95_s: Input should be greater than 0" in unescape(at.error[0].value)
    at.switch_page("pages/builds.py").run()
    assert not at.exception and "ttft_p95_s: Input" in unescape(at.error[0].value)


def test_a_rerun_leaves_no_earlier_answer_alive():
    """A run's answer is freed when the page returns, not kept by the page's globals
    until a full garbage collection."""
    before = sum(isinstance(o, ServeResult) for o in gc.get_objects())
    at = open_serve(**TEAM)
    assert alive_after_reruns(at, ServeResult, "_context_tokens", (5000, 6000, 7000, 9000)) <= before
    assert len(at.get("plotly_chart")) == 2  # the page drew an answer
