"""Figure builders for plans (report/plan_charts.py) against the engine's numbers."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog
from report import plan_charts as pc
from advisor.plan import plan
from sizing.request import parse_request


def _plan(budget_usd: float, **options):
    request = parse_request({"model": "llama-3.1-70b"})
    return plan(request, load_catalog(), budget_usd=budget_usd, quant="best", **options)


@pytest.fixture(scope="module")
def in_budget():
    return _plan(3000)


@pytest.fixture(scope="module")
def in_euros():
    return _plan(3000, currency="EUR")


def test_money_text_uses_the_currency_symbol():
    assert pc.money_text(2582, "USD") == "$2,582"
    assert pc.money_text(2376.4, "EUR") == "€2,376"
    assert pc.money_text(0.4412, "GBP", digits=2) == "£0.44"
    assert pc.money_text(-12.5, "JPY", digits=2) == "-JP¥12"
    assert pc.money_text(10, "CHF") == "10 CHF"


def test_value_points_merge_tiers_that_are_the_same_build(in_budget):
    points = pc.value_points(in_budget)
    keys = [pc.build_key(p.build) for p in points]
    assert len(keys) == len(set(keys))
    roles = [r for p in points for r in p.roles]
    assert {t.tier for t in in_budget.tiers} <= set(roles)
    budget = next(p for p in points if "budget" in p.roles)
    assert budget.price == pytest.approx(in_budget.tiers[0].total_usd)
    low, high = pc.per_user_band(budget.build)
    assert low <= budget.tokens_per_s_per_user <= high


def test_value_figure_traces_prices_and_speeds(in_euros):
    fig = pc.value_figure(in_euros)
    assert fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white, not Streamlit's
    assert fig.layout.font.family == pc.FONT
    points = pc.value_points(in_euros)
    assert [tr.name for tr in fig.data] == [pc.roles_text(p.roles) for p in points]
    for trace, point in zip(fig.data, points):
        assert trace.x[0] == pytest.approx(point.build.total_usd * in_euros.units_per_usd)
        assert trace.y[0] == pytest.approx(point.build.decode_tokens_per_s_per_user)
    assert fig.layout.xaxis.title.text == "Price (EUR)"


def test_value_figure_needs_two_builds(in_budget):
    cvp = in_budget.consumer_vs_pro.model_copy(update={"consumer": None, "professional": None})
    lone = in_budget.model_copy(update={"tiers": in_budget.tiers[:1], "consumer_vs_pro": cvp,
                                        "within_budget_best": None})
    assert pc.value_figure(lone) is None
    assert pc.value_figure(lone, labels={"budget": "入门"}, min_points=1).data[0].name == "入门"


def test_break_even_figure_crosses_where_the_engine_says(in_budget):
    fig = pc.break_even_figure(in_budget.cloud, currency="USD", units_per_usd=1.0)
    chosen = pc.cheapest_cloud(in_budget.cloud, 3)
    lines = pc.local_lines(in_budget.cloud)
    names = [tr.name for tr in fig.data]
    assert names == ([f"{pc.roles_text(line.tiers)} (purchase + electricity)" for line in lines]
                     + [pc.cloud_name(o) for o in chosen] + ["Break-even"])
    assert len(chosen) == 3 and all(o.meets_workload for o in chosen)
    monthly = [o.cloud_usd_per_month for o in chosen]
    assert monthly == sorted(monthly)
    marks = fig.data[-1]
    expected = sorted(o.break_even_months[line.tiers[0]] for o in chosen for line in lines)
    assert sorted(marks.x) == pytest.approx(expected, abs=0.05)
    # At each crossing the local line and the cloud line meet.
    for point in pc.crossings(chosen):
        line = next(x for x in lines if x.tiers == point.tiers)
        local = line.build_usd + line.electricity_usd_per_month * point.months
        assert point.cost_usd == pytest.approx(local, rel=1e-9)
    assert fig.layout.xaxis.range[1] >= max(expected)


def test_break_even_in_another_currency_scales_money_not_months(in_budget, in_euros):
    usd = pc.break_even_figure(in_budget.cloud, currency="USD", units_per_usd=1.0)
    eur = pc.break_even_figure(in_euros.cloud, currency="EUR", units_per_usd=in_euros.units_per_usd)
    assert list(eur.data[-1].x) == pytest.approx(list(usd.data[-1].x))
    assert eur.data[0].y[0] == pytest.approx(usd.data[0].y[0] * in_euros.units_per_usd)
    assert eur.layout.yaxis.title.text == "Cumulative cost (EUR)"


def test_no_crossing_when_renting_costs_nothing_per_month():
    idle = _plan(3000, hours_per_day=0)
    assert all(m is None for o in idle.cloud for m in o.break_even_months.values())
    fig = pc.break_even_figure(idle.cloud, currency="USD", units_per_usd=1.0)
    assert "Break-even" not in [tr.name for tr in fig.data]
    assert fig.layout.xaxis.range[1] == pc.DEFAULT_HORIZON_MONTHS


def test_horizon_stays_between_one_and_ten_years():
    point = pc.Crossing(tiers=("budget",), instance_id="x", months=2.0, cost_usd=1.0)
    assert pc.horizon_months([point]) == pc.MIN_HORIZON_MONTHS
    far = pc.Crossing(tiers=("budget",), instance_id="x", months=500.0, cost_usd=1.0)
    assert pc.horizon_months([far]) == pc.MAX_HORIZON_MONTHS
    mid = pc.Crossing(tiers=("budget",), instance_id="x", months=40.0, cost_usd=1.0)
    assert pc.horizon_months([mid]) == 50


def test_translated_labels_reach_the_figure(in_budget):
    labels = {"budget": "入门", "balanced": "均衡", "local_line": "{tiers}（购买 + 电费）",
              "crossing": "回本点"}
    fig = pc.break_even_figure(in_budget.cloud, currency="CNY", units_per_usd=7.2, labels=labels)
    assert fig.data[0].name == "入门 = 均衡（购买 + 电费）"
    assert fig.data[-1].name == "回本点"
