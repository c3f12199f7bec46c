"""advisor/builds.py: assemblies, their full records, and the machines kept per frame.

A plan chooses its builds from :class:`~advisor.builds.Assembly` records and makes
the full :class:`~advisor.results.Build` only for the builds its result holds.
Here whole plans are compared with plans in which every configuration is
assembled in full at once (``assemble``), and a plan on a catalog whose kept
machines other plans filled with one on a fresh copy of the catalog.
"""

from __future__ import annotations

import dataclasses

import pytest

import advisor.plan as plan_module
from advisor.builds import Assembly, assemble, assembly
from advisor.results import Build
from advisor.workload import plan_request
from catalog.catalog import load_catalog
from catalog.errors import UserError
from sizing.capacity import ServeSettings
from sizing.request import EstimateRequest

CATALOG = load_catalog()

# (request fields, search the formats, plan options)
SCENARIOS = {
    "8b-3000": ({"model": "llama-3.1-8b", "context_tokens": 9000}, True,
                {"budget_usd": 3000.0, "electricity_usd_per_kwh": 0.1872}),
    "14b-900": ({"model": "qwen2.5-14b"}, True, {"budget_usd": 900.0}),
    "14b-8-users-230v": ({"model": "qwen2.5-14b"}, True,
                         {"budget_usd": 5000.0, "users": 8, "circuit_volts": 230.0,
                          "circuit_amps": 10.0, "hours_per_day": 24.0}),
    "70b-over-budget": ({"model": "llama-3.1-70b"}, True, {"budget_usd": 900.0}),
    "moe-open": ({"model": "qwen3-30b-a3b"}, True, {"budget_usd": None, "users": 4,
                                                     "min_tokens_per_s": 25.0}),
    "unmeetable": ({"model": "llama-3.1-8b"}, True, {"budget_usd": 3000.0,
                                                    "min_tokens_per_s": 5000.0}),
    "own-prices-eur": ({"model": "llama-3.1-8b"}, True,
                       {"budget_usd": 2000.0, "users": 2, "currency": "EUR",
                        "own_prices_usd": {"rtx-3090": 500.0, "rtx-4090": 1200.0}}),
    "mac-sidebar": ({"model": "llama-3.1-8b", "gpu": "apple-m3-ultra-80c"}, True,
                    {"budget_usd": 4000.0}),
    "encoder": ({"model": "qwen3-embedding-8b"}, True, {"budget_usd": 3000.0, "users": 4}),
    "service": ({"model": "llama-3.1-8b"}, False,
                {"budget_usd": 3000.0, "users": 4,
                 "service": ServeSettings(ttft_p95_s=2.0, itl_p95_ms=100.0)}),
}


def plan_of(name: str, catalog=CATALOG):
    """The scenario's plan as JSON-ready data, or its error's code, message and parameters."""
    fields, search, options = SCENARIOS[name]
    request, quant = plan_request(EstimateRequest(**fields), search=search)
    try:
        result = plan_module.plan(request, catalog, quant=quant, **options)
    except UserError as exc:
        return exc.code, str(exc), exc.params
    return result.model_dump(mode="json")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_plans_from_assemblies_are_the_plans_from_full_builds(name, monkeypatch):
    lazy = plan_of(name)
    monkeypatch.setattr(plan_module, "assembly", assemble)  # every configuration in full
    eager = plan_of(name)
    assert lazy == eager
    if name == "unmeetable":
        assert lazy[0] == "plan_too_slow"
    else:
        assert isinstance(lazy, dict) and lazy["tiers"], lazy


def test_an_assembly_carries_its_candidate_s_figures_and_its_build_s_values(monkeypatch):
    made: list[Assembly] = []

    def kept(*args):
        found = assembly(*args)
        if found is not None:
            made.append(found)
        return found

    monkeypatch.setattr(plan_module, "assembly", kept)
    plan_of("14b-8-users-230v")
    assert len(made) > 100
    shared = [f.name for f in dataclasses.fields(Assembly) if f.name in Build.model_fields]
    assert {"total_usd", "decode_tokens_per_s_per_user", "tokens_per_s_per_kusd"} <= set(shared)
    for a in made:
        c, full = a.cand, a.build()
        assert isinstance(full, Build)
        assert a.fields() is a.fields()  # worked out once
        assert {f: getattr(a, f) for f in shared} == {f: getattr(full, f) for f in shared}
        assert (a.gpu_id, a.gpu_count, a.quant, a.meets_workload) == (
            c.gpu_id, c.gpu_count, c.quant, c.meets_workload)
        assert a.decode_tokens_per_s == c.decode_tokens_per_s
        assert a.decode_tokens_per_s_per_user == c.decode_tokens_per_s_per_user
        assert a.prefill_tokens_per_s == c.prefill_tokens_per_s
        assert a.gpu_power_w == c.figures.gpu_power_w
        assert a.tokens_per_s_per_kusd == pytest.approx(
            c.throughput_tokens_per_s / a.total_usd * 1000.0, rel=1e-12)
        assert a.total_usd == pytest.approx(sum(p.total_usd for p in full.parts), rel=1e-12)


@pytest.mark.parametrize("name", ["8b-3000", "14b-8-users-230v", "70b-over-budget"])
def test_kept_machines_give_the_plan_a_fresh_catalog_gives(name):
    warm = dataclasses.replace(CATALOG, _index={})
    fields, search, options = SCENARIOS[name]
    request, quant = plan_request(EstimateRequest(**fields), search=search)
    # Other contexts and users (other GPU draws), budgets and mains voltages fill the
    # kept machines first.
    for context, users, budget_frac, volts in ((16384, 2, 1.25, 120.0), (4096, 1, 1.0, 120.0),
                                               (9000, 16, 1.0, 230.0), (9000, 1, 1.5, 120.0),
                                               (8192, 8, 1.0, 120.0)):
        budget = options["budget_usd"] and options["budget_usd"] * budget_frac
        plan_module.plan(request, warm, quant=quant, **(options | {
            "context_tokens": context, "users": users, "budget_usd": budget,
            "circuit_volts": volts}))
    fresh = plan_of(name, dataclasses.replace(CATALOG, _index={}))
    assert plan_of(name, warm) == fresh
    if name == "70b-over-budget":  # what the budget buys is said, and kept by budget
        assert "plan_budget_buys" in [m["code"] for m in fresh["message"]]
