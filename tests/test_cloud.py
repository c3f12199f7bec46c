"""Tests for sizing.cloud: cost per token, break-even, instance search."""

from __future__ import annotations

import json

import pytest

from advisor.plan import compare, plan
from advisor.prices import (DAYS_PER_MONTH, break_even_months, cloud_usd_per_month,
                            electricity_usd_per_month, usd_per_1m_tokens)
from catalog.catalog import load_catalog
from rigfit import cli
from sizing.estimate import estimate
from sizing.power import wall_power_w
from sizing.request import EstimateRequest

CATALOG = load_catalog()
MARKET = CATALOG.market


# --------------------------------------------------------------------------- arithmetic


def test_usd_per_1m_tokens_formula():
    # 2.00 USD/h at 50 tokens/s: 180,000 tokens per hour -> 11.11 USD per million.
    assert usd_per_1m_tokens(usd_per_hour=2.0, tokens_per_s=50) == pytest.approx(2.0 / 180_000 * 1e6)
    assert usd_per_1m_tokens(usd_per_hour=3.6, tokens_per_s=100) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="tokens_per_s"):
        usd_per_1m_tokens(usd_per_hour=1.0, tokens_per_s=0)


def test_monthly_costs():
    assert DAYS_PER_MONTH == pytest.approx(365 / 12)
    assert cloud_usd_per_month(usd_per_hour=0.5, hours_per_day=8) == pytest.approx(0.5 * 8 * 365 / 12)
    # 500 W at the wall, 10 h a day, 0.20 USD/kWh: 5 kWh a day, 1.00 USD a day.
    assert electricity_usd_per_month(wall_power_w=500, hours_per_day=10, usd_per_kwh=0.2) \
        == pytest.approx(365 / 12)
    with pytest.raises(ValueError, match="hours_per_day"):
        cloud_usd_per_month(usd_per_hour=1.0, hours_per_day=25)


@pytest.mark.parametrize("build, cloud, power, months", [
    (3000.0, 300.0, 50.0, 12.0),      # 3000 / 250
    (1200.0, 100.0, 0.0, 12.0),       # free electricity
    (2500.0, 260.0, 10.0, 10.0),
    (0.0, 100.0, 10.0, 0.0),          # nothing to pay back
])
def test_break_even_exact(build, cloud, power, months):
    assert break_even_months(build_usd=build, cloud_usd_per_month=cloud,
                             local_electricity_usd_per_month=power) == months


@pytest.mark.parametrize("cloud, power", [(50.0, 50.0), (40.0, 50.0), (0.0, 0.0)])
def test_break_even_never_when_cloud_is_cheaper_to_run(cloud, power):
    assert break_even_months(build_usd=1000, cloud_usd_per_month=cloud,
                             local_electricity_usd_per_month=power) is None


def test_break_even_end_to_end_by_hand():
    """0.44 USD/h at 8 h/day vs a 2,582 USD build drawing 382 W DC through a 90 % PSU
    at 0.1872 USD/kWh."""
    cloud = 0.44 * 8 * 365 / 12
    power = 382 / 0.9 / 1000 * 8 * 365 / 12 * 0.1872
    expected = 2582 / (cloud - power)
    got = break_even_months(
        build_usd=2582, cloud_usd_per_month=cloud_usd_per_month(usd_per_hour=0.44, hours_per_day=8),
        local_electricity_usd_per_month=electricity_usd_per_month(
            wall_power_w=wall_power_w(system_power_w=382, psu_efficiency_frac=0.9),
            hours_per_day=8, usd_per_kwh=0.1872))
    assert got == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- search


@pytest.fixture(scope="module")
def plan_70b():
    return plan(EstimateRequest(model="llama-3.1-70b"), CATALOG, budget_usd=3000, quant="best",
                context_tokens=8192)


def test_cloud_options_match_the_engine(plan_70b):
    instances = {i.id: i for i in MARKET.instances}
    assert plan_70b.cloud
    for c in plan_70b.cloud[:10]:
        inst = instances[c.instance_id]
        assert (c.gpu_id, c.gpu_count, c.usd_per_hour) == (inst.gpu_id, inst.gpu_count,
                                                           inst.usd_per_hour)
        req = EstimateRequest(model="llama-3.1-70b", gpu=c.gpu_id, gpu_count=c.gpu_count,
                              quant=c.quant, runtime=c.runtime, context_tokens=8192,
                              prompt_tokens=plan_70b.prompt_tokens,
                              new_tokens=plan_70b.new_tokens)
        est = estimate(req, CATALOG)
        assert est.memory.fits
        assert c.decode_tokens_per_s == pytest.approx(est.speed.decode_tokens_per_s)
        assert c.usd_per_1m_tokens == pytest.approx(
            c.usd_per_hour / (3600 * c.decode_tokens_per_s) * 1e6)


def test_cloud_break_even_per_tier(plan_70b):
    tiers = {t.tier: t for t in plan_70b.tiers}
    for c in plan_70b.cloud:
        assert set(c.break_even_months) == set(tiers)
        for row in c.break_even:
            t = tiers[row.tier]
            assert row.build_usd == t.total_usd
            assert row.cloud_usd_per_month == pytest.approx(c.usd_per_hour * 8 * 365 / 12)
            assert row.local_electricity_usd_per_month == pytest.approx(
                t.wall_power_w / 1000 * 8 * 365 / 12 * plan_70b.electricity_usd_per_kwh)
            saving = row.cloud_usd_per_month - row.local_electricity_usd_per_month
            if saving <= 0:
                assert row.months is None
            else:
                assert row.months == pytest.approx(t.total_usd / saving)


def test_cloud_sorted_meeting_first_then_cheapest_per_token(plan_70b):
    keys = [(not c.meets_workload, c.usd_per_1m_tokens) for c in plan_70b.cloud]
    assert keys == sorted(keys)


def test_electricity_override_and_hours():
    base = dict(budget_usd=1200, quant="best", context_tokens=8192)
    cheap = plan(EstimateRequest(model="qwen2.5-14b"), CATALOG, electricity_usd_per_kwh=0.0,
                 **base)
    dear = plan(EstimateRequest(model="qwen2.5-14b"), CATALOG, electricity_usd_per_kwh=0.5,
                **base)
    assert cheap.electricity_usd_per_kwh == 0.0
    for a, b in zip(cheap.cloud, dear.cloud):
        assert a.break_even[0].local_electricity_usd_per_month == 0.0
        ma, mb = a.break_even[0].months, b.break_even[0].months
        assert ma is not None and (mb is None or mb > ma)
    idle = plan(EstimateRequest(model="qwen2.5-14b"), CATALOG, hours_per_day=0, **base)
    assert all(m is None for c in idle.cloud for m in c.break_even_months.values())


def test_region_price():
    r = plan(EstimateRequest(model="qwen2.5-14b"), CATALOG, budget_usd=1200, quant="best",
             electricity_region="germany")
    assert r.electricity_usd_per_kwh == next(p.usd_per_kwh for p in MARKET.electricity
                                             if p.id == "germany")


def test_currency_in_cloud():
    r = compare(EstimateRequest(model="qwen2.5-14b"), CATALOG, budget_usd=1200, currency="EUR")
    rate = MARKET.currency("EUR").units_per_usd
    assert r.currency == "EUR" and r.units_per_usd == rate
    for c in r.cloud:
        assert c.usd_per_hour_in_currency == pytest.approx(c.usd_per_hour * rate)
        assert c.usd_per_1m_tokens_in_currency == pytest.approx(c.usd_per_1m_tokens * rate)
    assert [t.tier for t in r.tiers] == ["budget", "balanced", "workstation"]


def test_compare_page_signature():
    """The Cloud page calls compare(request, catalog, budget_usd=, users=, hours_per_day=,
    currency=); the Builds page calls plan the same way."""
    request = EstimateRequest(model="qwen2.5-7b")
    r = compare(request, CATALOG, budget_usd=1500, users=2, hours_per_day=4, currency="USD")
    assert r.cloud and r.hours_per_day == 4
    p = plan(request, CATALOG, budget_usd=1500, users=2, hours_per_day=4, currency="USD")
    assert p.users == 2 and p.tiers


# --------------------------------------------------------------------------- CLI


def test_cli_cloud_json(capsys):
    code = cli.main(["cloud", "--model", "qwen2.5-14b", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["cloud"]
    first = data["cloud"][0]
    assert first["usd_per_1m_tokens"] == pytest.approx(
        first["usd_per_hour"] / (3600 * first["decode_tokens_per_s"]) * 1e6)


def test_cli_cloud_table_and_errors(capsys):
    assert cli.main(["cloud", "--model", "qwen2.5-14b", "--currency", "CNY"]) == 0
    out = capsys.readouterr().out
    assert "¥" in out and "break-even budget" in out
    assert cli.main(["cloud", "--model", "qwen2.5-14b", "--currency", "ABC"]) == 2
    err = capsys.readouterr().err
    assert "unknown currency 'ABC'" in err
