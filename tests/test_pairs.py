"""Runtime, weight format and KV cache: what runs together, and the closest valid choice."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog, runtime_api
from sizing.pairs import kv_cache_types_for, quants_for, runtimes_for, valid_pair
from sizing.request import EstimateRequest, check_compatibility

CAT = load_catalog()
# One card per vendor API family.
GPUS = ("rtx-4090", "rx-7900-xtx", "arc-b580", "apple-m4-max-40c")


@pytest.mark.parametrize("gpu", GPUS)
def test_every_corrected_choice_runs(gpu):
    """Whatever the user had, the pair handed back passes the engine's compatibility check."""
    for runtime in CAT.runtimes:
        for quant in CAT.quants:
            for kv in CAT.kv_cache_types:
                pair = valid_pair(CAT, gpu=gpu, runtime=runtime.id, quant=quant.id,
                                  kv_cache=kv.id)
                check_compatibility(EstimateRequest(model="llama-3.1-8b", gpu=gpu,
                                                    runtime=pair.runtime, quant=pair.quant,
                                                    kv_cache=pair.kv_cache), CAT)
                assert [c.field for c in pair.changes] == [
                    f for f, old, new in (("runtime", runtime.id, pair.runtime),
                                          ("quant", quant.id, pair.quant),
                                          ("kv_cache", kv.id, pair.kv_cache)) if old != new]


def test_the_lists_hold_only_what_runs():
    for gpu in (CAT.gpu(g) for g in GPUS):
        assert [r.id for r in runtimes_for(CAT, gpu)] == [
            r.id for r in CAT.runtimes if runtime_api(r, gpu) is not None]
    assert {q.id for q in quants_for(CAT, "vllm")} >= {"awq-int4", "fp8", "bf16"}
    assert not any(q.format.value == "gguf" for q in quants_for(CAT, "vllm"))
    assert len(quants_for(CAT, "vllm")) < len(CAT.quants)
    assert [k.id for k in kv_cache_types_for(CAT, "mlx")] == ["f16"]


def test_a_valid_choice_is_kept():
    pair = valid_pair(CAT, gpu="rtx-4090", runtime="vllm", quant="awq-int4", kv_cache="fp8")
    assert (pair.runtime, pair.quant, pair.kv_cache, pair.changes) == (
        "vllm", "awq-int4", "fp8", ())


def test_vllm_does_not_load_gguf_and_gets_the_nearest_four_bit_format():
    pair = valid_pair(CAT, gpu="rtx-4090", runtime="vllm", quant="q4_k_m", kv_cache="f16")
    quant = CAT.quant(pair.quant)
    assert "vllm" in quant.runtimes and quant.format.value != "gguf"
    assert 4 <= quant.body_bits_per_weight <= 5
    assert [(c.field, c.old) for c in pair.changes] == [("quant", "q4_k_m")]


def test_eight_bit_stays_eight_bit_and_no_model_specific_format_is_proposed():
    to_vllm = valid_pair(CAT, gpu="rtx-4090", runtime="vllm", quant="q8_0", kv_cache="q8_0")
    assert to_vllm.quant in ("fp8", "int8") and to_vllm.kv_cache == "fp8"
    to_gguf = valid_pair(CAT, gpu="rtx-4090", runtime="llama.cpp", quant="awq-int4",
                         kv_cache="f16")
    assert CAT.quant(to_gguf.quant).format.value == "gguf" and to_gguf.quant != "mxfp4"
    assert CAT.quant(to_gguf.quant).recommended
    assert valid_pair(CAT, gpu="apple-m4-max-40c", runtime="mlx", quant="q8_0",
                      kv_cache="q8_0").quant == "mlx-8bit"


def test_a_runtime_without_a_backend_moves_to_one_that_loads_the_same_format():
    apple = valid_pair(CAT, gpu="apple-m4-max-40c", runtime="vllm", quant="bf16", kv_cache="f16")
    assert (apple.runtime, apple.quant) == ("llama.cpp", "bf16")
    intel = valid_pair(CAT, gpu="arc-b580", runtime="ollama", quant="q4_k_m", kv_cache="f16")
    assert (intel.runtime, intel.quant, len(intel.changes)) == ("llama.cpp", "q4_k_m", 1)
