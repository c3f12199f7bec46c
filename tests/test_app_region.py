"""Builds and Cloud in the user's own terms: the budget in the chosen currency, the
region's electricity price and wall circuit with their sources, and own prices."""

from __future__ import annotations

import pytest

from advisor.plan import plan
from catalog.catalog import load_catalog
from pages._state import STATE_KEY, query_for
from report.formats import money_text
from tests.test_app_builds_cloud import REQUEST_KEYS, open_page, unescape
from pages._state import DEFAULTS
from sizing.estimate import estimate
from sizing.request import parse_request

CATALOG = load_catalog()
CNY_PER_USD = CATALOG.market.currency("CNY").units_per_usd
CHINA = {"lang": "zh", "currency": "CNY", "budget": "6000", "model": "qwen2.5-14b"}


def page_plan(model: str, **options):
    """The plan the page asks for: the sidebar defaults, runtimes and precisions searched."""
    data = {key: DEFAULTS[key] for key in REQUEST_KEYS} | {"model": model}
    return plan(parse_request(data), CATALOG, hours_per_day=DEFAULTS["hours_per_day"],
                quant="best", **options)


@pytest.fixture(scope="module")
def china_builds():
    return open_page("pages/builds.py", **CHINA)


def test_a_chinese_link_budgets_in_yuan(china_builds):
    at = china_builds
    assert at.number_input(key="w_builds_budget").label == "预算（CNY）"
    assert at.number_input(key="w_builds_budget").value == 6000.0
    assert "¥6,000" in unescape(at.success[0].value)
    expected = page_plan("qwen2.5-14b", budget_usd=6000 / CNY_PER_USD, currency="CNY",
                         electricity_usd_per_kwh=0.078, circuit_volts=220, circuit_amps=10)
    totals = [m.value for m in at.metric if m.label == "总价"]
    assert totals == [money_text(t.total_in_currency, "CNY") for t in expected.tiers]
    link = query_for(at.session_state[STATE_KEY])
    assert (link["budget"], link["currency"]) == ("6000", "CNY") and "budget_usd" not in link


def test_a_chinese_link_uses_the_chinese_presets_with_their_sources(china_builds):
    at = china_builds
    assert at.selectbox(key="w_builds_region").value == "china"
    captions = unescape(" ".join(c.value for c in at.caption))
    kwh = money_text(0.078 * CNY_PER_USD, "CNY", digits=3)  # ¥0.554, not the US ¥1.33
    assert f"中国：电价每千瓦时 {kwh}" in captions
    assert "墙壁电路 220 伏 / 10 安" in captions
    assert "statista.com/statistics/1373587" in captions
    assert "plugsocketmuseum.nl/China1.html" in captions
    assert captions.count("1 美元 = 7.1 CNY（2025-12-01 汇率）") == 1
    checks = unescape(" ".join(m.value for m in at.markdown))
    assert f"{220 * 10 * 0.8:,.0f} W" in checks  # the 80 % limit of a 220 V 10 A socket
    # Empty fields stand for the presets, named in their placeholders.
    assert at.number_input(key="w_builds_circuit_amps").value is None


def test_changing_the_currency_keeps_the_budget_worth_the_same():
    at = open_page("pages/builds.py", budget="2000", model="qwen2.5-14b")
    at.selectbox(key="w_builds_currency").set_value("CNY").run()
    assert at.number_input(key="w_builds_budget").value == pytest.approx(2000 * CNY_PER_USD)
    assert at.number_input(key="w_builds_budget").label == "Budget (CNY)"
    at.selectbox(key="w_builds_region").set_value("germany").run()
    # An explicit currency stays; the region's circuit comes with the region.
    assert at.selectbox(key="w_builds_currency").value == "CNY"
    link = query_for(at.session_state[STATE_KEY])
    assert link["region"] == "germany" and "circuit_volts" not in link
    assert "wall circuit 230 V / 16 A" in unescape(" ".join(c.value for c in at.caption))


def test_an_old_dollar_link_reads_in_the_chosen_currency():
    at = open_page("pages/cloud.py", budget_usd="1000", electricity_usd_per_kwh="0.2",
                   currency="CNY", model="qwen2.5-14b")
    assert at.number_input(key="w_cloud_budget").value == pytest.approx(1000 * CNY_PER_USD)
    assert at.number_input(key="w_cloud_kwh_price").value == pytest.approx(0.2 * CNY_PER_USD)


def test_an_own_price_in_the_link_changes_a_tier():
    at = open_page("pages/builds.py", budget="2000", model="qwen2.5-14b",
                   price="rtx-3090:200", circuit="230x16")
    assert at.text_input(key="w_builds_price").value == "rtx-3090:200"
    expected = page_plan("qwen2.5-14b", budget_usd=2000, circuit_volts=230, circuit_amps=16,
                         electricity_usd_per_kwh=0.1872, own_prices_usd={"rtx-3090": 200.0})
    listed = page_plan("qwen2.5-14b", budget_usd=2000, circuit_volts=230, circuit_amps=16,
                       electricity_usd_per_kwh=0.1872)
    assert [t.total_usd for t in expected.tiers] != [t.total_usd for t in listed.tiers]
    totals = [m.value for m in at.metric if m.label == "Total"]
    assert totals == [money_text(t.total_usd, "USD") for t in expected.tiers]
    parts = unescape(" ".join(m.value for m in at.markdown))
    assert "NVIDIA GeForce RTX 3090 (your price)" in parts
    link = query_for(at.session_state[STATE_KEY])
    assert link["price"] == "rtx-3090:200"
    assert (link["circuit_volts"], link["circuit_amps"]) == ("230", "16")


def test_a_bad_own_price_is_one_line_and_the_listed_prices_stand():
    at = open_page("pages/builds.py", budget="2000", model="qwen2.5-14b")
    at.text_input(key="w_builds_price").set_value("rtx-3900:300").run()
    assert any("unknown GPU or part 'rtx-3900'" in unescape(e.value) for e in at.error)
    assert [m.value for m in at.metric if m.label == "Total"]


def test_compare_and_configurator_price_in_the_regions_currency():
    at = open_page("pages/compare.py", lang="zh", compare="rtx-3090,rtx-4090")
    table = at.dataframe[0].value
    prices = dict(zip(table["显卡"], table["价格（CNY）"]))
    card = CATALOG.gpu("rtx-4090")
    row = next(v for k, v in prices.items() if card.name in k)
    assert row == pytest.approx(card.price_usd * CNY_PER_USD)
    assert "每 1,000 CNY 的 tok/s" in table.columns
    at = open_page("pages/configurator.py", lang="zh", model="qwen2.5-14b", gpu="rtx-3090")
    data = {key: DEFAULTS[key] for key in REQUEST_KEYS} | {"model": "qwen2.5-14b",
                                                           "gpu": "rtx-3090"}
    china = estimate(parse_request(data | {"electricity_usd_per_kwh": 0.078}), CATALOG)
    cost = next(m.value for m in at.metric if m.label == "每百万 token 电费")
    assert cost == money_text(china.power.cost_usd_per_1m_tokens * CNY_PER_USD, "CNY", digits=2)


def test_the_dearest_electricity_price_survives_a_change_of_currency():
    at = open_page("pages/cloud.py", electricity_usd_per_kwh="5", currency="USD",
                   model="qwen2.5-14b")
    at.selectbox(key="w_cloud_currency").set_value("EUR").run()
    assert not at.exception
    euros = CATALOG.market.currency("EUR").units_per_usd
    assert at.number_input(key="w_cloud_kwh_price").value == pytest.approx(5 * euros)
    assert at.number_input(key="w_cloud_kwh_price").label == "Electricity (EUR/kWh)"
