"""AppTest of the Builds and Cloud pages: the values shown are the engine's."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from advisor.plan import plan
from advisor.results import PlanResult
from catalog.catalog import load_catalog
from pages._state import DEFAULTS, STATE_KEY
from report import plan_charts as pc
from report.formats import money_text
from sizing.request import parse_request

APP = str(Path(__file__).resolve().parent.parent / "app.py")
REQUEST_KEYS = ("quant", "runtime", "kv_cache", "prompt_tokens", "new_tokens", "context_tokens",
                "batch", "gpu", "gpu_count")


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)  # a plan searches every GPU
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception
    return at


def engine_plan(*, model: str, budget_usd: float, users: int = 1, currency: str = "USD"):
    """The plan the pages ask for: the sidebar defaults with these inputs, runtimes and
    precisions searched (the pages' default)."""
    data = {key: DEFAULTS[key] for key in REQUEST_KEYS}
    data["model"] = model
    return plan(parse_request(data), load_catalog(), budget_usd=budget_usd, users=users,
                hours_per_day=DEFAULTS["hours_per_day"], currency=currency, quant="best")


def unescape(text: str) -> str:
    return text.replace("\\", "")


def charts(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def alive_after_reruns(at: AppTest, kind: type, suffix: str, values: tuple) -> int:
    """How many ``kind`` objects live after reruns that set the number input whose key ends
    in ``suffix`` to each value. The collector is off meanwhile, so what only it would free
    (a page's globals and functions form a reference cycle) still counts."""
    gc.disable()
    try:
        for value in values:
            next(e for e in at.number_input if e.key and e.key.endswith(suffix)).set_value(value)
            at.run()
            assert not at.exception
        return sum(isinstance(o, kind) for o in gc.get_objects())
    finally:
        gc.enable()


@pytest.fixture(scope="module")
def builds_70b():
    return open_page("pages/builds.py", model="llama-3.1-70b", budget_usd="3000", users="1")


def test_builds_show_three_tiers_with_the_engine_totals(builds_70b):
    at = builds_70b
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000)
    assert [t.tier for t in expected.tiers] == ["budget", "balanced", "workstation"]
    assert [s.value for s in at.subheader][:3] == ["Budget", "Balanced", "Workstation"]
    totals = [m.value for m in at.metric if m.label == "Total"]
    assert totals == [money_text(t.total_usd, "USD") for t in expected.tiers]
    assert "stretch, over budget" in " ".join(m.value for m in at.markdown)
    assert unescape(at.success[0].value).startswith("1 distinct build runs Llama 3.1 70B")
    assert not at.warning
    # The advisor's own sentence for the headline is not repeated under it.
    assert not [c.value for c in at.caption if "distinct build" in c.value]


def test_builds_do_not_repeat_a_tier_that_is_the_same_build(builds_70b):
    at = builds_70b
    assert [i.value for i in at.info] == ["Same build as Budget."]
    # Each parts list is a two-column Markdown table (part, price) that wraps in its card.
    parts = [unescape(m.value).splitlines() for m in at.markdown
             if m.value.startswith("| Parts | Price |")]
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000)
    assert [len(p) - 2 for p in parts] == [len(expected.tiers[0].parts),
                                           len(expected.tiers[2].parts)]
    gpu = expected.tiers[0].parts[0]
    count = f"{gpu.quantity} × " if gpu.quantity > 1 else ""
    assert parts[0][2].startswith(f"| **GPU** {count}{gpu.name}")
    assert parts[0][2].endswith(f"| {money_text(gpu.total_usd, 'USD')} |")
    assert gpu.used and not any("(used) (used)" in line for p in parts for line in p)


def test_builds_show_numbers_and_checks(builds_70b):
    at = builds_70b
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000).tiers[0]
    figures = unescape(next(m.value for m in at.markdown  # the first (budget) tier's card
                            if m.value.startswith("Generation per user:"))).split("  \n")
    assert figures[0] == f"Generation per user: **{expected.decode_tokens_per_s_per_user:,.1f} tokens/s**"
    assert f"Power supply: **{expected.psu_w:,.0f} W**" in figures
    assert (f"GPU temperature: **{expected.gpu_temp_c:,.0f} °C "
            f"({expected.gpu_temp_full_load_c:,.0f} °C at full board power)**") in figures
    checks = unescape(next(m.value for m in at.markdown if "PCIe lanes" in m.value))
    assert checks.count(":green[:material/check_circle: pass]") == 8
    assert (f"PCIe lanes: {expected.checks.pcie_lanes_needed} of "
            f"{expected.checks.pcie_lanes_available} used") in checks


def test_builds_compare_consumer_and_professional_and_chart_the_builds(builds_70b):
    at = builds_70b
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000)
    metrics = {m.label: m.value for m in at.metric}
    cvp = expected.consumer_vs_pro
    assert metrics["Cheapest consumer build"] == money_text(cvp.consumer.total_usd, "USD")
    assert metrics["Cheapest professional build"] == money_text(cvp.professional.total_usd, "USD")
    cards = next(d.value for d in at.dataframe if "Segment" in d.value.columns)
    assert set(cards["Segment"]) <= {"Consumer", "Professional", "Datacenter"}
    assert 2 <= len(cards) <= 8
    # The driver terms wrap below the table, once per kind of card, naming its cards.
    terms = [c.value for c in at.caption if c.value.startswith("- Driver terms for ")][0]
    names = set(cards["GPU"].str.removesuffix(" (used)"))
    texts = {str(v.driver_terms) for v in expected.gpu_values if v.gpu_name in names}
    assert texts and all(text in unescape(terms) for text in texts)
    assert all(name in unescape(terms) for name in names)
    figure = charts(at)[0]
    assert figure["layout"]["title"]["text"] == "Price vs generation speed"
    assert [trace["name"] for trace in figure["data"]] == [
        pc.roles_text(p.roles) for p in pc.value_points(expected)]
    assert figure["data"][0]["name"].startswith("Budget = Balanced")


def test_over_budget_leads_with_cloud():
    at = open_page("pages/builds.py", model="llama-3.1-70b", budget_usd="1500", users="1")
    expected = engine_plan(model="llama-3.1-70b", budget_usd=1500)
    assert not expected.meets_workload_within_budget and expected.lead_with_cloud
    assert not at.success
    warning = unescape(at.warning[0].value)
    assert warning.startswith("Nothing within $1,500 runs Llama 3.1 70B")
    assert "Lead with cloud: rent " in warning
    best = next(c for c in expected.cloud if c.meets_workload)
    assert best.name in warning
    assert [m.value for m in at.metric if m.label == "Total"] == [
        money_text(expected.tiers[0].total_usd, "USD")]
    assert "stretch, over budget" in " ".join(m.value for m in at.markdown)


def test_builds_in_euros_and_chinese():
    at = open_page("pages/builds.py", model="llama-3.1-70b", budget_usd="3000", users="1",
                   currency="EUR", lang="zh")
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000, currency="EUR")
    assert [s.value for s in at.subheader][:3] == ["经济型", "均衡型", "工作站型"]
    totals = [m.value for m in at.metric if m.label == "总价"]
    assert totals == [money_text(t.total_in_currency, "EUR") for t in expected.tiers]
    assert at.info[0].value == "与经济型配置相同。"
    assert not at.error


def test_engine_error_is_shown_and_inputs_kept():
    at = open_page("pages/builds.py", model="llama-3.1-70b", budget_usd="3000", users="1")
    at.number_input(key="w_builds_budget").set_value(0.0).run()
    assert "budget must be above 0" in unescape(at.error[0].value)
    assert at.number_input(key="w_builds_budget").value == 0.0
    assert at.session_state[STATE_KEY]["model"] == "llama-3.1-70b"
    at.number_input(key="w_builds_budget").set_value(3000.0).run()
    assert not at.error and at.success


@pytest.fixture(scope="module")
def cloud_70b():
    return open_page("pages/cloud.py", model="llama-3.1-70b", budget_usd="3000", users="1")


def test_cloud_table_holds_every_fitting_instance(cloud_70b):
    at = cloud_70b
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000)
    table = at.dataframe[0].value
    assert len(table) == len(expected.cloud)
    # Money and speed first, a column per build's break-even in months, the precision last.
    assert not all(c.meets_workload for c in expected.cloud)
    assert list(table.columns) == ["Instance", "Per 1M tokens", "Per hour", "tok/s per user",
                                   "On target", "Budget", "Balanced", "Workstation", "Quant"]
    assert sum(table["On target"]) == sum(c.meets_workload for c in expected.cloud)
    first = expected.cloud[0]
    assert table["Instance"].iloc[0] == first.name
    assert table["Per hour"].iloc[0] == pytest.approx(first.usd_per_hour)
    assert table["Per 1M tokens"].iloc[0] == pytest.approx(first.usd_per_1m_tokens)
    assert table["Budget"].iloc[0] == pytest.approx(first.break_even_months["budget"])
    assert unescape(at.success[0].value).startswith("Buying pays back")


def test_cloud_table_sorts(cloud_70b):
    at = cloud_70b
    at.selectbox(key="w_cloud_sort").set_value("speed").run()
    speeds = list(at.dataframe[0].value["tok/s per user"])
    assert speeds == sorted(speeds, reverse=True)
    at.selectbox(key="w_cloud_sort").set_value("per_1m").run()


def test_cloud_break_even_chart_marks_the_engine_crossings(cloud_70b):
    at = cloud_70b
    expected = engine_plan(model="llama-3.1-70b", budget_usd=3000)
    figure = charts(at)[0]
    names = [trace["name"] for trace in figure["data"]]
    chosen = pc.cheapest_cloud(expected.cloud, 3)
    assert names == ["Budget = Balanced (purchase + electricity)",
                     "Workstation (purchase + electricity)",
                     *[pc.cloud_name(o) for o in chosen], "Break-even"]
    marks = sorted(figure["data"][-1]["x"])
    engine = sorted(o.break_even_months[tier] for o in chosen for tier in ("budget", "workstation"))
    assert marks == pytest.approx(engine, abs=0.05)


def test_cloud_says_never_when_renting_is_cheaper_to_run():
    at = open_page("pages/cloud.py", model="llama-3.1-70b", budget_usd="3000", users="1",
                   hours_per_day="0")
    assert at.info[0].value.startswith("Renting the cheapest instance costs no more")
    element = at.dataframe[0]
    table = element.value
    assert table["Budget"].isna().all()
    # The cells stay numbers (a header click sorts by value); an empty one reads "never".
    assert table["Per hour"].dtype.kind == table["Budget"].dtype.kind == "f"
    assert element.proto.placeholder == "never"
    columns = json.loads(element.proto.columns)
    assert columns["Per hour"]["type_config"]["format"] == "$%,.2f"
    assert columns["Budget"]["type_config"]["format"] == "%,.1f"
    assert any(c.value.startswith("“never”") for c in at.caption)
    assert "Break-even" not in [t["name"] for t in charts(at)[0]["data"]]


def test_cloud_over_budget_leads_with_cloud_in_chinese():
    at = open_page("pages/cloud.py", model="llama-3.1-70b", budget_usd="1500", users="1",
                   lang="zh")
    assert at.title[0].value == "租还是买"
    assert unescape(at.warning[0].value).startswith("建议先租用云端：租用 ")
    assert "经济型" in at.dataframe[0].value.columns
    assert at.dataframe[0].proto.placeholder == "永不"
    assert charts(at)[0]["layout"]["title"]["text"] == "累计花费：购买与租用"


def test_chinese_builds_page_translates_the_engine_sentences():
    at = open_page("pages/builds.py", lang="zh", model="llama-3.1-70b", budget_usd="3000",
                   users="1")
    markdown = unescape(" ".join(m.value for m in at.markdown))
    assert "目录中没有显卡长度数据：请确认机箱的显卡限长" in markdown
    assert "Card length is not in the catalog" not in markdown
    captions = unescape(" ".join(c.value for c in at.caption))
    # The headline says how many builds run the model; no caption says it again.
    assert "有 1 套不同的配置" in unescape(at.success[0].value)
    assert "1 套不同的配置" not in captions
    assert "GeForce 显卡按驱动许可不得部署在数据中心" in captions
    assert "distinct build(s)" not in captions
    terms = [c.value for c in at.caption if "的驱动条款：" in c.value]
    assert terms and "drivers" not in terms[0]


def test_chinese_cloud_page_translates_the_engine_message():
    at = open_page("pages/cloud.py", lang="zh", model="llama-3.1-70b", budget_usd="1500",
                   users="1")
    captions = unescape(" ".join(c.value for c in at.caption))
    # The headline says "rent first"; the caption adds the advisor's other sentences, translated.
    assert "建议先租用云端：租用 " in unescape(at.warning[0].value)
    assert "建议先用云端：租用" not in captions and "Cloud first" not in captions
    assert "以内没有配置能以每用户 10 tokens/s 的速度" in captions
    assert "Nothing within" not in captions


def test_builds_say_a_yen_budget_below_every_machine_in_yen():
    at = open_page("pages/builds.py", model="llama-3.1-8b", budget="1", currency="JPY")
    assert "a budget of 1 JPY is below the cheapest complete machine" in unescape(at.error[0].value)


def test_builds_for_an_embedding_model_hold_it_instead_of_asking_for_a_speed():
    at = open_page("pages/builds.py", model="qwen3-embedding-8b")
    said = unescape(at.success[0].value)  # the headline, not a per-user speed
    assert not at.error and "3 distinct builds hold Qwen3-Embedding 8B within the budget" in said
    assert "the fastest embeds" in said and "per user" not in said


def test_builds_say_the_budget_range_in_the_page_currency():
    at = open_page("pages/builds.py", model="llama-3.1-8b", currency="JPY")
    next(n for n in at.number_input if n.key and n.key.endswith("_budget")).set_value(0.0).run()
    said = unescape(at.error[0].value)
    assert "budget must be above 0 and at most JP¥" in said and "(got JP¥0)" in said
    assert "USD" not in said


def test_builds_page_headline_and_captions_say_the_embedding_speed():
    at = open_page("pages/builds.py", model="qwen3-embedding-8b")
    [headline] = [s.value for s in at.success]
    assert "embeds" in headline and "per user" not in headline
    captions = [c.value for c in at.caption]
    assert not any("0.0 tokens/s" in c for c in captions)
    assert any("input tokens" in c and "generates nothing" in c for c in captions)
    assert any("embeds" in c and "tokens/s" in c for c in captions)
    assert not any("tokens/s or more per user" in c for c in captions)


def test_cloud_page_prices_an_embedding_model_per_million_input_tokens():
    at = open_page("pages/cloud.py", model="qwen3-embedding-8b")
    frame = at.dataframe[0].value
    assert "Per 1M input tokens" in frame.columns and "Embedded tok/s" in frame.columns
    assert "tok/s per user" not in frame.columns
    assert len(frame) > 10 and (frame["Embedded tok/s"] > 0).all()


def test_builds_page_says_an_embedding_stretch_tier_gain_by_embedding_speed():
    at = open_page("pages/builds.py", model="qwen3-embedding-8b", budget_usd="800")
    expected = engine_plan(model="qwen3-embedding-8b", budget_usd=800)
    stretch = expected.tiers[-1]
    assert stretch.stretch and stretch.task == "embed"
    inside = max(t.prefill_tokens_per_s for t in expected.tiers if t.within_budget)
    gain = f"{stretch.prefill_tokens_per_s / inside - 1:.0%}"
    assert any(gain in unescape(c.value) for c in at.caption)


@pytest.mark.parametrize("page", ["pages/builds.py", "pages/cloud.py"])
def test_a_rerun_leaves_no_earlier_plan_alive(page):
    """A run's plan is freed when the page returns: kept by the page's globals, every
    earlier rerun's plan would wait for a full garbage collection, which walks them all."""
    def plans_alive() -> int:
        return sum(isinstance(o, PlanResult) for o in gc.get_objects())

    before = plans_alive()
    at = open_page(page, budget="3000")
    for context in (5000, 6000, 7000, 9000):
        next(e for e in at.number_input
             if e.key and e.key.endswith("_context_tokens")).set_value(context)
        at.run()
        assert not at.exception
    assert plans_alive() <= before
