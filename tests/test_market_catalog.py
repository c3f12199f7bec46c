"""Invariants over every row of cloud.yaml, parts.yaml and currencies.yaml."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from catalog.loader import CATALOG_DIR, CatalogError
from catalog.catalog import load_catalog, load_catalog_from
from catalog.market import DriveKind, Market

TODAY = dt.date.today()
OLDEST = TODAY - dt.timedelta(days=3 * 366)

@pytest.fixture(scope="module")
def market() -> Market:
    return load_catalog().market


def _dated(market: Market) -> list[tuple[str, dt.date]]:
    rows: list[tuple[str, dt.date]] = [(i.id, i.as_of) for i in market.instances]
    for kind in ("cpus", "motherboards", "ram_kits", "storage", "psus", "cases", "cpu_coolers"):
        rows += [(part.id, part.price.as_of) for part in getattr(market, kind)]
    rows += [(c.code, c.as_of) for c in market.currencies]
    rows += [(e.id, e.as_of) for e in market.electricity]
    return rows


def test_every_date_is_recent_and_not_in_the_future(market: Market) -> None:
    bad = [(name, day) for name, day in _dated(market) if not OLDEST <= day <= TODAY]
    assert bad == []


def test_every_price_is_positive(market: Market) -> None:
    assert all(i.usd_per_hour > 0 for i in market.instances)
    for kind in ("cpus", "motherboards", "ram_kits", "storage", "psus", "cases", "cpu_coolers"):
        assert all(part.price.usd > 0 for part in getattr(market, kind)), kind
    assert all(e.usd_per_kwh > 0 for e in market.electricity)


# --------------------------------------------------------------------------- cloud


def test_cloud_has_enough_instances_and_providers(market: Market) -> None:
    assert len(market.instances) >= 60
    providers = {i.provider.value for i in market.instances}
    assert {"aws", "gcp", "azure", "lambda", "runpod"} <= providers


def test_every_cloud_gpu_id_is_a_catalog_gpu(market: Market) -> None:
    gpu_ids = {g.id for g in load_catalog().gpus}
    assert {i.gpu_id for i in market.instances} <= gpu_ids
    # the datacenter cards people rent are all offered
    assert {"h100-sxm", "a100-80gb-sxm", "l40s", "rtx-4090", "mi300x"} <= {i.gpu_id for i in market.instances}


def test_price_scales_with_gpu_count_within_a_provider(market: Market) -> None:
    groups = defaultdict(list)
    for inst in market.instances:
        groups[(inst.provider, inst.gpu_id)].append(inst)
    for key, insts in groups.items():
        per_gpu = [i.usd_per_gpu_hour for i in insts]
        assert max(per_gpu) / min(per_gpu) <= 3.0, key
        by_count = sorted(insts, key=lambda i: (i.gpu_count, i.usd_per_hour))
        for small, large in zip(by_count, by_count[1:], strict=False):
            if large.gpu_count > small.gpu_count:
                assert large.usd_per_hour > small.usd_per_hour, (small.id, large.id)


def test_gpu_memory_is_the_same_for_one_gpu_everywhere(market: Market) -> None:
    memory = defaultdict(set)
    for inst in market.instances:
        memory[inst.gpu_id].add(inst.gpu_memory_gib)
    assert {gpu: sizes for gpu, sizes in memory.items() if len(sizes) > 1} == {}


def test_instances_cover_one_to_eight_gpus(market: Market) -> None:
    assert {1, 2, 4, 8} <= {i.gpu_count for i in market.instances}


def test_a_70b_fp16_model_has_options_at_several_providers(market: Market) -> None:
    # 70e9 parameters x 2 bytes = 130 GiB of weights, before KV cache.
    roomy = {i.provider for i in market.instances if i.total_gpu_memory_gib >= 160}
    assert len(roomy) >= 5


def test_interconnect_matches_the_gpu_form(market: Market) -> None:
    for inst in market.instances:
        if inst.gpu_id.endswith("-sxm") or inst.gpu_id == "b200":
            assert inst.interconnect.value == "nvlink", inst.id
        if inst.gpu_id.startswith("rtx-") or inst.gpu_id in {"t4", "l4", "l40s", "a40"}:
            assert inst.interconnect.value == "pcie", inst.id


def test_cloud_rows_read_from_catalog_snapshots(market: Market) -> None:
    by_id = {i.id: i for i in market.instances}
    # skypilot-catalog v7/runpod/vms.csv: 1x_RTX4090_SECURE, 16 vCPU, 24 GiB, 0.69 USD/h
    assert by_id["runpod-rtx-4090-x1"].usd_per_hour == pytest.approx(0.69)
    assert by_id["runpod-rtx-4090-x1"].vcpus == 16
    # skypilot-catalog v7/lambda/vms.csv: gpu_8x_h100_sxm5, 208 vCPU, 1800 GiB, 23.92 USD/h
    assert by_id["lambda-gpu-8x-h100-sxm5"].usd_per_hour == pytest.approx(23.92)
    assert by_id["lambda-gpu-8x-h100-sxm5"].ram_gib == 1800
    # skypilot-catalog v7/aws/vms.csv: g4dn.12xlarge us-east-1, 4x T4, 3.912 USD/h
    assert by_id["aws-g4dn-12xlarge"].usd_per_hour == pytest.approx(3.912)
    # dstack PR #4110 (2026-08-06): p5en.48xlarge us-east-1 on demand 63.296 USD/h
    assert by_id["aws-p5en-48xlarge"].usd_per_hour == pytest.approx(63.296)
    assert by_id["aws-p5en-48xlarge"].total_gpu_memory_gib == pytest.approx(8 * 141)


def test_every_instance_says_how_far_its_price_was_checked(market: Market) -> None:
    assert all(i.notes for i in market.instances)


# --------------------------------------------------------------------------- parts


def test_parts_have_enough_rows(market: Market) -> None:
    assert len(market.cpus) >= 10
    assert len(market.motherboards) >= 8
    assert len(market.ram_kits) >= 8
    assert len(market.storage) >= 6
    assert len(market.psus) >= 8
    assert len(market.cases) >= 5
    assert len(market.cpu_coolers) >= 3


def test_cpu_sanity(market: Market) -> None:
    for cpu in market.cpus:
        assert cpu.threads >= cpu.cores, cpu.id
        assert 16 <= cpu.pcie_lanes <= 128, cpu.id
        assert 3200 <= cpu.max_memory_mt_per_s <= 8000, cpu.id
    assert {"am5", "lga1700", "lga1851", "str5"} <= {cpu.socket for cpu in market.cpus}


def test_every_cpu_has_a_cooler_that_can_hold_it(market: Market) -> None:
    for cpu in market.cpus:
        fits = [c for c in market.cpu_coolers if cpu.socket in c.sockets]
        assert any(c.tdp_rating_w >= cpu.tdp_w for c in fits), cpu.id


def test_board_slots_and_memory(market: Market) -> None:
    for board in market.motherboards:
        assert board.memory_channels <= board.dimm_slots, board.id
        lanes = sum(slot.lanes for slot in board.gpu_slots if not slot.from_chipset)
        cpu_lanes = max(c.pcie_lanes for c in market.cpus if c.socket == board.socket)
        assert lanes <= cpu_lanes, board.id


def test_every_board_fits_some_case(market: Market) -> None:
    for board in market.motherboards:
        assert any(board.form_factor in case.form_factors for case in market.cases), board.id


def test_ram_kits_are_consistent(market: Market) -> None:
    for kit in market.ram_kits:
        assert kit.module_gib in {8, 16, 24, 32, 48, 64, 96, 128}, kit.id
        boards = [
            b for b in market.motherboards
            if (b.memory_type, b.dimm_type) == (kit.memory_type, kit.dimm_type)
        ]  # fmt: skip
        assert any(kit.modules <= b.dimm_slots and kit.capacity_gib <= b.max_memory_gib
                   for b in boards), kit.id
    assert {"ddr4", "ddr5"} <= {kit.memory_type for kit in market.ram_kits}


def test_storage_classes_are_ordered_by_speed(market: Market) -> None:
    order = [DriveKind.NVME_GEN5, DriveKind.NVME_GEN4, DriveKind.NVME_GEN3,
             DriveKind.SATA_SSD, DriveKind.HDD]  # fmt: skip
    speeds = {cls: [s.read_gb_per_s for s in market.storage if s.storage_class is cls]
              for cls in order}  # fmt: skip
    assert all(speeds[cls] for cls in order)
    for faster, slower in zip(order, order[1:], strict=False):
        assert min(speeds[faster]) > max(speeds[slower]), (faster, slower)
    # SATA III tops out at 6 Gbit/s, about 0.6 GB/s after encoding.
    assert max(speeds[DriveKind.SATA_SSD]) <= 0.6


def test_psus_span_entry_to_four_gpus(market: Market) -> None:
    for psu in market.psus:
        assert psu.pcie_8pin_count >= 0 and psu.connector_12v_2x6_count >= 0, psu.id
        assert psu.pcie_8pin_count + psu.connector_12v_2x6_count >= 1, psu.id
        if psu.atx_version in {"3.0", "3.1"}:
            assert psu.connector_12v_2x6_count >= 1, psu.id
        if psu.wattage_115v_w is not None:
            assert psu.wattage_115v_w <= psu.wattage_w, psu.id
    watts = [psu.wattage_w for psu in market.psus]
    assert min(watts) <= 550 and max(watts) >= 2000


def test_an_entry_desktop_can_be_assembled(market: Market) -> None:
    cheap = [c for c in market.cpus if c.price.usd <= 200]
    boards = [b for b in market.motherboards
              if b.socket in {c.socket for c in cheap} and b.form_factor.value == "micro-atx"]
    assert boards
    assert any(case.max_gpu_length_mm >= 300 and boards[0].form_factor in case.form_factors
               for case in market.cases)  # fmt: skip
    assert any(650 <= psu.wattage_w <= 850 for psu in market.psus)


def test_a_four_gpu_workstation_can_be_assembled(market: Market) -> None:
    builds = []
    for board in market.motherboards:
        wide = [s for s in board.gpu_slots if s.lanes >= 8 and not s.from_chipset]
        # Dual-slot cards in every other slot need 2 positions per card.
        usable = len(wide) if board.slot_spacing >= 2 else (len(wide) + 1) // 2
        cpus = [c for c in market.cpus if c.socket == board.socket and c.pcie_lanes >= 64]
        cases = [c for c in market.cases
                 if board.form_factor in c.form_factors and c.expansion_slots >= 8]
        if usable >= 4 and cpus and cases:
            builds.append(board.id)
    assert len(builds) >= 2
    assert any(psu.wattage_w >= 1600 for psu in market.psus)


# --------------------------------------------------------------------------- money


def test_required_currencies_are_present_with_sane_rates(market: Market) -> None:
    rates = {c.code: c.units_per_usd for c in market.currencies}
    assert rates["USD"] == 1.0
    assert 0.7 <= rates["EUR"] <= 1.1
    assert 0.6 <= rates["GBP"] <= 0.95
    assert 6.0 <= rates["CNY"] <= 8.0
    assert 100 <= rates["JPY"] <= 200


def test_electricity_regions_and_conversion(market: Market) -> None:
    prices = {e.id: e for e in market.electricity}
    required = {"us-average", "us-california", "germany", "uk", "china", "eu-average", "japan"}
    assert required <= set(prices)
    for price in market.electricity:
        rate = market.currency(price.currency).units_per_usd
        assert price.usd_per_kwh == pytest.approx(price.local_price_per_kwh / rate, rel=0.01)
        assert 0.03 <= price.usd_per_kwh <= 0.8, price.id
    assert prices["us-california"].usd_per_kwh > prices["us-average"].usd_per_kwh
    assert prices["germany"].usd_per_kwh > prices["eu-average"].usd_per_kwh
    # EIA Electric Power Monthly table 5.6.A via energypricestoday.com (2026-04-26): 18.72 cents
    assert prices["us-average"].usd_per_kwh == pytest.approx(0.1872)
    # Eurostat nrg_pc_204, first half of 2025: Germany 0.3835 EUR/kWh
    assert prices["germany"].local_price_per_kwh == pytest.approx(0.3835)


# --------------------------------------------------------------------------- loading


def test_records_are_frozen(market: Market) -> None:
    with pytest.raises(ValidationError):
        market.instances[0].usd_per_hour = 0.01  # type: ignore[misc]


def _copy_catalog(tmp_path: Path) -> Path:
    for path in CATALOG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, key: str, index: int, field: str, value: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[key][index][field] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_unknown_gpu_id_names_file_entry_and_field(tmp_path: Path) -> None:
    catalog = _copy_catalog(tmp_path)
    _edit(catalog / "cloud.yaml", "instances", 0, "gpu_id", "gtx-9999")
    with pytest.raises(CatalogError, match=r"cloud\.yaml: entry 'aws-g4dn-xlarge': field 'gpu_id'"):
        load_catalog_from(catalog)


def test_board_with_unknown_socket_is_rejected(tmp_path: Path) -> None:
    catalog = _copy_catalog(tmp_path)
    _edit(catalog / "parts.yaml", "motherboards", 0, "socket", "am9")
    with pytest.raises(CatalogError, match=r"field 'socket': unknown id 'am9'"):
        load_catalog_from(catalog)


def test_misspelt_field_is_an_error(tmp_path: Path) -> None:
    catalog = _copy_catalog(tmp_path)
    _edit(catalog / "currencies.yaml", "electricity", 0, "usd_per_kwhh", 0.2)
    with pytest.raises(CatalogError, match=r"currencies\.yaml: entry 'us-average'"):
        load_catalog_from(catalog)


def test_duplicate_currency_code_is_rejected(tmp_path: Path) -> None:
    catalog = _copy_catalog(tmp_path)
    _edit(catalog / "currencies.yaml", "currencies", 1, "code", "USD")
    with pytest.raises(CatalogError, match="duplicate id 'USD'"):
        load_catalog_from(catalog)
