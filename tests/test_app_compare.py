"""The Compare page: a table of numbers per GPU, marked offload, readable charts."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from sizing.estimate import Estimate, estimate
from sizing.request import parse_request
from tests.test_app_builds_cloud import alive_after_reruns

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# GLM-4-9B at 8-bit with a 32K context: the 12 GB and 10 GB cards keep some layers in RAM.
GLM_INT8 = {"model": "glm-4-9b", "quant": "q8_0", "context_tokens": "32768"}
GPUS = ("rtx-3060-12gb", "rtx-3080-10gb", "rtx-4070-ti", "rtx-4090", "apple-m3-ultra-80c")


def open_compare(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception
    return at


def figures(at: AppTest) -> dict[str, dict]:
    return {json.loads(e.proto.spec)["layout"]["title"]["text"]: json.loads(e.proto.spec)
            for e in at.get("plotly_chart")}


@pytest.fixture(scope="module")
def glm():
    cat = load_catalog()
    expected = {g: estimate(parse_request({"model": "glm-4-9b", "quant": "q8_0", "gpu": g,
                                           "context_tokens": 32768}), cat) for g in GPUS}
    return open_compare(**GLM_INT8, compare=",".join(GPUS)), expected, cat


def test_the_table_gives_each_gpu_its_verdict_layers_speeds_and_value(glm):
    at, expected, cat = glm
    table = at.dataframe[0].value
    assert list(table["GPU"]) == [cat.gpu(g).name for g in GPUS]
    rows = {name: row for name, row in zip(table["GPU"], table.to_dict("records"))}
    offloaded = [g for g in GPUS if expected[g].memory.verdict == "fits-with-offload"]
    assert {"rtx-3060-12gb", "rtx-3080-10gb", "rtx-4070-ti"} <= set(offloaded)
    for gpu_id in GPUS:
        result, row = expected[gpu_id], rows[cat.gpu(gpu_id).name]
        mem, speed = result.memory, result.speed
        assert row["Verdict"] == {"fits": "fits", "fits-with-offload": "fits with offload",
                                  "does-not-fit": "does not fit"}[mem.verdict]
        assert row["GPU layers"] == f"{mem.gpu_layers} / {mem.num_layers}"
        assert row["Headroom"] == pytest.approx(mem.headroom_bytes / 2**30, abs=0.051)
        assert row["Decode tok/s"] == pytest.approx(speed.decode_tokens_per_s, abs=0.051)
        assert row["Decode band"] == (f"{speed.decode_tokens_per_s_low:,.1f}–"
                                      f"{speed.decode_tokens_per_s_high:,.1f}")
        assert row["Prefill tok/s"] == pytest.approx(speed.prefill_tokens_per_s, abs=0.51)
        assert row["Prefill band"] == (f"{speed.prefill_tokens_per_s_low:,.0f}–"
                                       f"{speed.prefill_tokens_per_s_high:,.0f}")
        price = result.gpu_price_usd  # as configured (a Mac at its memory size)
        if price is None:
            assert pd.isna(row["Price (USD)"]) and pd.isna(row["tok/s per 1,000 USD"])
        else:
            assert row["Price (USD)"] == pytest.approx(price)
            assert row["tok/s per 1,000 USD"] == pytest.approx(
                speed.decode_tokens_per_s / price * 1000, abs=0.006)
    for gpu_id in offloaded:  # the offloaded cards hold fewer than all layers
        assert rows[cat.gpu(gpu_id).name]["GPU layers"] != "40 / 40"
    assert any("Fits with offload" in c.value for c in at.caption)


def test_offloaded_bars_are_hatched_labelled_and_in_the_legend(glm):
    at, expected, cat = glm
    for title in ("Generation speed (tokens/s)", "Tokens/s per 1,000 USD", "Tokens/s per watt"):
        traces = {t["name"]: t for t in figures(at)[title]["data"]}
        moved = traces["Offloaded to system RAM"]
        assert moved["marker"]["pattern"]["shape"] == "/"
        assert traces["Entirely on the GPU"]["marker"]["pattern"]["shape"] == ""
        for i, gpu_id in enumerate(GPUS):
            is_offloaded = expected[gpu_id].memory.verdict == "fits-with-offload"
            assert traces["Entirely on the GPU"]["y"][i] is None or not is_offloaded
            assert moved["y"][i] is None or is_offloaded
    speed = {t["name"]: t for t in figures(at)["Generation speed (tokens/s)"]["data"]}
    for i, gpu_id in enumerate(GPUS):
        mem = expected[gpu_id].memory
        if mem.verdict == "fits-with-offload":
            assert speed["Offloaded to system RAM"]["y"][i] == pytest.approx(
                expected[gpu_id].speed.decode_tokens_per_s)
            assert speed["Offloaded to system RAM"]["text"][i] == \
                f"offload {mem.gpu_layers}/{mem.num_layers}"
        else:
            assert speed["Entirely on the GPU"]["y"][i] == pytest.approx(
                expected[gpu_id].speed.decode_tokens_per_s)


def test_a_512_gb_mac_puts_memory_on_a_log_axis(glm):
    at, expected, cat = glm
    memory = figures(at)["Memory needed vs capacity"]
    assert memory["layout"]["yaxis"]["type"] == "log"
    usable = memory["data"][1]["y"]
    assert max(usable) / min(usable) > 40  # 491 GiB against 10 GiB
    low, high = memory["layout"]["yaxis"]["range"]
    assert 10 ** low < min(usable) and 10 ** high > max(usable)
    similar = open_compare(compare="rtx-3090,rtx-4090")
    assert figures(similar)["Memory needed vs capacity"]["layout"]["yaxis"].get("type") != "log"


def test_legends_sit_above_the_plot_and_tick_labels_get_room(glm):
    at, _, _ = glm
    for title, fig in figures(at).items():
        legend, xaxis = fig["layout"]["legend"], fig["layout"]["xaxis"]
        assert xaxis.get("automargin") is True, title
        if legend.get("orientation") == "h":  # above the plot, never over the GPU names
            assert legend["y"] >= 1 and legend["yanchor"] == "bottom", title
        else:  # to the right of the plot
            assert legend["x"] >= 1, title


def test_typing_a_name_cannot_select_every_match():
    at = open_compare(compare="rtx-3090")
    assert at.multiselect[0].proto.select_all == 0  # Streamlit's default, 1000, offers "Select N matches"


def test_price_and_headroom_columns_format_their_numbers_in_the_chosen_currency():
    at = open_compare(compare="rtx-3090,apple-m2-max-38c", currency="CNY")
    table = at.dataframe[0]
    columns = json.loads(table.proto.columns)
    assert columns["Price (CNY)"]["type_config"]["format"] == "¥%,.0f"
    assert columns["Headroom"]["type_config"]["format"] == "%,.1f GiB"
    prices = table.value["Price (CNY)"]  # numbers, so the column sorts by value
    cat = load_catalog()
    units = next(c for c in cat.market.currencies if c.code == "CNY")
    assert prices[0] == pytest.approx(cat.gpu("rtx-3090").price_usd * units.units_per_usd)
    assert pd.isna(prices[1])  # a Mac priced by memory size has no chip price


def test_a_rerun_leaves_no_earlier_estimate_alive():
    """The estimates of a run are freed when the page returns, not kept by the page's
    globals until a full garbage collection."""
    before = sum(isinstance(o, Estimate) for o in gc.get_objects())
    at = open_compare(compare="rtx-3090,rtx-4090,l40s")
    assert alive_after_reruns(at, Estimate, "_context_tokens", (5000, 6000, 7000, 9000)) <= before
    assert len(at.dataframe[0].value) == 3  # a row per chosen GPU
