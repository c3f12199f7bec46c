"""One scenario over every catalog GPU at once (sizing.vector.every_gpu).

Each scenario is answered twice: by the array path in one call, and by the
scalar engine (sizing.estimate.estimate) once per catalog GPU, as the
Configurator's table used to be built. The GPUs they run on, in order, and
every field of the table (fit, verdict, layers on the GPU, memory size and
price as configured, headroom, decode speed and its band) must agree.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from catalog.catalog import load_catalog
from catalog.errors import UserError
from report.content import MAX_ALTERNATIVES, comparison_results
from sizing.estimate import Estimate, estimate
from sizing.request import EstimateRequest, RequestError, resolve_model
from sizing.vector import GpuSweep, every_gpu

CAT = load_catalog()
GPU_IDS = [g.id for g in CAT.gpus]
# The same operations in the same order: memory is equal to the bit; a speed may
# differ in its last bit where numpy's power differs from Python's.
REL = 1e-12

# Dense and MoE, long context, batches, KV cache types, power caps, layer and
# tensor splits over a link, vision inputs, offload, an encoder, Macs with a
# chosen memory size, runtimes with priors, flash attention off, slow RAM.
SCENARIOS = [
    dict(model="llama-3.1-8b"),
    dict(model="llama-3.1-70b", quant="q4_k_m"),
    dict(model="qwen3-30b-a3b", context_tokens=131072, prompt_tokens=4000),
    dict(model="qwen3-30b-a3b", kv_cache="q8_0", batch=4),
    dict(model="llama-3.1-70b", gpu_count=2, runtime="vllm", quant="awq-int4"),
    dict(model="llama-3.1-70b", gpu_count=4, runtime="vllm", quant="fp8", kv_cache="fp8",
         batch=8),
    dict(model="llama-3.1-8b", runtime="sglang", quant="bf16", gpu_count=2, split="layer"),
    dict(model="qwen3-235b-a22b", gpu_count=2, interconnect="pcie4-x16"),
    dict(model="llama-3.1-8b", power_limit_w=250),
    dict(model="qwen3-30b-a3b", power_limit_w=150, gpu_count=2, batch=16),
    dict(model="qwen2.5-vl-7b", images=3),
    dict(model="qwen2.5-vl-72b", runtime="vllm", quant="awq-int4", images=2, gpu_count=2),
    dict(model="qwen3-embedding-8b", prompt_tokens=2000),
    dict(model="gpt-oss-120b", quant="mxfp4", runtime="llama.cpp-vulkan", new_tokens=0,
         prompt_tokens=3000),
    dict(model="llama-3.1-70b", runtime="mlx", quant="mlx-4bit", gpu="apple-m1-ultra-64c",
         memory_gib=128.0),
    dict(model="llama-3.1-8b", gpu="apple-m1-pro-14c", memory_gib=32.0),
    dict(model="qwen3-30b-a3b", gpu="radeon-8060s", memory_gib=64.0, power_limit_w=100),
    dict(model="llama-3.1-8b", runtime="llama.cpp-vulkan", gpu="arc-140v", memory_gib=32.0),
    dict(model="llama-3.1-8b", runtime="transformers", quant="bf16", flash_attention="off"),
    dict(model="llama-3.1-8b", runtime="exllamav2", quant="exl2-4.65", ram="ddr4-3200x2"),
    dict(model="deepseek-v3", quant="q2_k", context_tokens=32768),
]


def _scalar(request: EstimateRequest) -> list[Estimate]:
    """The scenario on each catalog GPU, one estimate at a time (errors: not a candidate)."""
    arch = resolve_model(request, CAT)[0]
    out = []
    for gpu_id in GPU_IDS:
        memory = request.memory_gib if gpu_id == request.gpu else None
        try:
            out.append(estimate(request.model_copy(update={"gpu": gpu_id, "memory_gib": memory}),
                                CAT, arch=arch))
        except UserError:
            continue
    return out


def _sweep(request: EstimateRequest) -> GpuSweep:
    return every_gpu(request, CAT, resolve_model(request, CAT)[0], GPU_IDS)


def _same(got: float, want: float | None, rel: float = REL) -> bool:
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=rel, abs_tol=0.0)


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda s: ",".join(f"{k}={v}" for k, v
                                                                           in s.items()))
def pair(request) -> tuple[GpuSweep, list[Estimate]]:
    scenario = EstimateRequest(**request.param)
    return _sweep(scenario), _scalar(scenario)


def test_the_same_gpus_run_the_scenario_in_catalog_order(pair):
    sweep, scalar = pair
    assert [g.id for g in sweep.gpus] == [e.gpu_id for e in scalar]


def test_every_column_of_the_table_agrees_with_the_scalar_engine(pair):
    sweep, scalar = pair
    mem = sweep.memory
    for i, e in enumerate(scalar):
        gpu, speed = sweep.gpus[i], e.speed
        where = f"{e.gpu_id} × {e.gpu_count}"
        assert (bool(mem.fits[i]), mem.verdict[i], int(mem.gpu_layers[i])) == (
            e.memory.fits, e.memory.verdict, e.memory.gpu_layers), where
        assert (gpu.memory_gib, gpu.price_usd, sweep.gpu_count) == (
            e.gpu_memory_gib, e.gpu_price_usd, e.gpu_count), where
        for got, want in ((mem.headroom_bytes[i], e.memory.headroom_bytes),
                          (mem.usable_bytes[i], e.memory.usable_bytes),
                          (mem.offloaded_bytes[i], e.memory.offloaded_bytes)):
            assert _same(got, want, rel=0.0), (where, got, want)
        for key in ("decode_tokens_per_s", "decode_tokens_per_s_low",
                    "decode_tokens_per_s_high"):
            want = getattr(speed, key) if speed is not None else None
            assert _same(getattr(sweep, key)[i], want), (where, key, getattr(sweep, key)[i], want)
        assert _same(sweep.decode_speed_frac_at_limit[i],
                     e.power.decode_speed_frac_at_limit if speed is not None else 1.0), where


def test_the_scenarios_reach_every_verdict_a_cap_and_an_unknown_speed():
    """The spread is wide enough to test something: each branch is taken somewhere."""
    sweeps = [_sweep(EstimateRequest(**s)) for s in SCENARIOS]
    verdicts = {v for s in sweeps for v in s.memory.verdict}
    assert verdicts == {"fits", "fits-with-offload", "does-not-fit"}
    assert any((s.decode_speed_frac_at_limit < 1.0).any() for s in sweeps)
    assert any(np.isnan(s.decode_tokens_per_s).any() for s in sweeps)
    assert all(len(s.gpus) > 0 for s in sweeps)


def test_a_mac_keeps_its_chosen_memory_size_and_that_sizes_price():
    sweep = _sweep(EstimateRequest(model="llama-3.1-8b", gpu="apple-m1-pro-14c", memory_gib=32.0))
    chosen = next(g for g in sweep.gpus if g.id == "apple-m1-pro-14c")
    assert chosen.memory_gib == 32.0
    assert chosen.price_usd == CAT.gpu("apple-m1-pro-14c").with_memory(32.0).price_usd


def test_a_power_cap_drops_the_gpus_it_is_outside_of():
    sweep = _sweep(EstimateRequest(model="llama-3.1-8b", power_limit_w=250))
    ids = {g.id for g in sweep.gpus}
    assert "rtx-4090" in ids  # 150-600 W
    assert not any(CAT.gpu(i).form_factor == "soc" and CAT.gpu(i).power_limit_max_w is None
                   for i in ids)


@pytest.mark.parametrize("scenario", [
    dict(model="llama-3.1-8b", images=1),  # a text model sent an image
    dict(model="llama-3.1-8b", runtime="vllm", quant="q4_k_m"),  # a format vLLM cannot run
    dict(model="llama-3.1-8b", runtime="vllm", quant="awq-int4", kv_cache="q8_0"),
])
def test_an_error_for_every_gpu_alike_is_raised_where_the_scalar_engine_runs_nowhere(scenario):
    request = EstimateRequest(**scenario)
    assert _scalar(request) == []
    with pytest.raises(RequestError):
        _sweep(request)


@pytest.mark.parametrize("scenario", [SCENARIOS[0], SCENARIOS[3], SCENARIOS[8], SCENARIOS[15]],
                         ids=["dense", "moe-batch", "power-cap", "mac"])
def test_the_report_picks_the_best_value_gpus_the_scalar_engine_picks(scenario):
    request = EstimateRequest(**scenario)
    arch = resolve_model(request, CAT)[0]
    result = estimate(request, CAT, arch=arch)
    others = [e for e in _scalar(request.model_copy(update={"memory_gib": None}))
              if e.gpu_id != result.gpu_id and e.memory.fits and e.gpu_price_usd]
    speed = {e.gpu_id: (e.speed.decode_tokens_per_s if e.speed else None) or 0.0 for e in others}
    want = sorted(others, key=lambda e: speed[e.gpu_id] / e.gpu_price_usd,
                  reverse=True)[:MAX_ALTERNATIVES]
    got = comparison_results(result, request, CAT, arch, ())
    assert [e.gpu_id for e in got] == [result.gpu_id] + [e.gpu_id for e in want]
    assert got[1:] == want
