"""The serving model: iteration times, admission, the simulation and what it measures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.catalog import load_catalog
from sizing.capacity import ServeError, ServeSettings, serve, serving_setup
from sizing.request import parse_request
from sizing.serving import (KNEE_FRAC, experts_read_frac, knee_concurrency, max_users_at_target,
                            scheduler_for)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def _serve(cat, users=8, think_time_s=0.0, **request):
    data = {"runtime": "vllm", "quant": "bf16"} | request
    return serve(parse_request(data), ServeSettings(users=users, think_time_s=think_time_s), cat)


@pytest.fixture(scope="module")
def chat_4090(cat):
    """Llama 3.1 8B in BF16 on an RTX 4090 with vLLM, 512 + 512 tokens per request."""
    return _serve(cat, users=20, think_time_s=30.0, model="llama-3.1-8b", gpu="rtx-4090",
                  workload="chat")


def test_curve_rises_until_the_kv_pool_binds_then_flattens(chat_4090):
    curve = chat_4090.curve
    pool = chat_4090.kv_pool_requests
    assert pool is not None and 20 < pool < curve[-1].concurrency
    below = [p for p in curve if p.concurrency <= pool]
    above = [p for p in curve if p.concurrency >= pool]
    # Batching buys throughput while the pool holds every request in flight ...
    for a, b in zip(below, below[1:]):
        assert b.throughput_tokens_per_s > a.throughput_tokens_per_s * 1.05
    # ... and nothing more once it is full: the extra requests only queue.
    peak = max(p.throughput_tokens_per_s for p in curve)
    assert all(p.throughput_tokens_per_s >= 0.9 * peak for p in above)
    assert above[-1].ttft_p95_s > 10 * below[-1].ttft_p95_s


@pytest.mark.parametrize("request_fields", [
    {"model": "llama-3.1-8b", "gpu": "rtx-4090", "workload": "chat"},
    {"model": "llama-3.1-8b", "gpu": "h100-sxm", "workload": "rag"},
    {"model": "qwen3-30b-a3b", "gpu": "h100-sxm", "quant": "fp8", "workload": "chat"},
    {"model": "llama-3.1-8b", "gpu": "rtx-3090", "runtime": "llama.cpp", "quant": "q4_k_m",
     "workload": "chat"},
])
def test_itl_never_falls_and_throughput_never_drops_as_load_grows(cat, request_fields):
    result = _serve(cat, users=32, **request_fields)
    itl = [p.itl_p95_ms for p in result.curve]
    assert itl == sorted(itl)
    tps = [p.throughput_tokens_per_s for p in result.curve]
    assert all(b >= 0.97 * a for a, b in zip(tps, tps[1:]))
    assert tps[-1] > 2 * tps[0]


def test_knee_is_the_first_point_near_the_peak(chat_4090):
    points = [(p.concurrency, p.throughput_tokens_per_s) for p in chat_4090.curve]
    peak = max(t for _, t in points)
    knee = chat_4090.knee_concurrency
    assert dict(points)[knee] >= KNEE_FRAC * peak
    assert all(t < KNEE_FRAC * peak for c, t in points if c < knee)
    assert knee_concurrency([(1, 10.0), (2, 20.0), (4, 21.0)]) == 2


@pytest.mark.parametrize("request_fields, users, limiter", [
    # 8,300-token RAG requests: the 4090's pool holds 11 of them.
    ({"model": "llama-3.1-8b", "gpu": "rtx-4090", "workload": "rag"}, 32, "kv_pool"),
    # llama.cpp's server: 4 slots by default, everyone else waits.
    ({"model": "llama-3.1-8b", "gpu": "rtx-3090", "runtime": "llama.cpp", "quant": "q4_k_m",
      "workload": "chat"}, 16, "slots"),
    # Long prompts, 16-token answers: prompt processing, compute-bound, is the work.
    ({"model": "llama-3.1-8b", "gpu": "h100-sxm", "prompt_tokens": 8000, "new_tokens": 16}, 16,
     "compute"),
    # Chat on a 70B over four H100s: decode reads the weights and cache, memory-bound.
    ({"model": "llama-3.1-70b", "gpu": "h100-sxm", "gpu_count": 4, "workload": "chat"}, 16,
     "bandwidth"),
])
def test_limiter(cat, request_fields, users, limiter):
    assert _serve(cat, users=users, **request_fields).limiter == limiter


def test_ollama_serves_one_request_at_a_time_by_default(cat):
    one = _serve(cat, users=4, model="llama-3.1-8b", gpu="rtx-3090", runtime="ollama",
                 quant="q4_k_m", workload="chat")
    assert one.max_running_requests == 1
    # Four users back to back: each waits for the three others' replies.
    assert one.ttft_p95_s > 2 * 512 / one.throughput_tokens_per_s


def test_more_think_time_serves_more_users(cat):
    fields = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "workload": "chat"}
    busy = _serve(cat, users=8, think_time_s=5.0, **fields)
    relaxed = _serve(cat, users=8, think_time_s=60.0, **fields)
    assert relaxed.max_users_at_target > 2 * busy.max_users_at_target


def test_users_at_target_meet_it_and_one_more_misses(cat):
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "llama.cpp",
                             "quant": "q4_k_m", "workload": "chat"})
    edge = serve(request, ServeSettings(users=4), cat).max_users_at_target
    assert edge > 1
    at = serve(request, ServeSettings(users=edge), cat)
    past = serve(request, ServeSettings(users=edge + 1), cat)
    assert at.meets_target and not past.meets_target


def test_prefix_cache_hits_shorten_the_first_token(cat):
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                             "quant": "bf16", "workload": "rag"})
    cold = serve(request, ServeSettings(users=4), cat)
    warm = serve(request, ServeSettings(users=4, prefix_hit_frac=0.9), cat)
    assert warm.prefill_tokens == 800
    assert warm.ttft_p50_s < 0.3 * cold.ttft_p50_s


def test_the_simulation_is_deterministic(cat):
    a = _serve(cat, users=12, think_time_s=10.0, model="llama-3.1-8b", gpu="rtx-4090",
               workload="chat")
    b = _serve(cat, users=12, think_time_s=10.0, model="llama-3.1-8b", gpu="rtx-4090",
               workload="chat")
    assert a == b


def test_cost_per_million_tokens_adds_the_rent(cat):
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                             "quant": "bf16", "workload": "chat"})
    own = serve(request, ServeSettings(users=16), cat)
    rented = serve(request, ServeSettings(users=16, usd_per_hour=0.69), cat)
    rent_per_1m = 0.69 / 3600 / own.throughput_tokens_per_s * 1e6
    assert rented.cost_usd_per_1m_tokens == pytest.approx(own.cost_usd_per_1m_tokens + rent_per_1m)
    electricity = own.system_power_w / 1000 * own.usd_per_kwh / 3600 / own.throughput_tokens_per_s * 1e6
    assert own.cost_usd_per_1m_tokens == pytest.approx(electricity)


def test_experts_read_fraction():
    assert experts_read_frac(experts=128, experts_per_token=8, tokens=1) == pytest.approx(8 / 128)
    fracs = [experts_read_frac(experts=128, experts_per_token=8, tokens=t) for t in (1, 4, 16, 64)]
    assert fracs == sorted(fracs) and fracs[-1] > 0.98
    with pytest.raises(ValueError):
        experts_read_frac(experts=8, experts_per_token=16, tokens=1)


def test_a_mixture_of_experts_batch_reads_more_experts(cat):
    """Qwen3-30B-A3B decodes fast alone; a batch reads most experts, so it gains less from batching."""
    moe = _serve(cat, users=1, model="qwen3-30b-a3b", gpu="h100-sxm", quant="fp8", workload="chat")
    by = {p.concurrency: p.itl_p95_ms for p in moe.curve}
    dense = _serve(cat, users=1, model="qwen3-8b", gpu="h100-sxm", quant="fp8", workload="chat")
    dense_by = {p.concurrency: p.itl_p95_ms for p in dense.curve}
    assert by[16] / by[1] > 1.5 * dense_by[16] / dense_by[1]


def test_scheduler_defaults():
    cat = load_catalog()
    assert scheduler_for("vllm", cat.gpu("h100-sxm")).max_running == 1024
    assert scheduler_for("vllm", cat.gpu("a100-80gb-sxm")).chunk_tokens == 2048
    assert scheduler_for("llama.cpp", cat.gpu("rtx-3090"), slots=8).max_running == 8
    with pytest.raises(ValueError, match="serving is modelled"):
        scheduler_for("mlx", cat.gpu("apple-m2-max-38c"))


def test_bisection_finds_the_edge():
    class R:
        def __init__(self, n):
            self.ttft_p95_s, self.itl_p95_s = n / 10, 0.01

    assert max_users_at_target(R, ttft_p95_s=3.7, itl_p95_s=0.1) == 37
    assert max_users_at_target(R, ttft_p95_s=0.01, itl_p95_s=0.1) == 0
    assert max_users_at_target(R, ttft_p95_s=1e9, itl_p95_s=0.1, hi=64) == 64


def test_unservable_setups_say_what_to_change(cat):
    with pytest.raises(ServeError, match="serving is modelled"):
        _serve(cat, model="llama-3.1-8b", gpu="rtx-4090", runtime="transformers", quant="f16",
               workload="chat")
    with pytest.raises(ServeError, match="KV pool"):
        _serve(cat, model="llama-3.1-70b", gpu="rtx-4090", quant="bf16", workload="chat")
    with pytest.raises(ServeError, match="slot"):
        _serve(cat, model="llama-3.1-8b", gpu="rtx-3060-8gb", runtime="llama.cpp", quant="q8_0",
               workload="code")


def test_requests_arriving_at_a_rate(cat):
    """Open loop: the throughput follows the rate until the pool binds, then requests queue."""
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                             "quant": "bf16", "workload": "chat"})
    light = serve(request, ServeSettings(users=20, requests_per_minute=60), cat)
    assert light.throughput_tokens_per_s == pytest.approx(60 / 60 * 512, rel=0.15)
    edge = light.max_requests_per_minute_at_target
    peak = max(p.throughput_tokens_per_s for p in light.curve)
    # A run of 200 arrivals may sit a few percent above the steady-state peak
    # before its queue outgrows the targets.
    assert 0.5 * peak < edge / 60 * 512 <= 1.03 * peak
    over = serve(request, ServeSettings(users=20, requests_per_minute=2 * edge), cat)
    assert not over.meets_target and over.limiter == "kv_pool"
    assert light.meets_target and light.requests_per_minute == 60


def _setup(cat, **request):
    data = {"runtime": "vllm", "quant": "bf16", "model": "qwen2.5-7b", "gpu": "l4",
            "prompt_tokens": 50, "new_tokens": 128} | request
    return serving_setup(parse_request(data), ServeSettings(users=64, think_time_s=0.0), cat, None)


def test_short_prompts_share_a_pass_instead_of_each_reading_the_weights(cat):
    """A 50-token prompt riding in a 2048-token pass costs its FLOPs, not a weight read."""
    step = _setup(cat).step
    assert step.pass_tokens == 2048
    batched_s = step.prefill_token_s()
    alone = replace(step, pass_tokens=1, _decode={}, _prefill_token_s=None)
    # Alone, each token carries 1/50 of a weight read (15 GB at 300 GB/s): about 1 ms.
    assert alone.prefill_token_s() > 5 * batched_s
    # No pass is quicker than a decode step of one sequence (the weights read once).
    assert step.iteration(0, 50)[0] == pytest.approx(step.decode(1)[0])


def test_a_finite_run_counts_its_ramp_and_partly_empty_last_wave(cat):
    """100 requests at 64 in flight: the last 36 run in a thinner batch than the steady state."""
    setup = _setup(cat)
    steady = setup.simulate(64, 0.0)
    finite = setup.simulate(64, 0.0, total_requests=100)
    assert finite.output_tokens_per_s < 0.9 * steady.output_tokens_per_s
    # Two full waves of 64 come close to the steady state.
    many = setup.simulate(64, 0.0, total_requests=640)
    assert many.output_tokens_per_s == pytest.approx(steady.output_tokens_per_s, rel=0.1)
    with pytest.raises(ValueError):
        setup.simulate(64, 0.0, requests_per_minute=60.0, total_requests=100)
