"""AppTest of the pages other than the Configurator, and of the shared URL state."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from advisor.plan import MAX_BUDGET_USD, MAX_HOURS_PER_DAY, MAX_USERS
from advisor.workload import DEFAULT_USERS
from catalog.catalog import load_catalog
from pages._state import MEMO_KEY, STATE_KEY, query_for
from sizing.request import MAX_BATCH, MAX_GPUS, MAX_TOKENS

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def test_compare_charts_memory_for_each_chosen_gpu():
    at = open_page("pages/compare.py", compare="rtx-3060-12gb,rtx-4090,h100-sxm")
    assert at.title[0].value == "Compare GPUs"
    figures = charts(at)
    memory = figures[0]
    assert memory["data"][0]["x"] == [load_catalog().gpu(g).name
                                      for g in ("rtx-3060-12gb", "rtx-4090", "h100-sxm")]
    assert memory["data"][0]["x"][0] == "NVIDIA GeForce RTX 3060 12GB"
    usable = memory["data"][1]["y"]
    assert usable[0] < usable[1] < usable[2]
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert titles == ["Memory needed vs capacity", "Generation speed (tokens/s)",
                      "Tokens/s per 1,000 USD", "Tokens/s per watt", "Price vs performance"]
    speed = figures[1]
    assert len(speed["data"][0]["y"]) == 3 and all(v > 0 for v in speed["data"][0]["y"])
    assert speed["data"][0]["y"][0] < speed["data"][0]["y"][2]  # an H100 outruns an RTX 3060


def test_compare_groups_consumer_and_professional_cards():
    at = open_page("pages/compare.py", compare="rtx-4090,l40s")
    scatter = charts(at)[-1]
    assert {trace["legendgroup"] for trace in scatter["data"]} == {"Consumer", "Professional"}
    assert [trace["name"] for trace in scatter["data"]] == ["NVIDIA GeForce RTX 4090", "NVIDIA L40S"]


def test_compare_leaves_out_gpus_the_runtime_cannot_use():
    # The sidebar's machine runs MLX; the RTX 4090 beside it cannot.
    at = open_page("pages/compare.py", compare="rtx-4090,apple-m2-max-38c", runtime="mlx",
                   quant="mlx-4bit", gpu="apple-m2-max-38c")
    assert any(i.value.startswith("Left out") and "RTX 4090" in i.value for i in at.info)
    assert len(charts(at)[0]["data"][0]["x"]) == 1


def test_builds_and_cloud_keep_their_inputs_in_the_link():
    at = open_page("pages/builds.py", budget="3500", users="12", hours_per_day="6",
                   currency="EUR")
    assert at.title[0].value == "What to buy"
    values = {n.label: n.value for n in at.number_input}
    assert values["Budget (EUR)"] == 3500.0 and values["Users"] == 12
    link = query_for(at.session_state[STATE_KEY])
    assert (link["budget"], link["users"], link["currency"]) == ("3500", "12", "EUR")
    at.switch_page("pages/cloud.py")
    at.run()
    assert at.title[0].value == "Rent or buy"
    assert {n.label: n.value for n in at.number_input}["Hours of use per day"] == 6.0


def test_widget_bounds_are_the_engine_limits():
    at = open_page("pages/builds.py")
    bounds = {n.label: (n.min, n.max) for n in at.number_input}
    assert bounds["Users"] == (1, MAX_USERS)
    assert bounds["Hours of use per day"] == (0.0, MAX_HOURS_PER_DAY)
    assert bounds["Budget (USD)"] == (0.0, MAX_BUDGET_USD)
    assert bounds["Concurrent sequences"] == (1, MAX_BATCH) and bounds["Number of GPUs"] == (1, MAX_GPUS)
    assert bounds["Prompt tokens"] == (0, MAX_TOKENS)


def test_a_link_beyond_the_advisor_limits_is_ignored():
    at = open_page("pages/builds.py", users=str(MAX_USERS + 1), hours_per_day="25")
    notices = [w.value for w in at.warning if w.value.startswith("Ignored the link parameter")]
    assert len(notices) == 2 and all("above the largest allowed value" in n for n in notices)
    assert {n.label: n.value for n in at.number_input}["Users"] == DEFAULT_USERS
    at = open_page("pages/builds.py", users=str(MAX_USERS), budget_usd="9000")
    assert {n.label: n.value for n in at.number_input}["Users"] == MAX_USERS
    assert not at.exception and at.subheader


def test_report_offers_the_estimate_and_names_the_verdict():
    at = open_page("pages/reports.py", model="qwen2.5-14b", gpu="rtx-3090")
    assert at.title[0].value == "Report"
    assert "Qwen2.5 14B Instruct on NVIDIA GeForce RTX 3090: fits." in [m.value for m in at.markdown]
    labels = [e.proto.label for e in at.get("download_button")]
    assert labels == ["Download estimate (JSON)", "Download report (HTML)", "Download report (PDF)"]
    assert not at.info


def test_method_lists_sources_with_dates():
    at = open_page("pages/method.py")
    assert at.title[0].value == "Method & accuracy"
    text = " ".join(m.value for m in at.markdown)
    assert "Grouped-query attention" in text and "Latent attention" in text
    gpus = at.dataframe[0].value
    assert len(gpus) >= 100 and set(gpus["Source"].str[:4]) == {"http"}


def test_chinese_method_page():
    at = open_page("pages/method.py", lang="zh")
    assert at.title[0].value == "方法与准确度"
    assert "分组查询注意力" in " ".join(m.value for m in at.markdown)


def test_configuration_survives_page_changes():
    at = open_page(None, model="qwen2.5-32b", gpu="rtx-3090", context_tokens="16384")
    for page in ("pages/compare.py", "pages/method.py", "pages/configurator.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception
    boxes = {s.label: s.value for s in at.selectbox}
    assert boxes["Model"] == "qwen2.5-32b" and boxes["GPU"] == "rtx-3090"
    assert {n.label: n.value for n in at.number_input}["Context tokens"] == 16384
    assert query_for(at.session_state[STATE_KEY])["context_tokens"] == "16384"


def test_bad_link_values_are_ignored_with_a_notice():
    at = open_page(None, gpu="<script>alert(1)</script>", model="no-such-model",
                   batch="1e99", prompt_tokens="-5", colour="red", lang="xx")
    notices = [w.value for w in at.warning]
    assert len([n for n in notices if n.startswith("Ignored the link parameter")]) == 6
    assert not any("<script>" in n for n in notices)
    assert any("not a known id" in n for n in notices)
    assert any("'batch=1e99': above the largest allowed value, 4,096" in n for n in notices)
    assert any("'prompt\\_tokens=\\-5': below the smallest allowed value, 0" in n for n in notices)
    boxes = {s.label: s.value for s in at.selectbox}
    assert boxes["Model"] == "llama-3.1-8b"
    assert at.success[0].value.startswith("Fits")


def test_every_page_renders_in_both_languages():
    for lang in ("en", "zh"):
        for page in ("pages/configurator.py", "pages/compare.py", "pages/builds.py",
                     "pages/cloud.py", "pages/reports.py", "pages/method.py"):
            at = open_page(page, lang=lang)
            assert at.title, (lang, page)
            assert not at.error, (lang, page, [e.value for e in at.error])


def test_the_session_holds_widget_values_and_two_entries_of_the_app_s_own():
    """Streamlit reads every session entry on each widget call: the app's own values
    (the link's notices, the page, what was pasted, the report's origin) share one entry."""
    at = open_page(gpu="nope", ram_gib="abc")  # two notices
    at.text_area(key="w_smi_paste").input("name, memory.total [MiB]\nNVIDIA GeForce RTX 3090, 24576 MiB\n")
    at.run()
    at.switch_page("pages/builds.py")
    at.run()
    assert not at.exception
    own = {key for key in at.session_state.keys() if not key.startswith("w_")}
    assert own == {STATE_KEY, MEMO_KEY}
    memo = at.session_state[MEMO_KEY]
    assert memo["page"] == memo["origin"] == "builds"
    assert [name for name, _, _ in memo["notices"]] == ["gpu", "ram_gib"]
    assert memo["smi_result"][1] == "rtx-3090"
