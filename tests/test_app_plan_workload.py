"""Builds and Cloud: search runtimes and precisions like ``rigfit plan``, take the plan's
inputs from the page and the link, say what was sized, and give the command line's numbers."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from advisor import workload
from advisor.plan import plan
from advisor.prices import electricity_usd_per_kwh
from catalog.catalog import load_catalog
from pages._state import STATE_KEY, query_for
from report.formats import money_text
from rigfit.cli import main
from sizing.request import EstimateRequest
from tests.test_app_builds_cloud import open_page

CATALOG = load_catalog()
# The team lead's question: a 70B model for five people on 6,000 USD.
TEAM = {"model": "llama-3.1-70b", "users": "5", "budget_usd": "6000"}


def unescape(text: str) -> str:
    return text.replace("\\", "")


def totals(at: AppTest) -> list[str]:
    return [m.value for m in at.metric if m.label == "Total"]


def request_for(model: str, **fields) -> EstimateRequest:
    """The sidebar's scenario at the one set of workload defaults."""
    return EstimateRequest(model=model, prompt_tokens=workload.DEFAULT_PROMPT_TOKENS,
                           new_tokens=workload.DEFAULT_NEW_TOKENS,
                           context_tokens=workload.DEFAULT_CONTEXT_TOKENS, **fields)


@pytest.fixture(scope="module")
def team_plan():
    return plan(request_for("llama-3.1-70b"), CATALOG, budget_usd=6000, users=5, quant="best")


@pytest.fixture(scope="module")
def team_builds():
    return open_page("pages/builds.py", **TEAM)


def test_builds_search_runtimes_and_precisions_by_default(team_builds, team_plan):
    at = team_builds
    assert team_plan.meets_workload_within_budget
    assert at.radio(key="w_builds_search").value == "all"
    assert totals(at) == [money_text(t.total_usd, "USD") for t in team_plan.tiers]
    assert unescape(at.success[0].value).startswith("1 distinct build runs Llama 3.1 70B")
    assert not at.warning  # not "nothing within budget, lead with cloud"
    first = team_plan.tiers[0]
    lines = unescape(" ".join(m.value for m in at.markdown))
    assert f"{first.quant} on {first.runtime}" in lines


def test_builds_tiers_are_the_command_lines(team_builds, capsys):
    """`rigfit plan` with the same inputs prints the page's tiers and speeds."""
    code = main(["plan", "--model", TEAM["model"], "--users", TEAM["users"], "--budget-usd",
                 TEAM["budget_usd"], "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    cli = json.loads(out)
    assert totals(team_builds) == [money_text(t["total_usd"], "USD") for t in cli["tiers"]]
    speeds = [re.search(r"Generation per user: \*\*([\d,.]+) tokens/s", m.value).group(1)
              for m in team_builds.markdown if m.value.startswith("Generation per user:")]
    shown = [t for i, t in enumerate(cli["tiers"])
             if (t["gpu_id"], t["gpu_count"], t["total_usd"]) not in
             {(u["gpu_id"], u["gpu_count"], u["total_usd"]) for u in cli["tiers"][:i]}]
    assert speeds == [f"{t['decode_tokens_per_s_per_user']:,.1f}" for t in shown]


def test_the_page_states_the_workload_it_sized(team_builds, team_plan):
    captions = unescape(" ".join(c.value for c in team_builds.caption))
    assert (f"5 users at once, each sending {team_plan.prompt_tokens:,} prompt tokens and "
            f"getting {team_plan.new_tokens:,} new tokens back within "
            f"{team_plan.context_tokens:,} tokens of context, at 10 tokens/s or more") in captions
    assert "Runtimes and precisions were searched" in captions
    average = electricity_usd_per_kwh(CATALOG.market, override=None, region=None, requested=None)
    assert f"{money_text(average, 'USD', digits=3)}/kWh, 8 h a day; wall circuit 120 V, 15 A" \
        in captions


def test_pinning_the_sidebars_runtime_and_precision(team_plan):
    at = open_page("pages/builds.py", **TEAM)
    at.radio(key="w_builds_search").set_value("sidebar").run()
    pinned = plan(request_for("llama-3.1-70b", quant="q4_k_m", runtime="llama.cpp"), CATALOG,
                  budget_usd=6000, users=5)
    assert pinned.tiers and {(t.quant, t.runtime) for t in pinned.tiers} == {("q4_k_m", "llama.cpp")}
    assert [t.total_usd for t in pinned.tiers] != [t.total_usd for t in team_plan.tiers]
    assert totals(at) == [money_text(t.total_usd, "USD") for t in pinned.tiers]
    assert "q4_k_m on llama.cpp" in unescape(" ".join(m.value for m in at.markdown))
    captions = unescape(" ".join(c.value for c in at.caption))
    assert "Runtime and precision from the sidebar: llama.cpp" in captions
    assert query_for(at.session_state[STATE_KEY])["search"] == "sidebar"


PLAN_LINK = {"model": "qwen2.5-14b", "budget_usd": "3000", "users": "2", "hours_per_day": "4",
             "min_tokens_per_s": "25", "electricity_usd_per_kwh": "0.3", "circuit_volts": "230",
             "circuit_amps": "16"}


def test_plan_inputs_come_from_the_link_and_reach_the_plan():
    at = open_page("pages/builds.py", **PLAN_LINK)
    values = {n.label: n.value for n in at.number_input}
    assert values["Tokens/s per user"] == 25.0 and values["Electricity (USD/kWh)"] == 0.3
    assert (values["Wall circuit (V)"], values["Breaker (A)"]) == (230.0, 16.0)
    expected = plan(request_for("qwen2.5-14b"), CATALOG, budget_usd=3000, users=2,
                    hours_per_day=4, quant="best", min_tokens_per_s=25,
                    electricity_usd_per_kwh=0.3, circuit_volts=230, circuit_amps=16)
    assert totals(at) == [money_text(t.total_usd, "USD") for t in expected.tiers]
    speeds = [m.value for m in at.metric if m.label == "Generation per user (tok/s)"]
    assert all(float(s.replace(",", "")) >= 25 for s in speeds)
    checks = unescape(" ".join(m.value for m in at.markdown))
    assert f"{230 * 16 * 0.8:,.0f} W" in checks  # the 80 % limit of a 230 V 16 A circuit
    link = query_for(at.session_state[STATE_KEY])
    # Dollar amounts of an older link come back in the chosen currency's keys.
    renamed = {"budget_usd": "budget", "electricity_usd_per_kwh": "kwh_price"}
    assert {renamed.get(k, k): link[renamed.get(k, k)] for k in PLAN_LINK if k != "model"} == {
        renamed.get(k, k): v for k, v in PLAN_LINK.items() if k != "model"}
    assert "budget_usd" not in link and "electricity_usd_per_kwh" not in link


def test_changing_the_speed_per_user_changes_the_plan_and_the_link():
    at = open_page("pages/builds.py", **PLAN_LINK)
    at.number_input(key="w_builds_min_tokens_per_s").set_value(60.0).run()
    expected = plan(request_for("qwen2.5-14b"), CATALOG, budget_usd=3000, users=2,
                    hours_per_day=4, quant="best", min_tokens_per_s=60,
                    electricity_usd_per_kwh=0.3, circuit_volts=230, circuit_amps=16)
    assert totals(at) == [money_text(t.total_usd, "USD") for t in expected.tiers]
    assert query_for(at.session_state[STATE_KEY])["min_tokens_per_s"] == "60"


def test_an_empty_electricity_price_is_the_catalog_average_and_stays_out_of_the_link():
    at = open_page("pages/cloud.py", **TEAM)
    assert at.number_input(key="w_cloud_kwh_price").value is None
    assert "kwh_price" not in query_for(at.session_state[STATE_KEY])
    average = electricity_usd_per_kwh(CATALOG.market, override=None, region=None, requested=None)
    captions = unescape(" ".join(c.value for c in at.caption))
    assert f"{money_text(average, 'USD', digits=3)}/kWh" in captions
    assert "each sending 512 prompt tokens" in captions


def test_cloud_rows_are_the_plans(team_plan):
    at = open_page("pages/cloud.py", **TEAM)
    table = at.dataframe[0].value
    assert list(table["Instance"]) == [c.name for c in team_plan.cloud]
    assert list(table["Quant"]) == [c.quant for c in team_plan.cloud]


def test_a_circuit_outside_the_engine_range_in_the_link_is_ignored_and_said():
    at = open_page("pages/builds.py", **TEAM, circuit_volts="20")
    notices = [unescape(w.value) for w in at.warning
               if w.value.startswith("Ignored the link parameter")]
    assert len(notices) == 1 and "circuit_volts=20" in notices[0]
    # Left empty: the region's circuit, the US one for an English page.
    assert at.number_input(key="w_builds_circuit_volts").value is None
    captions = unescape(" ".join(c.value for c in at.caption))
    assert f"wall circuit {workload.DEFAULT_CIRCUIT_VOLTS:g} V / 15 A" in captions


def test_chinese_page_states_the_workload():
    at = open_page("pages/builds.py", **TEAM, lang="zh")
    captions = unescape(" ".join(c.value for c in at.caption))
    assert "5 位用户同时使用，每人发送 512 个提示 token、生成 512 个新 token" in captions
    assert "Sized for" not in captions
