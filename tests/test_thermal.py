"""Tests for sizing.thermal and catalog/coolers.yaml."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.loader import CATALOG_DIR, load_records
from catalog.schema import Cooler, CoolerClass
from sizing.system import resolve_record_id
from sizing.thermal import (
    cooler_thermal_resistance_k_per_w,
    gpu_thermal,
    heat_btu_per_hour,
    room_heat_w,
    steady_gpu_temp_c,
    throttle_risk,
)

COOLERS = load_records(CATALOG_DIR / "coolers.yaml", "coolers", Cooler)


def cooler(cooler_id: str) -> Cooler:
    return resolve_record_id(records=COOLERS, record_id=cooler_id, kind="cooler")


# --- catalog invariants -------------------------------------------------------


def test_every_cooler_class_has_exactly_one_entry() -> None:
    assert sorted(c.id for c in COOLERS) == sorted(CoolerClass)


@pytest.mark.parametrize("record", COOLERS, ids=lambda c: str(c.id))
def test_cooler_resistance_is_plausible_and_sourced(record: Cooler) -> None:
    # 20-60 K at rated power for a 250 W card: 0.08-0.24 K/W.
    assert 0.08 <= record.thermal_resistance_k_per_w <= 0.24
    assert record.notes and "K" in record.notes  # arithmetic shown
    assert record.needs_server_airflow == (record.id is CoolerClass.PASSIVE)


def test_cooler_classes_rank_as_expected() -> None:
    r = {c.id: c.thermal_resistance_k_per_w for c in COOLERS}
    assert r[CoolerClass.LIQUID] < r[CoolerClass.TRIPLE_FAN] < r[CoolerClass.DUAL_FAN] < r[CoolerClass.BLOWER]


# --- published temperatures (the calibration points) --------------------------


@pytest.mark.parametrize(
    ("cooler_id", "board_w", "published_c"),
    [
        # Legit Reviews, EVGA RTX 3060 XC Black, open bench: 65.3 C.
        ("dual-fan", 170, 65.3),
        # pcpress.rs, MSI RTX 3060 Gaming X: 63 C.
        ("dual-fan", 170, 63.0),
        # Legit Reviews, RTX 3060 Ti FE, open bench: 69 C.
        ("dual-fan", 200, 69.0),
        # tomshw.it, Gigabyte RTX 3060 Gaming OC (triple fan), 174 W: 62 C.
        ("triple-fan", 170, 62.0),
        # thefpsreview, Gigabyte RTX 3090 Gaming OC (triple fan): 62 C.
        ("triple-fan", 370, 62.0),
    ],
)
def test_open_bench_reviews_within_4_k(cooler_id: str, board_w: float, published_c: float) -> None:
    temp = steady_gpu_temp_c(
        ambient_c=25, gpu_power_w=board_w, cooler=cooler(cooler_id), board_power_w=board_w,
        case_air_rise_k=0,
    )
    assert temp == pytest.approx(published_c, abs=4.0)


def test_aio_rtx_4090_in_decode() -> None:
    # club-3090 #697: RTX 4090 AIO at 246.6 W sits at 43 C (room assumed 25 C).
    temp = steady_gpu_temp_c(
        ambient_c=25, gpu_power_w=246.6, cooler=cooler("liquid"), board_power_w=450,
        case_air_rise_k=0,
    )
    assert temp == pytest.approx(43, abs=1)


# --- the seed's full-load temperatures (reported, not fitted) -----------------
# In a case (inlet +5 K), room 25 C, at rated power the model gives:
#   RTX 3060 (dual-fan, 170 W): 70.8 C vs seed 78 C (-7.2 K)
#   RTX 3080 (dual-fan FE, 320 W): 70.8 C vs seed 75 C (-4.2 K)
#   RTX 4070 Ti (triple-fan, 285 W): 67.0 C vs seed 69 C (-2.0 K)
# The model runs cool against the seed by 2-7 K; the published open-bench
# reviews it was fitted to run 5-12 K cooler than the seed's cards.


@pytest.mark.parametrize(
    ("cooler_id", "board_w", "seed_c", "model_c"),
    [
        ("dual-fan", 170, 78.0, 70.8),
        ("dual-fan", 320, 75.0, 70.8),
        ("triple-fan", 285, 69.0, 67.0),
    ],
)
def test_seed_full_load_temperatures(cooler_id: str, board_w: float, seed_c: float, model_c: float) -> None:
    temp = steady_gpu_temp_c(
        ambient_c=25, gpu_power_w=board_w, cooler=cooler(cooler_id), board_power_w=board_w
    )
    assert temp == pytest.approx(model_c, abs=0.1)
    assert temp == pytest.approx(seed_c, abs=8.0)


# --- behaviour ----------------------------------------------------------------


def test_decode_runs_cooler_than_full_load() -> None:
    full = steady_gpu_temp_c(ambient_c=25, gpu_power_w=450, cooler=cooler("triple-fan"), board_power_w=450)
    decode = steady_gpu_temp_c(ambient_c=25, gpu_power_w=246, cooler=cooler("triple-fan"), board_power_w=450)
    assert decode < full - 10


def test_stacking_without_gap_adds_heat_to_open_air_cards_only() -> None:
    kw = {"ambient_c": 25, "gpu_power_w": 350, "board_power_w": 350}
    for cid, penalty in (("dual-fan", 10), ("triple-fan", 10), ("blower", 5), ("liquid", 0)):
        apart = steady_gpu_temp_c(cooler=cooler(cid), **kw)
        stacked = steady_gpu_temp_c(cooler=cooler(cid), stacked_without_gap=True, **kw)
        assert stacked - apart == pytest.approx(penalty)


def test_passive_card_outside_a_server_is_flagged() -> None:
    desk = gpu_thermal(ambient_c=25, gpu_power_w=300, cooler=cooler("passive"), board_power_w=300)
    rack = gpu_thermal(
        ambient_c=25, gpu_power_w=300, cooler=cooler("passive"), board_power_w=300, server_airflow=True
    )
    assert desk.needs_server_airflow_warning and desk.throttle_risk == "high"
    assert not rack.needs_server_airflow_warning
    # With ducted airflow at 25 C room: 30 + 47 = 77 C, under a datacenter limit of ~90 C.
    assert rack.temp_c == pytest.approx(77.0, abs=0.1)


def test_gpu_thermal_combines_temperature_and_risk() -> None:
    t = gpu_thermal(
        ambient_c=35, gpu_power_w=320, cooler=cooler("dual-fan"), board_power_w=320, stacked_without_gap=True
    )
    # 35 + 5 + 40.75 + 10 = 90.75 C, above the 83 C throttle point.
    assert t.temp_c == pytest.approx(90.75, abs=0.01)
    assert t.throttle_risk == "high"
    assert t.rise_k == pytest.approx(40.75)
    assert t.stacking_penalty_k == 10


def test_throttle_risk_margins() -> None:
    # low: >= 10 K below throttle; medium: 3-10 K; high: < 3 K.
    assert throttle_risk(gpu_temp_c=73.0) == "low"
    assert throttle_risk(gpu_temp_c=73.1) == "medium"
    assert throttle_risk(gpu_temp_c=80.0) == "medium"
    assert throttle_risk(gpu_temp_c=80.1) == "high"
    assert throttle_risk(gpu_temp_c=95.0, throttle_temp_c=90.0) == "high"


def test_heat_into_the_room() -> None:
    # 900 W DC through a 90 % PSU = 1,000 W at the wall = 3,412 BTU/h.
    assert room_heat_w(system_power_w=900) == pytest.approx(1000)
    assert heat_btu_per_hour(system_power_w=900) == pytest.approx(3412.14, abs=0.1)


def test_resistance_scales_with_the_card_the_cooler_was_built_for() -> None:
    small = cooler_thermal_resistance_k_per_w(cooler=cooler("dual-fan"), board_power_w=125)
    big = cooler_thermal_resistance_k_per_w(cooler=cooler("dual-fan"), board_power_w=500)
    assert small == pytest.approx(4 * big)


# --- properties ---------------------------------------------------------------


@given(
    cooler_id=st.sampled_from([str(c.id) for c in COOLERS]),
    board=st.floats(min_value=30, max_value=1000),
    p1=st.floats(min_value=0, max_value=1000),
    p2=st.floats(min_value=0, max_value=1000),
    ambient=st.floats(min_value=0, max_value=50),
    stacked=st.booleans(),
)
def test_more_power_is_never_cooler(
    cooler_id: str, board: float, p1: float, p2: float, ambient: float, stacked: bool
) -> None:
    lo, hi = sorted((p1, p2))
    kw = {"ambient_c": ambient, "cooler": cooler(cooler_id), "board_power_w": board,
          "stacked_without_gap": stacked}
    assert steady_gpu_temp_c(gpu_power_w=lo, **kw) <= steady_gpu_temp_c(gpu_power_w=hi, **kw)


@given(a=st.floats(min_value=0, max_value=50), b=st.floats(min_value=0, max_value=50))
def test_a_warmer_room_is_never_cooler(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    kw = {"gpu_power_w": 300, "thermal_resistance_k_per_w": 0.15}
    assert steady_gpu_temp_c(ambient_c=lo, **kw) <= steady_gpu_temp_c(ambient_c=hi, **kw)


# --- bad input ----------------------------------------------------------------


@pytest.mark.parametrize("ambient", [-1.0, 50.5])
def test_ambient_outside_0_to_50_c_is_rejected(ambient: float) -> None:
    with pytest.raises(ValueError, match="ambient_c must be between 0 and 50 C"):
        steady_gpu_temp_c(ambient_c=ambient, gpu_power_w=200, thermal_resistance_k_per_w=0.2)


def test_other_bad_input() -> None:
    with pytest.raises(ValueError, match="exactly one of cooler or thermal_resistance_k_per_w"):
        steady_gpu_temp_c(ambient_c=25, gpu_power_w=200)
    with pytest.raises(ValueError, match="gpu_power_w must be 0 or more"):
        steady_gpu_temp_c(ambient_c=25, gpu_power_w=-1, thermal_resistance_k_per_w=0.2)
    with pytest.raises(ValueError, match="unknown cooler id 'quad-fan'; valid ids: dual-fan, triple-fan"):
        cooler("quad-fan")
