"""Speculative decoding: expected tokens per round, what a draft costs, where it pays."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog
from sizing.capacity import ServeSettings, serve
from sizing.memory import kv_bytes_per_token
from sizing.request import parse_request
from sizing.speculative import (DRAFT_ACCEPTANCE_FRAC, SpeculativeError, SpeculativeSettings,
                                expected_tokens_per_step)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def _spec(cat, spec: SpeculativeSettings, users: int = 4, **request):
    data = {"runtime": "vllm", "quant": "bf16", "workload": "chat"} | request
    return serve(parse_request(data), ServeSettings(users=users, speculative=spec), cat)


def test_expected_tokens_per_round():
    # Leviathan et al. 2023, eq. 1: (1 - a^(k+1)) / (1 - a).
    assert expected_tokens_per_step(acceptance_frac=0.6, draft_tokens=3) == pytest.approx(2.176)
    assert expected_tokens_per_step(acceptance_frac=0.0, draft_tokens=5) == 1.0
    with pytest.raises(ValueError):
        expected_tokens_per_step(acceptance_frac=1.0, draft_tokens=3)


def test_a_small_draft_speeds_up_a_large_dense_model_and_less_at_big_batches(cat):
    r = _spec(cat, SpeculativeSettings(draft_model="llama-3.2-1b"), model="llama-3.1-70b",
              gpu="h100-sxm", gpu_count=2)
    s = r.speculative
    assert s.acceptance_frac == DRAFT_ACCEPTANCE_FRAC["chat"]
    by = {row.batch: row for row in s.speedups}
    assert 1.5 < by[1].speedup < s.expected_tokens_per_step
    assert by[1].speedup_low < by[1].speedup < by[1].speedup_high
    assert by[128].speedup < by[1].speedup
    assert s.draft_cost_frac < 0.1


def test_little_gain_for_small_or_mixture_of_experts_targets(cat):
    dense = _spec(cat, SpeculativeSettings(draft_model="qwen3-0.6b"), model="qwen3-32b",
                  gpu="h100-sxm", quant="fp8").speculative.speedups[0].speedup
    moe = _spec(cat, SpeculativeSettings(draft_model="qwen3-0.6b"), model="qwen3-30b-a3b",
                gpu="h100-sxm", quant="fp8").speculative.speedups[0].speedup
    small = _spec(cat, SpeculativeSettings(draft_model="qwen3-0.6b"), model="qwen3-1.7b",
                  gpu="rtx-4090").speculative.speedups[0].speedup
    assert dense > 1.5
    assert moe < 1.1 and small < 1.1


def test_the_draft_takes_memory_from_the_kv_pool(cat):
    plain = serve(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                                 "quant": "bf16", "workload": "chat"}), ServeSettings(users=4), cat)
    spec = _spec(cat, SpeculativeSettings(draft_model="llama-3.2-1b"), model="llama-3.1-8b",
                 gpu="rtx-4090")
    assert spec.kv_pool_tokens < plain.kv_pool_tokens
    s = spec.speculative
    target_kv = kv_bytes_per_token(cat.model("llama-3.1-8b"), bytes_per_element=2.0)
    # The draft's weights and its own cache for the pool's tokens come out of the pool.
    freed = (plain.kv_pool_tokens - spec.kv_pool_tokens) * target_kv
    assert freed == pytest.approx(s.draft_weight_bytes
                                  + spec.kv_pool_tokens * s.draft_kv_bytes_per_token, rel=1e-4)
    assert 2.4e9 < s.draft_weight_bytes < 2.6e9  # Llama 3.2 1B: 1.24B parameters in BF16


def test_mtp_modules_of_glm_air(cat):
    r = _spec(cat, SpeculativeSettings(method="mtp", draft_tokens=1), model="glm-4.5-air",
              gpu="h100-sxm", gpu_count=4, quant="fp8")
    s = r.speculative
    assert s.acceptance_frac == 0.85
    assert s.expected_tokens_per_step == pytest.approx(1.85)
    assert s.draft_cost_frac < 0.1
    assert s.speedups[0].speedup > 1.2


@pytest.mark.parametrize("spec, model, message", [
    (SpeculativeSettings(method="mtp"), "llama-3.1-8b", "no multi-token-prediction"),
    (SpeculativeSettings(draft_model="qwen3-0.6b"), "llama-3.1-8b", "tokenizer"),
    (SpeculativeSettings(draft_model="llama-3.1-70b"), "llama-3.1-8b", "not smaller"),
    (SpeculativeSettings(), "llama-3.1-8b", "draft model is needed"),
])
def test_unusable_drafts_say_why(cat, spec, model, message):
    with pytest.raises(SpeculativeError, match=message):
        _spec(cat, spec, model=model, gpu="h100-sxm")
