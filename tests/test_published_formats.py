"""The best precision is chosen among formats the runtime runs and the model is published in."""

from __future__ import annotations

import json

import pytest

from catalog.catalog import load_catalog, runtime_api
from catalog.schema import QuantFormat
from sizing.architecture import arch_from_param_count, parse_hf_config_text
from sizing.estimate import estimate
from sizing.fit import best_quant, candidate_quants, published_in
from sizing.request import parse_request

CAT = load_catalog()
SMALL_GPU, BIG_GPU = "rtx-3060-12gb", "h200-sxm"


def _gpu_for(runtime_id: str, big: bool) -> str:
    """A GPU the runtime runs on: the 12 GB card or an H200; the smallest or largest Mac for MLX."""
    runtime = CAT.runtime(runtime_id)
    wanted = BIG_GPU if big else SMALL_GPU
    if runtime_api(runtime, CAT.gpu(wanted)) is not None:
        return wanted
    macs = sorted((g for g in CAT.gpus if runtime_api(runtime, g) is not None),
                  key=lambda g: g.memory_gib)
    return (macs[-1] if big else macs[0]).id


@pytest.mark.parametrize("runtime_id", [r.id for r in CAT.runtimes])
@pytest.mark.parametrize("big", [True, False], ids=["big-gpu", "small-gpu"])
def test_best_precision_is_one_the_runtime_runs_and_the_model_is_published_in(runtime_id, big):
    runtime = CAT.runtime(runtime_id)
    gpu = CAT.gpu(_gpu_for(runtime_id, big))
    for arch in CAT.models:
        quant = best_quant(CAT, arch, gpu, runtime, context_tokens=4096, prompt_tokens=512)
        if quant is None:
            continue
        assert runtime_id in quant.runtimes, (arch.id, quant.id)
        assert not quant.native_only or quant.format in arch.native_formats, (arch.id, quant.id)


@pytest.mark.parametrize(("model", "runtime"), [("glm-4-9b", "transformers"),
                                                ("llama-3.1-8b", "vllm")])
def test_mxfp4_is_never_proposed_for_a_model_not_published_in_it(model, runtime):
    """Before, both got mxfp4 on a GPU where only it and smaller formats fit."""
    arch, rt = CAT.model(model), CAT.runtime(runtime)
    assert "mxfp4" not in {q.id for q in candidate_quants(CAT, rt, arch)}
    # Every GPU and context where the old choice (all formats the runtime runs) was mxfp4.
    for gpu in CAT.gpus:
        if runtime_api(rt, gpu) is None:
            continue
        for context in (2048, 32768):
            quant = best_quant(CAT, arch, gpu, rt, context_tokens=context, prompt_tokens=512)
            assert quant is None or quant.id != "mxfp4"
    result = estimate(parse_request({"model": model, "runtime": runtime, "gpu": "rtx-4090",
                                     "quant": "bf16"}), CAT)
    assert "mxfp4" not in result.fit.formats_considered
    assert "float" in result.fit.formats_considered


def test_gpt_oss_is_offered_its_native_mxfp4():
    arch = CAT.model("gpt-oss-20b")
    assert arch.native_formats == (QuantFormat.MXFP4,)
    assert "mxfp4" in {q.id for q in candidate_quants(CAT, CAT.runtime("vllm"), arch)}
    result = estimate(parse_request({"model": "gpt-oss-20b", "runtime": "vllm", "gpu": "rtx-4090",
                                     "quant": "mxfp4", "context_tokens": 8192}), CAT)
    assert result.fit.best_quant == "mxfp4"  # bf16 (about 39 GiB) does not fit 24 GiB
    assert "mxfp4" in result.fit.formats_considered


def test_only_gpt_oss_ships_in_a_native_only_format():
    native_only = [q for q in CAT.quants if q.native_only]
    assert {q.format for q in native_only} == {QuantFormat.MXFP4}
    shipping = {m.id for m in CAT.models if QuantFormat.MXFP4 in m.native_formats}
    assert shipping == {"gpt-oss-20b", "gpt-oss-120b"}
    assert all(m.native_formats_source for m in CAT.models if m.native_formats)


def test_a_config_json_declares_its_native_format():
    shapes = {"num_hidden_layers": 24, "hidden_size": 2880, "num_attention_heads": 64,
              "num_key_value_heads": 8, "head_dim": 64, "intermediate_size": 2880,
              "vocab_size": 201088, "num_local_experts": 32, "num_experts_per_tok": 4}
    plain = parse_hf_config_text(json.dumps(shapes))
    declared = parse_hf_config_text(json.dumps({**shapes,
                                                "quantization_config": {"quant_method": "mxfp4"}}))
    mxfp4 = CAT.quant("mxfp4")
    assert not published_in(mxfp4, plain)
    assert published_in(mxfp4, declared)
    assert not published_in(mxfp4, arch_from_param_count(20e9))


def test_an_explicit_format_the_model_is_not_published_in_is_flagged():
    llama = estimate(parse_request({"model": "llama-3.1-8b", "runtime": "vllm", "quant": "mxfp4",
                                    "gpu": "rtx-4090"}), CAT)
    assert [n.params for n in llama.warnings if n.code == "format_not_published"] == [
        {"model": "Llama 3.1 8B", "format": "MXFP4"}]
    gpt_oss = estimate(parse_request({"model": "gpt-oss-20b", "runtime": "vllm",
                                      "quant": "mxfp4", "gpu": "rtx-4090"}), CAT)
    assert "format_not_published" not in {n.code for n in gpt_oss.warnings}
