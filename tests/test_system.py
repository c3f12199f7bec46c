"""Tests for sizing.system and catalog/storage.yaml."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.loader import CATALOG_DIR, load_records
from catalog.schema import Gpu, StorageClass
from sizing.system import (
    STANDARD_PSU_SIZES_W,
    cpu_guidance,
    load_time_s,
    psu_recommended_w,
    ram_recommended_bytes,
    required_power_connectors,
    resolve_record_id,
    wall_circuit_check,
)
from sizing.units import gib_to_bytes

STORAGE = load_records(CATALOG_DIR / "storage.yaml", "storage_classes", StorageClass)


def storage(storage_id: str) -> StorageClass:
    return resolve_record_id(records=STORAGE, record_id=storage_id, kind="storage class")


# --- catalog invariants -------------------------------------------------------


def test_storage_classes_present_and_ordered_by_speed() -> None:
    order = ["nvme-gen5", "nvme-gen4", "nvme-gen3", "sata-ssd", "hdd", "network-share"]
    speeds = [storage(i).read_gb_per_s for i in order]
    assert speeds == sorted(speeds, reverse=True)


def test_storage_speeds_match_domain_notes() -> None:
    # docs/model.md, Load time and system: Gen4 about 5-7 GB/s, Gen3 about 3.5, SATA about 0.55,
    # HDD about 0.15; 1 GbE = 0.125 GB/s line rate, ~0.11 after protocol overhead.
    assert 5.0 <= storage("nvme-gen4").read_gb_per_s <= 7.5
    assert storage("nvme-gen3").read_gb_per_s == pytest.approx(3.5)
    assert storage("sata-ssd").read_gb_per_s == pytest.approx(0.55)
    assert storage("hdd").read_gb_per_s == pytest.approx(0.15)
    assert storage("network-share").read_gb_per_s == pytest.approx(0.11)
    assert storage("network-share-10gbe").read_gb_per_s == pytest.approx(1.1)


def test_unknown_storage_id_lists_the_valid_ids() -> None:
    with pytest.raises(ValueError) as err:
        storage("floppy")
    assert "unknown storage class id 'floppy'; valid ids: nvme-gen5, nvme-gen4" in str(err.value)
    assert "network-share" in str(err.value)


# --- load time: the Open-AutoGLM article's measurement ------------------------


def test_seed_130_gb_checkpoint_from_3_4_gb_per_s_nvme_about_38_s() -> None:
    # Measured in the Open-AutoGLM hardware article (docs/model.md, Load time and
    # system): ~38 s; within 3 %.
    assert load_time_s(file_bytes=130e9, read_gb_per_s=3.4) == pytest.approx(38, rel=0.03)


def test_seed_130_gb_checkpoint_from_sata_ssd_about_237_s() -> None:
    # Same measurement: ~237 s at 0.55 GB/s; within 3 %, also via the catalog row.
    assert load_time_s(file_bytes=130e9, read_gb_per_s=0.55) == pytest.approx(237, rel=0.03)
    assert load_time_s(
        file_bytes=130e9, read_gb_per_s=storage("sata-ssd").read_gb_per_s
    ) == pytest.approx(237, rel=0.03)


def test_cached_file_loads_from_ram() -> None:
    # 10 GB/s page-cache read (assumption) beats any disk slower than that.
    assert load_time_s(file_bytes=40e9, read_gb_per_s=0.15, cached_in_ram=True) == pytest.approx(4.0)
    # A disk faster than the cache path is not slowed down by caching.
    assert load_time_s(file_bytes=40e9, read_gb_per_s=12.0, cached_in_ram=True) == pytest.approx(40 / 12)


@given(
    size=st.floats(min_value=0, max_value=2e12),
    a=st.floats(min_value=0.01, max_value=20),
    b=st.floats(min_value=0.01, max_value=20),
    cached=st.booleans(),
)
def test_a_faster_disk_never_loads_slower(size: float, a: float, b: float, cached: bool) -> None:
    slow, fast = sorted((a, b))
    assert load_time_s(file_bytes=size, read_gb_per_s=fast, cached_in_ram=cached) <= load_time_s(
        file_bytes=size, read_gb_per_s=slow, cached_in_ram=cached
    )


# --- power supply ---------------------------------------------------------------


def test_rtx_4090_system_gets_an_850_w_psu() -> None:
    # 450 W GPU + 125 W CPU + 75 W rest = 650 W; NVIDIA recommends 850 W for the
    # RTX 4090 (https://winfuture.de/videos/Hardware/RTX-4090-Founders-Edition-Nvidias-neue-Top-Grafikkarte-im-Test-24487.html).
    psu = psu_recommended_w(sustained_system_w=650, gpu_board_power_w_total=450)
    assert psu.needed_w == pytest.approx(845)
    assert psu.recommended_w == 850
    # Transient: 650 + 450 x 1.2 = 1,190 W for ~100 us, within 2 x 850 W (ATX 3.x).
    assert psu.transient_peak_w == pytest.approx(1190)


def test_older_psu_is_sized_for_transients() -> None:
    # Two 3090s (350 W): 900 W sustained; a pre-ATX-3.0 unit carries ~1.3x briefly:
    # peak 900 + 700 x 1.2 = 1,740 W / 1.3 = 1,338 W -> 1,600 W.
    psu = psu_recommended_w(sustained_system_w=900, gpu_board_power_w_total=700, psu_peak_frac=1.3)
    assert psu.recommended_w == 1600
    assert psu_recommended_w(sustained_system_w=900, gpu_board_power_w_total=700).recommended_w == 1200


def test_beyond_the_largest_standard_psu_is_a_result() -> None:
    psu = psu_recommended_w(sustained_system_w=4000, gpu_board_power_w_total=2800)
    assert psu.recommended_w is None and psu.exceeds_standard_sizes


@given(
    sustained=st.floats(min_value=50, max_value=1500),  # x 1.5 stays within 2,400 W
    gpu_frac=st.floats(min_value=0, max_value=0.9),
    margin=st.floats(min_value=1.25, max_value=1.5),
)
def test_psu_covers_margin_and_is_a_standard_size(sustained: float, gpu_frac: float, margin: float) -> None:
    psu = psu_recommended_w(
        sustained_system_w=sustained, gpu_board_power_w_total=sustained * gpu_frac, margin_frac=margin
    )
    assert psu.recommended_w in STANDARD_PSU_SIZES_W
    assert psu.recommended_w >= sustained * margin - 1e-9


# --- connectors, wall circuit ---------------------------------------------------


def test_connectors_are_summed_over_gpus() -> None:
    conn = required_power_connectors(
        gpu_connectors=[("12v-2x6",), ("12V-2x6",), ("8-pin", "8-pin", "8-pin"), ("eps-8-pin",)]
    )
    assert conn.pcie_12v_2x6_count == 2
    assert conn.pcie_8pin_count == 3
    assert conn.eps_8pin_count == 1
    # Without native 12V-2x6: four 8-pin cables per adapter.
    assert conn.pcie_8pin_count_without_12v_2x6 == 11


def test_every_gpu_in_the_catalog_has_known_connectors() -> None:
    gpus = load_records(CATALOG_DIR / "gpus.yaml", "gpus", Gpu)
    conn = required_power_connectors(gpu_connectors=[g.power_connectors for g in gpus])
    assert conn.pcie_8pin_count > 0 and conn.pcie_12v_2x6_count > 0 and conn.eps_8pin_count > 0


def test_unknown_connector_lists_allowed_names() -> None:
    with pytest.raises(ValueError, match="unknown power connector '10-pin'; allowed: 12v-2x6"):
        required_power_connectors(gpu_connectors=[("10-pin",)])


def test_120_v_15_a_circuit_allows_1440_w_continuous() -> None:
    # NEC 80 % rule: 120 V x 15 A x 0.8 = 1,440 W (docs/model.md, Power).
    check = wall_circuit_check(system_power_w=1000)
    assert check.continuous_limit_w == pytest.approx(1440)
    assert check.ok


def test_two_high_end_gpus_meet_the_us_circuit_limit() -> None:
    # Two RTX 5090 (575 W) + 125 W CPU + 75 W rest = 1,350 W DC -> 1,500 W at the wall.
    us = wall_circuit_check(system_power_w=1350)
    assert us.wall_w == pytest.approx(1500)
    assert not us.ok and us.headroom_w == pytest.approx(-60)
    # The same box on a 230 V / 16 A circuit: 3,680 W, 2,944 W continuous.
    eu = wall_circuit_check(system_power_w=1350, volts=230, amps=16)
    assert eu.continuous_limit_w == pytest.approx(2944) and eu.ok


def test_bad_circuit_input_names_the_range() -> None:
    with pytest.raises(ValueError, match="circuit voltage must be between 100 and 250 V"):
        wall_circuit_check(system_power_w=500, volts=400)
    with pytest.raises(ValueError, match="circuit breaker must be between 5 and 63 A"):
        wall_circuit_check(system_power_w=500, amps=2)


# --- RAM --------------------------------------------------------------------------


def test_ram_holds_os_and_the_mapped_file() -> None:
    # 40 GB model fully on GPU: 8 GiB OS + 37.3 GiB cached file = 45.3 GiB -> 64 GiB.
    r = ram_recommended_bytes(offloaded_bytes=0, model_file_bytes=40e9)
    assert r.needed_bytes == pytest.approx(gib_to_bytes(8) + 40e9)
    assert r.recommended_gib == 64
    # Without keeping the file cached: 8 GiB -> 16 GiB.
    assert ram_recommended_bytes(
        offloaded_bytes=0, model_file_bytes=40e9, cache_model_file=False
    ).recommended_gib == 16


def test_ram_rounds_to_purchasable_sizes() -> None:
    # 80 GiB offloaded + 8 GiB = 88 GiB -> 96 GiB kit.
    r = ram_recommended_bytes(offloaded_bytes=gib_to_bytes(80), model_file_bytes=gib_to_bytes(80))
    assert r.recommended_gib == 96
    assert r.recommended_bytes == gib_to_bytes(96)
    huge = ram_recommended_bytes(offloaded_bytes=gib_to_bytes(3000), model_file_bytes=0)
    assert huge.recommended_bytes is None


@given(
    a=st.floats(min_value=0, max_value=1e12),
    b=st.floats(min_value=0, max_value=1e12),
    file=st.floats(min_value=0, max_value=1e12),
    cache=st.booleans(),
)
def test_more_offloaded_never_needs_less_ram(a: float, b: float, file: float, cache: bool) -> None:
    lo, hi = sorted((a, b))
    r_lo = ram_recommended_bytes(offloaded_bytes=lo, model_file_bytes=file, cache_model_file=cache)
    r_hi = ram_recommended_bytes(offloaded_bytes=hi, model_file_bytes=file, cache_model_file=cache)
    assert r_hi.needed_bytes >= r_lo.needed_bytes
    if r_hi.recommended_bytes is not None:
        assert r_lo.recommended_bytes is not None
        assert r_hi.recommended_bytes >= r_lo.recommended_bytes


def test_ram_bad_input() -> None:
    with pytest.raises(ValueError, match="offloaded_bytes must be a finite number, 0 or more"):
        ram_recommended_bytes(offloaded_bytes=-1, model_file_bytes=0)


# --- CPU --------------------------------------------------------------------------


def test_cpu_guidance_for_one_two_and_four_gpus() -> None:
    one = cpu_guidance(gpu_count=1)
    assert (one.min_physical_cores, one.pcie_lanes_needed) == (4, 20)
    assert one.consumer_platform_full_lanes and one.gpu_lanes_each_on_consumer == 16
    two = cpu_guidance(gpu_count=2)
    assert two.gpu_lanes_each_on_consumer == 8 and not two.consumer_platform_full_lanes
    four = cpu_guidance(gpu_count=4, offload=True)
    assert four.min_physical_cores == 10 and four.pcie_lanes_needed == 68
    assert cpu_guidance(gpu_count=1, offload=True).min_physical_cores == 8


def test_cpu_guidance_bad_input() -> None:
    with pytest.raises(ValueError, match="gpu_pcie_lanes_each must be one of 1, 2, 4, 8, 16"):
        cpu_guidance(gpu_count=1, gpu_pcie_lanes_each=12)
    with pytest.raises(ValueError, match="gpu_count must be between 0 and 16"):
        cpu_guidance(gpu_count=-1)
