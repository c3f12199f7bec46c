"""Invariants over every catalog row, and loader errors that name file, entry and field."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from catalog.catalog import CATALOG_DIR, load_catalog, load_catalog_from
from catalog.loader import CatalogError
from sizing.system import _CONNECTOR_KINDS

CAT = load_catalog()
TODAY = dt.date(2026, 11, 25)

SEED_GPUS = ("rtx-3050", "rtx-3060-12gb", "rtx-3080-10gb", "rtx-4060", "rtx-4070", "rtx-4070-ti",
             "rtx-4080", "rtx-4090", "gtx-1660-super", "rtx-a4000", "a40")
REQUIRED_GPUS = SEED_GPUS + (
    "rtx-3060-8gb", "rtx-3080-12gb", "rtx-4060-ti-8gb", "rtx-4060-ti-16gb", "rtx-5090",
    "rtx-a6000", "rtx-6000-ada", "rtx-pro-6000-blackwell", "l4", "l40s", "a10", "a100-40gb-pcie",
    "a100-80gb-pcie", "a100-40gb-sxm", "a100-80gb-sxm", "h100-pcie", "h100-sxm", "h200-sxm",
    "rx-7900-xtx", "rx-9070-xt", "radeon-pro-w7900", "arc-a770-16gb", "arc-b580",
    "apple-m2-ultra-76c", "apple-m3-max-40c", "apple-m4-max-40c")


def test_counts():
    assert len(CAT.gpus) >= 60 and len(CAT.models) >= 30
    assert len(CAT.quants) >= 20 and len(CAT.runtimes) >= 5


def test_required_ids_present():
    ids = {g.id for g in CAT.gpus}
    assert set(REQUIRED_GPUS) <= ids
    quants = {q.id for q in CAT.quants}
    assert {"q2_k", "q4_k_m", "q8_0", "iq4_xs", "f16", "bf16", "f32", "fp8", "int8", "gptq-int4",
            "awq-int4", "bnb-int8", "bnb-nf4", "mxfp4"} <= quants
    assert {"llama.cpp", "llama.cpp-vulkan", "ollama", "vllm", "transformers", "exllamav2",
            "mlx"} <= {r.id for r in CAT.runtimes}


@pytest.mark.parametrize("gpu", CAT.gpus, ids=lambda g: g.id)
def test_gpu_row(gpu):
    assert gpu.source.startswith("http")
    assert gpu.name.split()[0] in ("NVIDIA", "AMD", "Intel", "Apple")
    assert 2 <= gpu.memory_gib <= 600
    if gpu.memory_bandwidth_gb_per_s is not None:
        assert 50 <= gpu.memory_bandwidth_gb_per_s <= 10_000
    if gpu.dense_fp16_tflops and gpu.dense_fp16_fp32acc_tflops:
        assert gpu.dense_fp16_fp32acc_tflops <= gpu.dense_fp16_tflops * 1.0001
    if gpu.vendor.value == "nvidia" and gpu.segment.value == "consumer" and gpu.dense_fp16_tflops \
            and gpu.architecture in ("ampere", "ada-lovelace", "blackwell"):
        # GeForce: FP32 accumulate runs at half the FP16-accumulate rate.
        assert gpu.dense_fp16_fp32acc_tflops == pytest.approx(gpu.dense_fp16_tflops / 2, rel=0.02)
    assert 10 <= gpu.board_power_w <= 1500
    # A machine sold in several memory sizes is priced per size (memory_prices); its
    # default size may have no published price, but some size has one.
    prices = [gpu.street_price] if gpu.street_price else list(gpu.memory_prices)
    assert prices and all(p.as_of <= TODAY for p in [*prices, *gpu.memory_prices])
    if gpu.used_price is not None:
        assert gpu.used_price.as_of <= TODAY
    for connector in gpu.power_connectors:
        assert connector.lower() in _CONNECTOR_KINDS
    if gpu.form_factor == "pcie":
        assert gpu.pcie_gen and gpu.pcie_lanes and gpu.slot_width


@pytest.mark.parametrize("quant", CAT.quants, ids=lambda q: q.id)
def test_quant_row(quant):
    assert 1.5 <= quant.body_bits_per_weight <= 32
    assert set(quant.runtimes) <= {r.id for r in CAT.runtimes}


@pytest.fixture()
def broken_dir(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_malformed_yaml_names_file_and_line(broken_dir):
    _edit(broken_dir / "runtimes.yaml", "runtimes:\n", "runtimes:\n  - id: [unclosed\n")
    with pytest.raises(CatalogError, match=r"runtimes.yaml: malformed YAML at line \d+"):
        load_catalog_from(broken_dir)


def test_bad_field_names_file_entry_and_field(broken_dir):
    _edit(broken_dir / "gpus.yaml", "memory_gib: 24\n", "memory_gib: -24\n")
    with pytest.raises(CatalogError, match=r"gpus.yaml: entry '[a-z0-9-]+': field 'memory_gib'"):
        load_catalog_from(broken_dir)


def test_misspelt_key_is_an_error(broken_dir):
    _edit(broken_dir / "models.yaml", "num_kv_heads:", "num_kv_head:")
    with pytest.raises(CatalogError, match=r"models.yaml: entry '[a-z0-9.-]+': field 'num_kv_head'"):
        load_catalog_from(broken_dir)


def test_duplicate_id_fails_loudly(broken_dir):
    path = broken_dir / "kv_cache_types.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - id: q4_0", "  - id: q8_0"), encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate id 'q8_0'"):
        load_catalog_from(broken_dir)


def test_unknown_reference_is_named(broken_dir):
    _edit(broken_dir / "quants.yaml", "- llama.cpp-vulkan\n", "- llama.cpp-vulcan\n")
    with pytest.raises(CatalogError, match="quants.yaml: entry '.*': field 'runtimes': unknown id "
                                           "'llama.cpp-vulcan'"):
        load_catalog_from(broken_dir)
