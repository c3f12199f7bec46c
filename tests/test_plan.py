"""Tests for sizing.plan (purchase advisor) and the plan subcommand."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from advisor.builds import MAX_KEPT_SETTINGS, machine_frames
from advisor.errors import PlanError
from advisor.parts import (MIN_LANES_LAYER, PSU_EFFICIENCY_FRAC, gpu_options, platforms,
                           psu_connectors_ok, slot_layout)
from advisor.plan import MAX_BUDGET_USD, plan
from advisor.tiers import STRETCH_MAX_FRAC, gpu_value
from catalog.catalog import load_catalog
from catalog.schema import Segment
from rigfit import cli
from sizing.capacity import ServeSettings
from sizing.request import EstimateRequest
from sizing.system import psu_recommended_w

CATALOG = load_catalog()
MARKET = CATALOG.market
PARTS = {kind: {r.id: r for r in getattr(MARKET, attr)} for kind, attr in (
    ("cpu", "cpus"), ("motherboard", "motherboards"), ("ram", "ram_kits"),
    ("storage", "storage"), ("psu", "psus"), ("case", "cases"), ("cpu-cooler", "cpu_coolers"))}


def _plan(model: str, budget: float | None, **kw):
    return plan(EstimateRequest(model=model), CATALOG, budget_usd=budget, quant=kw.pop("quant", "best"),
                context_tokens=kw.pop("context_tokens", 8192), **kw)


SCENARIOS = {
    "70b-3000": dict(model="llama-3.1-70b", budget=3000),
    "14b-1200": dict(model="qwen2.5-14b", budget=1200),
    "8b-open": dict(model="llama-3.1-8b", budget=None),
    "14b-8users": dict(model="qwen2.5-14b", budget=5000, users=8),
    "moe-2500": dict(model="qwen3-30b-a3b", budget=2500),
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def result(request):
    kw = dict(SCENARIOS[request.param])
    return _plan(kw.pop("model"), kw.pop("budget"), **kw)


def _all_builds(r):
    builds = list(r.tiers)
    if r.consumer_vs_pro.consumer:
        builds.append(r.consumer_vs_pro.consumer)
    if r.consumer_vs_pro.professional:
        builds.append(r.consumer_vs_pro.professional)
    return builds


# --------------------------------------------------------------------------- validity


def test_every_build_is_valid(result):
    assert result.tiers, [str(n) for n in result.message]
    for b in _all_builds(result):
        c = b.checks
        assert b.fits and c.memory_ok and b.memory_headroom_bytes >= 0
        assert b.memory_total_bytes <= b.memory_usable_bytes
        assert c.pcie_lanes_ok and c.pcie_lanes_needed <= c.pcie_lanes_available
        assert min(c.gpu_lanes_each) >= MIN_LANES_LAYER and len(c.gpu_lanes_each) == b.gpu_count
        assert c.slots_ok and c.slot_pitch >= c.card_slot_width  # cards never overlap
        assert c.stacked_without_gap == (b.gpu_count > 1 and c.slot_pitch - c.card_slot_width < 1)
        assert c.case_slots_needed <= c.case_slots_available
        assert b.psu_w >= c.psu_needed_w
        assert c.psu_connectors_ok and c.wall_circuit_ok and c.wall_w <= c.wall_limit_w
        assert b.throttle_risk != "high"


def test_psu_covers_board_power_with_margin(result):
    for b in _all_builds(result):
        gpu = CATALOG.gpu(b.gpu_id)
        cpu = PARTS["cpu"][next(p.id for p in b.parts if p.kind == "cpu")]
        sustained = gpu.board_power_w * b.gpu_count + cpu.tdp_w + 75.0
        assert b.psu_w >= 1.3 * sustained - 1e-6
        assert b.checks.psu_needed_w == pytest.approx(psu_recommended_w(
            sustained_system_w=sustained,
            gpu_board_power_w_total=gpu.board_power_w * b.gpu_count).needed_w)


def test_parts_are_compatible_and_priced(result):
    for b in _all_builds(result):
        by_kind = {p.kind: p for p in b.parts}
        assert set(by_kind) == {"gpu", "cpu", "motherboard", "ram", "storage", "psu", "case",
                                "cpu-cooler"}
        cpu = PARTS["cpu"][by_kind["cpu"].id]
        board = PARTS["motherboard"][by_kind["motherboard"].id]
        ram = PARTS["ram"][by_kind["ram"].id]
        case = PARTS["case"][by_kind["case"].id]
        cooler = PARTS["cpu-cooler"][by_kind["cpu-cooler"].id]
        psu = PARTS["psu"][by_kind["psu"].id]
        assert cpu.socket == board.socket and board.memory_type in cpu.memory_types
        assert ram.memory_type == board.memory_type and ram.dimm_type == board.dimm_type
        assert ram.modules <= board.dimm_slots
        assert board.form_factor in case.form_factors
        assert cpu.socket in cooler.sockets and cooler.tdp_rating_w >= cpu.tdp_w
        assert len(board.gpu_slots) >= b.gpu_count
        gpu = CATALOG.gpu(b.gpu_id)
        price = gpu.used_price if b.gpu_used else gpu.street_price
        assert by_kind["gpu"].unit_usd == price.usd and by_kind["gpu"].quantity == b.gpu_count
        assert by_kind["gpu"].used == b.gpu_used
        assert b.total_usd == pytest.approx(sum(p.total_usd for p in b.parts))
        assert psu_connectors_ok(psu, pcie_8pin=b.checks.pcie_8pin_needed,
                                 connector_12v_2x6=b.checks.connector_12v_2x6_needed)
        assert gpu.form_factor == "pcie" and gpu.cooler.value != "passive"


def test_tiers_ordered_by_price_and_budget_respected(result):
    names = [t.tier for t in result.tiers]
    assert names == ["budget", "balanced", "workstation"][:len(names)]
    prices = [t.total_usd for t in result.tiers]
    assert prices == sorted(prices)
    budget = result.budget_usd
    for t in result.tiers:
        assert t.meets_workload
        assert t.decode_tokens_per_s_per_user >= result.min_tokens_per_s
        if budget is not None and t.total_usd > budget:
            assert t.stretch and not t.within_budget
            assert t.total_usd <= budget * STRETCH_MAX_FRAC or t.tier == "budget"
        else:
            assert t.within_budget and not t.stretch


def test_tier_picks_are_optimal(result):
    """Budget is the cheapest meeting build; balanced has the best tokens/s per
    dollar; workstation is at least as fast as balanced."""
    budget, balanced, workstation = result.tiers
    assert budget.total_usd <= balanced.total_usd
    assert balanced.tokens_per_s_per_kusd >= budget.tokens_per_s_per_kusd - 1e-9
    assert balanced.tokens_per_s_per_kusd >= workstation.tokens_per_s_per_kusd - 1e-9 \
        or workstation.stretch
    assert workstation.decode_tokens_per_s >= balanced.decode_tokens_per_s - 1e-9
    for t in result.tiers:
        assert t.reason.code.startswith("tier_") and str(t.reason)


def test_used_parts_are_marked():
    r = _plan("llama-3.1-70b", 3000)
    used = [p for t in r.tiers for p in t.parts if p.used]
    assert used, "a 70B plan at 3,000 USD should use second-hand cards"
    assert all("(used)" in p.name and p.kind == "gpu" for p in used)


def test_multi_gpu_builds_compete():
    r = _plan("llama-3.1-70b", 3000)
    assert any(t.gpu_count >= 2 for t in r.tiers)


def test_explicit_quant_is_kept():
    r = _plan("qwen2.5-14b", 2000, quant="q8_0")
    assert r.tiers and {t.quant for t in r.tiers} == {"q8_0"}


def test_best_quant_prefers_fidelity_when_speed_allows():
    r = _plan("llama-3.1-8b", None)
    assert any(t.quant in ("f16", "q8_0") for t in r.tiers)


def test_several_users_each_get_the_speed():
    r = _plan("qwen2.5-14b", 5000, users=8)
    for t in r.tiers:
        assert t.decode_tokens_per_s_per_user >= 10.0
        assert t.decode_tokens_per_s >= t.decode_tokens_per_s_per_user


def test_plan_is_monotonic_in_budget():
    """A bigger budget never makes the fastest in-budget build slower."""
    speeds = []
    for budget in (1500, 3000, 6000):
        r = _plan("qwen2.5-32b", budget)
        inside = [t.decode_tokens_per_s for t in r.tiers if t.within_budget]
        speeds.append(max(inside, default=0.0))
    assert speeds == sorted(speeds)


# --------------------------------------------------------------------------- no fit


def test_nothing_within_budget_leads_with_cloud():
    r = _plan("llama-3.1-70b", 2000)
    assert not r.meets_workload_within_budget and r.lead_with_cloud
    message = " ".join(map(str, r.message))
    assert "Nothing within 2,000 USD" in message and "Cloud first" in message
    assert "budget buys" in message
    assert [t.tier for t in r.tiers] == ["budget"]
    assert r.tiers[0].stretch and r.tiers[0].total_usd > 2000
    assert r.cloud and r.cloud[0].meets_workload


def test_no_desktop_build_holds_405b_but_cloud_does():
    r = _plan("llama-3.1-405b", 20000, context_tokens=4096, min_tokens_per_s=1)
    assert not r.tiers and r.lead_with_cloud
    assert "No desktop build" in " ".join(map(str, r.message)) and r.cloud


@pytest.mark.parametrize("budget, text", [
    (0, "budget must be above 0"),
    (-5, "budget must be above 0"),
    (300, "below the cheapest complete machine"),
])
def test_bad_budgets_raise(budget, text):
    with pytest.raises(PlanError, match=text):
        _plan("qwen2.5-14b", budget)


def test_unmeetable_speed_says_what_is_needed():
    with pytest.raises(PlanError, match=r"would need about [\d.]+x that speed"):
        _plan("llama-3.1-70b", 3000, min_tokens_per_s=500)


def test_unknown_currency_raises():
    with pytest.raises(PlanError, match="unknown currency 'XYZ'; known: USD"):
        _plan("qwen2.5-14b", 1200, currency="XYZ")


def test_currency_converts_totals():
    usd = _plan("qwen2.5-14b", 1200)
    cny = _plan("qwen2.5-14b", 1200, currency="CNY")
    rate = MARKET.currency("CNY").units_per_usd
    assert cny.units_per_usd == rate
    for a, b in zip(usd.tiers, cny.tiers):
        assert b.total_usd == a.total_usd
        assert b.total_in_currency == pytest.approx(a.total_usd * rate)


# --------------------------------------------------------------------------- parts logic


def test_slot_layout_spacing_and_lanes():
    boards = {b.id: b for b in MARKET.motherboards}
    cpus = {c.id: c for c in MARKET.cpus}
    b650 = boards["am5-b650-atx"]  # x16 CPU + x4 chipset, spacing 3
    r5 = cpus["ryzen-5-7600"]
    one = slot_layout(b650, r5, gpu_count=1, slot_width=3.0, gpu_lanes=16, min_lanes=4)
    assert one.lanes_each == (16,) and one.cpu_lanes_used == 20
    two = slot_layout(b650, r5, gpu_count=2, slot_width=3.0, gpu_lanes=16, min_lanes=4)
    assert two.lanes_each == (16, 4) and two.stacked and two.case_slots_needed == 6
    assert slot_layout(b650, r5, gpu_count=2, slot_width=3.0, gpu_lanes=16, min_lanes=8) is None
    assert slot_layout(b650, r5, gpu_count=4, slot_width=2.0, gpu_lanes=16, min_lanes=4) is None
    wrx90 = boards["str5-wrx90-ssi-eeb"]  # seven x16 slots, adjacent
    tr = cpus["threadripper-pro-7975wx"]
    four = slot_layout(wrx90, tr, gpu_count=4, slot_width=2.0, gpu_lanes=16, min_lanes=8)
    assert four.pitch == 2 and four.lanes_each == (16,) * 4 and four.stacked
    assert four.case_slots_needed == 8
    assert slot_layout(wrx90, tr, gpu_count=4, slot_width=3.0, gpu_lanes=16, min_lanes=8) is None


def test_psu_connectors_with_adapters():
    psus = {p.id: p for p in MARKET.psus}
    hela = psus["silverstone-hela-2050r"]  # 12 x 8-pin, no 12V-2x6
    assert psu_connectors_ok(hela, pcie_8pin=0, connector_12v_2x6=2)  # 2 x 4 adapters
    assert not psu_connectors_ok(hela, pcie_8pin=6, connector_12v_2x6=2)
    cx = psus["corsair-cx550"]  # 2 x 8-pin
    assert psu_connectors_ok(cx, pcie_8pin=2, connector_12v_2x6=0)
    assert not psu_connectors_ok(cx, pcie_8pin=0, connector_12v_2x6=1)


def test_platforms_pair_sockets_and_memory():
    for p in platforms(MARKET):
        assert p.cpu.socket == p.board.socket and p.board.dimm_type == p.cpu.dimm_type
        assert p.cooler.tdp_rating_w >= p.cpu.tdp_w


def test_gpu_options_skip_unbuildable_cards():
    options, skipped = gpu_options(CATALOG)
    assert options and all(o.gpu.form_factor == "pcie" for o in options)
    assert any(s.startswith("h100-sxm:") for s in skipped)
    assert any(s.startswith("a100-80gb-pcie:") and "passive" in s for s in skipped)
    used_3090 = [o for o in options if o.gpu.id == "rtx-3090" and o.used]
    assert used_3090 and used_3090[0].unit_usd == CATALOG.gpu("rtx-3090").used_price.usd


# --------------------------------------------------------------------------- consumer vs pro


def test_consumer_vs_pro_values():
    options, _ = gpu_options(CATALOG)
    a6000 = next(o for o in options if o.gpu.id == "rtx-a6000" and o.used)
    row = gpu_value(a6000, 2)
    # 48 GiB for a 4,000 USD used RTX A6000 (catalog/gpus.yaml): 12 GiB per 1,000 USD.
    assert row.memory_gib_per_kusd == pytest.approx(48 / 4000 * 1000)
    assert row.ecc and row.blower and row.segment == "workstation"
    assert "Enterprise" in str(row.driver_terms)
    used_3090 = next(o for o in options if o.gpu.id == "rtx-3090" and o.used)
    row = gpu_value(used_3090, 1)
    assert row.memory_gib_per_kusd == pytest.approx(
        24 / CATALOG.gpu("rtx-3090").used_price.usd * 1000)
    assert not row.ecc and not row.blower and "datacenter" in str(row.driver_terms)


def test_consumer_vs_pro_summary():
    r = _plan("llama-3.1-70b", 3000)
    cvp = r.consumer_vs_pro
    assert cvp.consumer.gpu_segment == Segment.CONSUMER.value
    assert cvp.professional.gpu_segment == Segment.WORKSTATION.value
    assert cvp.consumer.total_usd <= cvp.professional.total_usd
    assert cvp.best_consumer_gib_per_kusd > cvp.best_professional_gib_per_kusd
    assert "ECC" in " ".join(map(str, cvp.summary))
    rows = {(v.gpu_id, v.used): v for v in r.gpu_values}
    assert rows[("rtx-a6000", True)].min_gpus_for_workload == 1
    assert rows[("rtx-3090", True)].min_gpus_for_workload == 2


def test_psu_efficiency_table_covers_catalog():
    assert {p.efficiency for p in MARKET.psus} <= set(PSU_EFFICIENCY_FRAC)


# --------------------------------------------------------------------------- CLI


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_plan_json(capsys):
    code, out, _ = _cli(capsys, "plan", "--model", "qwen2.5-14b", "--budget-usd", "1200",
                        "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [t["tier"] for t in data["tiers"]] == ["budget", "balanced", "workstation"]
    for t in data["tiers"]:
        for key in ("parts", "total_usd", "within_budget", "decode_tokens_per_s", "fits", "psu_w",
                    "reason"):
            assert key in t
    for c in data["cloud"]:
        for key in ("provider", "instance_type", "usd_per_hour", "decode_tokens_per_s",
                    "usd_per_1m_tokens", "break_even_months"):
            assert key in c
        assert set(c["break_even_months"]) == {"budget", "balanced", "workstation"}


def test_cli_plan_table(capsys):
    code, out, _ = _cli(capsys, "plan", "--model", "llama-3.1-70b", "--budget-usd", "3000")
    assert code == 0
    assert "BUDGET:" in out and "CLOUD" in out and "checks: PCIe" in out


@pytest.mark.parametrize("argv, text", [
    (["--budget-usd", "0"], "budget must be above 0"),
    (["--budget-usd", "100"], "below the cheapest complete machine"),
    (["--budget-usd", "3000", "--currency", "XYZ"], "unknown currency"),
    (["--budget-usd", "3000", "--min-tokens-per-s", "500"], "would need about"),
    ([], "one of the arguments --budget-usd --budget is required"),
])
def test_cli_plan_errors_exit_2(capsys, argv, text):
    code, out, err = _cli(capsys, "plan", "--model", "llama-3.1-70b", *argv)
    assert code == 2 and out == ""
    assert text in err and err.count("\n") == 1


def test_a_budget_below_every_machine_is_said_in_its_currency_in_chinese(capsys):
    _, _, dollars = _cli(capsys, "plan", "--model", "llama-3.1-8b", "--budget-usd", "100")
    code, _, err = _cli(capsys, "--lang", "zh", "plan", "--model", "llama-3.1-8b",
                        "--budget", "100", "--currency", "CNY")
    units = load_catalog().market.currency("CNY").units_per_usd
    floor_usd = float(re.search(r"\(([\d,]+) USD with a", dollars).group(1).replace(",", ""))
    floor = float(re.search(r"（([\d,]+) CNY，配", err).group(1).replace(",", ""))
    assert code == 2 and "预算 100 CNY 低于目录中最便宜的整机" in err and "美元" not in err
    assert floor == pytest.approx(floor_usd * units, abs=units)


def test_cli_budget_in_currency(capsys):
    code, out, _ = _cli(capsys, "plan", "--model", "qwen2.5-14b", "--budget", "8520",
                        "--currency", "CNY", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["budget_usd"] == pytest.approx(8520 / 7.1)
    assert data["currency"] == "CNY"


def test_an_embedding_model_gets_tiers_by_embedded_tokens_per_dollar():
    # An encoder-only model generates no tokens: the balanced tier is the most input
    # tokens embedded per second (prefill) per dollar, not a dash.
    # Under a service level the per-user speed is not the test, so encoder-only builds meet it.
    r = _plan("qwen3-embedding-0.6b", 3000, service=ServeSettings(ttft_p95_s=1800))
    balanced = [t for t in r.tiers if t.tier == "balanced"]
    assert balanced and balanced[0].reason.code == "tier_balanced_encoder"
    b = balanced[0]
    assert b.reason.params["tokens_per_s_per_kusd"] == (
        f"{b.prefill_tokens_per_s / b.total_usd * 1000:,.1f}")


def test_a_budget_above_the_limit_is_said_in_its_currency(capsys):
    units = load_catalog().market.currency("JPY").units_per_usd
    code, out, err = _cli(capsys, "plan", "--model", "llama-3.1-8b", "--budget", "1e12",
                          "--currency", "JPY")
    high = f"{MAX_BUDGET_USD * units:,.0f}"
    assert code == 2 and out == ""
    assert err == f"error: budget must be at most {high} JPY (got 1e+12)\n"


def test_an_embedding_model_is_planned_by_the_memory_it_needs_not_a_speed_it_never_has(capsys):
    # Without a service level too: an encoder generates nothing, so the per-user speed
    # cannot be missed (it was "reaches 0.0; it would need about 10000000000.0x").
    r = _plan("qwen3-embedding-8b", 3000)
    assert r.tiers and all(t.meets_workload for t in r.tiers)
    assert [n.code for n in r.message] == ["plan_holds_encoder"]
    code, out, err = _cli(capsys, "--lang", "zh", "plan", "--model", "qwen3-embedding-8b",
                          "--budget-usd", "3000")
    assert code == 0 and err == ""
    held = len({(t.gpu_id, t.gpu_count, t.gpu_used) for t in r.tiers if t.within_budget})
    assert held == 3  # the cheapest, the most per dollar and the fastest are three builds
    assert out.startswith(f"在预算内，有 {held} 套不同的配置能装下 Qwen3-Embedding 8B，最快的每秒嵌入")
    assert "纯编码器模型不生成内容" in out.splitlines()[0]


@pytest.mark.parametrize("first", [dict(circuit_volts=230.0, circuit_amps=16.0),
                                   dict(circuit_amps=20.0), dict(ambient_c=35.0)])
def test_plans_sharing_a_catalog_answer_as_a_fresh_catalog_does(first):
    """Machine frames and the shop are kept with the catalog across plans; a plan on
    another circuit or in a warmer room first must leave the next plan's builds as a
    catalog that never planned gives them."""
    shared = dataclasses.replace(CATALOG, _index={})
    fresh = dataclasses.replace(CATALOG, _index={})
    ambient = first.pop("ambient_c", None)
    plan(EstimateRequest(model="llama-3.1-70b", ambient_c=ambient), shared, budget_usd=3000.0,
         quant="best", context_tokens=8192, **first)
    again = plan(EstimateRequest(model="llama-3.1-70b"), shared, budget_usd=3000.0, quant="best",
                 context_tokens=8192)
    alone = plan(EstimateRequest(model="llama-3.1-70b"), fresh, budget_usd=3000.0, quant="best",
                 context_tokens=8192)
    assert again.model_dump() == alone.model_dump()
    assert len(shared.derived("machine frames")) == 2  # one set per circuit and room


def test_the_machine_frames_kept_with_a_catalog_stay_bounded():
    shared = dataclasses.replace(CATALOG, _index={})
    for amps in range(10, 10 + 3 * MAX_KEPT_SETTINGS):
        frames = machine_frames(shared, volts=120.0, amps=float(amps), ambient_c=25.0)
        frames[("card", amps)] = None  # what a plan would keep there
    kept = shared.derived("machine frames")
    assert 0 < len(kept) <= MAX_KEPT_SETTINGS
    assert kept[120.0, float(amps), 25.0] == {("card", amps): None}  # the newest stays
