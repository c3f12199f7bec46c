"""Setups no machine can have are refused, naming the limit, before any number is made.

Each case here was once estimated silently, as if the hardware were real.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from catalog.catalog import load_catalog
from sizing.architecture import ModelInputError, parse_hf_config_text
from sizing.estimate import estimate
from sizing.request import (MAX_TOKENS, RequestError, parse_request, tensor_parallel_problem)
from sizing.speed import RAM_LIMITS, ram_bandwidth_gb_per_s

CAT = load_catalog()


def run(**fields):
    return estimate(parse_request({"model": "llama-3.1-8b", **fields}), CAT)


def refusal(**fields) -> str:
    with pytest.raises(RequestError) as info:
        run(**fields)
    return str(info.value)


def test_vllm_tensor_parallel_over_a_count_that_does_not_divide_the_heads_is_refused():
    # Qwen2.5-7B: 28 query heads, 4 KV heads. vLLM refuses TP=8 (28 % 8) and TP=3.
    qwen = CAT.model("qwen2.5-7b")
    assert (qwen.num_attention_heads, qwen.num_kv_heads) == (28, 4)
    for count in (3, 8):
        with pytest.raises(RequestError, match=r"28 attention heads.*GPU counts that work: 1, 2, 4"):
            estimate(parse_request({"model": "qwen2.5-7b", "runtime": "vllm", "quant": "bf16",
                                    "gpu": "a100-80gb-sxm", "gpu_count": count}), CAT)
    ok = estimate(parse_request({"model": "qwen2.5-7b", "runtime": "vllm", "quant": "bf16",
                                 "gpu": "a100-80gb-sxm", "gpu_count": 4}), CAT)
    assert ok.split == "tensor" and ok.gpu_count == 4


def test_kv_heads_must_divide_or_be_replicated_whole():
    vllm = CAT.runtime("vllm")
    arch = CAT.model("llama-3.1-8b").model_copy(update={"num_attention_heads": 40,
                                                         "num_kv_heads": 10})
    assert tensor_parallel_problem(arch, vllm, 4, "tensor") is not None  # 10 KV heads over 4
    assert "KV heads" in tensor_parallel_problem(arch, vllm, 4, "tensor")
    assert tensor_parallel_problem(arch, vllm, 2, "tensor") is None
    # Fewer KV heads than GPUs: vLLM replicates them, if the GPUs split into whole copies.
    llama = CAT.model("llama-3.1-70b")  # 64 heads, 8 KV heads
    assert tensor_parallel_problem(llama, vllm, 16, "tensor") is None
    # Layer split (llama.cpp) has no such rule.
    assert tensor_parallel_problem(arch, CAT.runtime("llama.cpp"), 3, "layer") is None


def test_the_advisor_never_proposes_a_count_vllm_refuses():
    from advisor.candidates import CandidateSearch
    arch = CAT.model("qwen2.5-7b")
    base = parse_request({"model": "qwen2.5-7b", "runtime": "vllm", "quant": "bf16"})
    search = CandidateSearch(CAT, arch, base, ladder=[("vllm", "bf16", 0)], min_tokens_per_s=1)
    assert search.best("a100-80gb-sxm", 8) is None
    assert search.best("a100-80gb-sxm", 4) is not None


def test_apple_machines_have_one_gpu():
    apple = next(g for g in CAT.gpus if g.vendor.value == "apple")
    message = refusal(gpu=apple.id, runtime="llama.cpp", gpu_count=16)
    assert "gpu_count must be 1" in message and apple.name in message
    assert run(gpu=apple.id).gpu_count == 1


def test_nvlink_on_a_card_without_nvlink_is_refused():
    assert not CAT.gpu("rtx-4090").nvlink
    assert "has no NVLink" in refusal(gpu="rtx-4090", gpu_count=2, interconnect="nvlink4")
    # A card with NVLink accepts it.
    assert run(gpu="h100-sxm", gpu_count=2, interconnect="nvlink4").gpu_count == 2


def test_a_pcie_link_faster_than_the_card_is_refused():
    assert CAT.gpu("rtx-3090").pcie_gen == 4
    assert "PCIe 4.0 card" in refusal(gpu="rtx-3090", gpu_count=2, interconnect="pcie5-x16")


def test_a_power_cap_on_a_mac_is_refused():
    apple = next(g for g in CAT.gpus if g.vendor.value == "apple")
    assert "no user-settable GPU power limit" in refusal(gpu=apple.id, power_limit_w=20)


@pytest.mark.parametrize("spec", ["ddr4-12000x16", "ddr4-6000x2", "ddr5-12000x2", "ddr5-2400x2",
                                  "ddr4-3200x24", "ddr5-6000x32"])
def test_ram_no_system_has_is_refused_naming_the_limit(spec):
    kind = spec[:4]
    low, high, channels = RAM_LIMITS[kind]
    message = refusal(ram=spec)
    assert f"{low}-{high} MT/s" in message and f"1-{channels} channels" in message
    with pytest.raises(ValueError):
        ram_bandwidth_gb_per_s(spec)


@pytest.mark.parametrize("spec", ["ddr4-3200x2", "ddr4-3200x16", "ddr5-6000x2", "ddr5-4800x24"])
def test_real_ram_still_works(spec):
    assert run(ram=spec).speed is not None


def test_an_moe_config_with_more_experts_per_token_than_experts_is_refused():
    cfg = {"model_type": "mixtral", "num_hidden_layers": 32, "hidden_size": 4096,
           "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
           "vocab_size": 32000, "num_local_experts": 8, "num_experts_per_tok": 9}
    with pytest.raises(ModelInputError,
                       match="'num_experts_per_tok' must be a whole number from 1 to 8, got 9"):
        parse_hf_config_text(json.dumps(cfg))
    cfg["num_experts_per_tok"] = 2
    assert parse_hf_config_text(json.dumps(cfg)).num_experts_per_token == 2


def test_a_context_assembled_from_two_flags_cannot_pass_the_cap():
    half = MAX_TOKENS // 2 + 1
    with pytest.raises(RequestError, match="exceeds the longest context"):
        parse_request({"model": "llama-3.1-8b", "prompt_tokens": half, "new_tokens": half})
    # The command line says so in one line, exit 2.
    out = subprocess.run([sys.executable, "-m", "sizing", "estimate", "--model", "llama-3.1-8b",
                          "--prompt-tokens", str(half), "--new-tokens", str(half)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "exceeds the longest context" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_models_own_limit_is_named_when_it_binds():
    # Llama 2 7B (4,096 tokens) on an H100: memory would hold far more.
    result = estimate(parse_request({"model": "llama-2-7b", "gpu": "h100-sxm", "quant": "f16",
                                     "prompt_tokens": 1000, "new_tokens": 200}), CAT)
    assert result.fit.max_context_tokens == CAT.model("llama-2-7b").max_context_tokens == 4096
    assert result.fit.max_context_limited_by == "model"
    assert "context_model_limit" in {n.code for n in result.warnings}
    # Where memory binds, it says memory and no such notice.
    tight = run(gpu="rtx-3060-12gb", quant="q8_0")
    assert tight.fit.max_context_limited_by == "memory"
    assert tight.fit.max_context_tokens < CAT.model("llama-3.1-8b").max_context_tokens
    assert "context_model_limit" not in {n.code for n in tight.warnings}
