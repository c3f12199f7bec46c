"""Speed model: physical laws, the speed-of-light bound and the fitted quality."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from sizing.estimate import estimate
from sizing.request import RequestError, parse_request
from sizing.speed import compute_flops_per_s, pipeline_factor, ram_bandwidth_gb_per_s

CAT = load_catalog()


def run(**kw):
    base = {"model": "llama-3-8b", "gpu": "rtx-4090", "quant": "q4_k_m", "prompt_tokens": 512,
            "new_tokens": 256}
    base.update(kw)
    return estimate(parse_request(base), CAT)


def test_decode_never_beats_speed_of_light_on_any_gpu():
    for gpu in CAT.gpus:
        if gpu.memory_bandwidth_gb_per_s is None:
            continue
        for model in ("llama-3-8b", "qwen3-30b-a3b"):
            r = run(model=model, gpu=gpu.id)
            s = r.speed
            if s is None:  # unified memory too small, with no system RAM beside it to offload to
                assert r.memory.verdict == "does-not-fit" and gpu.segment == "unified"
                continue
            assert s.decode_tokens_per_s <= s.decode_speed_of_light_tokens_per_s
            assert s.decode_tokens_per_s_high <= s.decode_speed_of_light_tokens_per_s * 1.0000001
            assert s.decode_tokens_per_s_low <= s.decode_tokens_per_s <= s.decode_tokens_per_s_high


def test_rtx4090_llama2_7b_q4_0_matches_a_current_build_never_fitted():
    # llama-bench b4011 (Nov 2024, flash attention on) on an RTX 4090, Llama-2-7B Q4_0:
    # tg128 187.7 tokens/s, pp512 13,944 tokens/s; a holdout row, never used for fitting
    # (https://www.reddit.com/r/LocalLLaMA/comments/1ghvwsj/, benchmarks/data/holdout_throughput.csv).
    base = {"model": "llama-2-7b", "quant": "q4_0", "flash_attention": "on"}
    s = run(prompt_tokens=0, new_tokens=128, **base).speed
    assert s.decode_tokens_per_s == pytest.approx(187.7, rel=0.10)
    p = run(prompt_tokens=512, new_tokens=0, **base).speed
    assert p.prefill_tokens_per_s == pytest.approx(13944, rel=0.20)
    assert p.decode_tokens_per_s is None and p.ttft_s > 0


def test_roofline_is_1_5_to_2_times_too_optimistic():
    s = run(prompt_tokens=0, new_tokens=512).speed
    assert 1.3 < s.decode_speed_of_light_tokens_per_s / s.decode_tokens_per_s < 2.0


def test_decode_slows_as_context_grows():
    speeds = [run(prompt_tokens=p, new_tokens=128).speed.decode_tokens_per_s
              for p in (0, 4096, 16384)]
    assert speeds[0] > speeds[1] > speeds[2]


def test_batching_raises_aggregate_and_lowers_per_sequence():
    one, eight = run(batch=1).speed, run(batch=8).speed
    assert eight.decode_tokens_per_s > 4 * one.decode_tokens_per_s
    assert eight.decode_tokens_per_s_per_sequence < one.decode_tokens_per_s_per_sequence


def test_layer_split_does_not_speed_up_one_stream_tensor_parallel_does():
    one = run(model="llama-3.1-8b", quant="f16", gpu="a100-80gb-sxm", runtime="vllm").speed
    layer = run(model="llama-3.1-8b", quant="f16", gpu="a100-80gb-sxm", runtime="vllm",
                gpu_count=2, split="layer").speed
    tensor = run(model="llama-3.1-8b", quant="f16", gpu="a100-80gb-sxm", runtime="vllm",
                 gpu_count=2, split="tensor").speed
    assert layer.decode_tokens_per_s <= one.decode_tokens_per_s
    assert tensor.decode_tokens_per_s > 1.3 * one.decode_tokens_per_s


def test_pcie_all_reduce_costs_more_than_nvlink():
    pcie = run(model="llama-3.1-70b", quant="awq-int4", gpu="rtx-3090", runtime="vllm",
               gpu_count=2, interconnect="pcie4-x16").speed
    nvlink = run(model="llama-3.1-70b", quant="awq-int4", gpu="rtx-3090", runtime="vllm",
                 gpu_count=2, interconnect="nvlink-bridge").speed
    assert nvlink.decode_tokens_per_s > pcie.decode_tokens_per_s


def test_offload_runs_at_ram_speed_and_faster_ram_helps():
    slow = run(model="llama-3.1-70b", ram="ddr4-3200x2").speed
    fast = run(model="llama-3.1-70b", ram="ddr5-6400x4").speed
    full = run(model="llama-3.1-70b", gpu="h100-sxm").speed
    assert slow.decode_tokens_per_s < fast.decode_tokens_per_s < full.decode_tokens_per_s / 3
    assert slow.decode_tokens_per_s < 5  # 70B Q4 with ~17 GiB in dual-channel DDR4


def test_moe_band_reaches_the_full_bytes_bound():
    s = run(model="qwen3-30b-a3b").speed
    dense_like = run(model="qwen3-30b-a3b").memory.weights_bytes
    assert s.decode_tokens_per_s_low < 0.5 * s.decode_tokens_per_s
    assert s.decode_tokens_per_s_low <= 1008e9 / dense_like * 1.05


def test_priors_widen_the_band():
    # SYCL has no calibration rows: it borrows CUDA's constants through its documented prior.
    cuda = run().speed
    sycl = run(gpu="arc-b580").speed
    rocm = run(gpu="rx-7900-xtx").speed
    assert cuda.calibrated and rocm.calibrated and not sycl.calibrated
    width = lambda s: s.decode_tokens_per_s_high / s.decode_tokens_per_s_low  # noqa: E731
    assert width(sycl) > width(cuda)


@settings(max_examples=40, deadline=None)
@given(gpu=st.sampled_from([g for g in CAT.gpus if g.memory_bandwidth_gb_per_s
                            and g.vendor.value == "nvidia"]), scale=st.floats(1.05, 4.0))
def test_more_bandwidth_never_decodes_slower(gpu, scale):
    from sizing import estimate as est_module

    faster = gpu.model_copy(update={"memory_bandwidth_gb_per_s": gpu.memory_bandwidth_gb_per_s * scale})
    base = run(gpu=gpu.id).speed.decode_tokens_per_s

    class Swap:
        def __init__(self, cat):
            self._cat = cat

        def __getattr__(self, name):
            return getattr(self._cat, name)

        def gpu(self, gpu_id):
            return faster if gpu_id == gpu.id else self._cat.gpu(gpu_id)

    boosted = est_module.estimate(parse_request({"model": "llama-3-8b", "gpu": gpu.id,
                                                 "quant": "q4_k_m", "prompt_tokens": 512,
                                                 "new_tokens": 256}), Swap(CAT))
    assert boosted.speed.decode_tokens_per_s >= base


def test_pipeline_factor_matches_llama_cpp_pipelining():
    # 4096-token prompt, 512-token micro-batches, 2048-token batches: 4 stages per batch.
    assert pipeline_factor(prompt_tokens=4096, gpu_count=2) == pytest.approx(5 / 8)
    assert pipeline_factor(prompt_tokens=512, gpu_count=4) == 1.0


def test_ram_spec_parsing_and_errors():
    assert ram_bandwidth_gb_per_s("ddr4-3200x2") == pytest.approx(51.2)
    with pytest.raises(ValueError, match="ddr5-6000x2"):
        ram_bandwidth_gb_per_s("fast")
    with pytest.raises(RequestError, match="ddr5-6000x2"):
        run(ram="lots")


def test_unknown_bandwidth_gives_a_reason_not_a_guess():
    gpu = CAT.gpu("rtx-4090").model_copy(update={"memory_bandwidth_gb_per_s": None})

    class Swap:
        def __getattr__(self, name):
            return getattr(CAT, name)

        def gpu(self, gpu_id):
            return gpu

    r = estimate(parse_request({"model": "llama-3-8b", "gpu": "rtx-4090"}), Swap())
    assert r.speed is None and "bandwidth" in r.speed_unknown_reason


def test_cross_validated_errors_meet_the_targets():
    """Out-of-sample figures written by benchmarks/calibrate.py (leave-one-GPU-out)."""
    from benchmarks.calibrate import TARGETS

    fit = CAT.speed_calibration
    decode, prefill = fit.decode.cross_validated.by_gpu, fit.prefill.cross_validated.by_gpu
    assert decode.median_abs_pct <= TARGETS["decode_median_pct"]
    assert decode.p90_abs_pct <= TARGETS["decode_p90_pct"]
    assert prefill.median_abs_pct <= TARGETS["prefill_median_pct"]
    assert decode.within_band_frac >= TARGETS["coverage_frac"]
    assert prefill.within_band_frac >= TARGETS["coverage_frac"]
    # out of sample is never better than in sample
    assert decode.median_abs_pct >= fit.decode.residuals.median_abs_pct
    assert fit.decode.cross_validated.by_source.rows == decode.rows == fit.decode.residuals.rows


def test_calibration_fits_older_and_current_builds_together():
    from benchmarks.calibration_rows import read_calibration_rows

    rows, _ = read_calibration_rows()
    eras = {r.era for r in rows}
    apis = {r.api for r in rows if r.era == "2025"}
    assert eras == {"2023", "2025"} and {"cuda", "metal", "rocm", "vulkan"} <= apis
    assert any(r.flash_attention for r in rows) and any(not r.flash_attention for r in rows)
    assert CAT.speed_calibration.decode.residuals.rows == sum(r.metric == "decode" for r in rows)
    # ROCm and Vulkan now have constants of their own instead of borrowing CUDA's
    from sizing.estimate import fitted_apis
    assert {"cuda", "metal", "rocm", "vulkan"} <= fitted_apis(CAT)


def test_calibration_names_its_rows_files_inside_the_repository():
    from pathlib import Path

    from benchmarks.calibration_rows import CALIBRATION_CSV, CURRENT_CSV

    root = Path(__file__).resolve().parents[1]
    files = [Path(name.strip()) for name in CAT.speed_calibration.rows_file.split(",")]
    assert [(root / f).resolve() for f in files] == [CALIBRATION_CSV.resolve(), CURRENT_CSV.resolve()]
    assert all(not f.is_absolute() and ".." not in f.parts and (root / f).is_file() for f in files)


def test_flash_attention_and_micro_batch_change_prefill_only():
    base = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "quant": "q4_k_m", "prompt_tokens": 4096}
    on = estimate(parse_request({**base, "flash_attention": "on"}), CAT).speed
    off = estimate(parse_request({**base, "flash_attention": "off"}), CAT).speed
    auto = estimate(parse_request(base), CAT).speed
    assert auto.prefill_tokens_per_s == on.prefill_tokens_per_s  # auto means on, as llama.cpp does
    assert on.prefill_tokens_per_s != off.prefill_tokens_per_s
    assert on.decode_tokens_per_s == off.decode_tokens_per_s
    big = estimate(parse_request({**base, "ubatch_tokens": 2048}), CAT).speed
    assert big.prefill_tokens_per_s > auto.prefill_tokens_per_s  # fewer weight passes
    assert big.decode_tokens_per_s == auto.decode_tokens_per_s


def test_no_runtime_or_api_reads_weights_faster_than_bandwidth():
    from sizing.speed import resolve_constants

    for api in ("cuda", "metal", "rocm", "vulkan", "sycl"):
        for kind in ("float", "int-quant"):
            for memory in ("gddr", "hbm", "unified"):
                for runtime_prior in (None, *CAT.runtime_priors):
                    c = resolve_constants(CAT.speed_calibration, api=api, kind=kind, memory=memory,
                                          generation="ampere", api_prior=CAT.api_prior(api),
                                          runtime_prior=runtime_prior)
                    assert c.decode["weights"] >= 1.0
                    assert c.decode_band[0] < 1 < c.decode_band[1]


def test_vllm_prompts_run_at_the_fp32_accumulate_rate_and_stream_the_kv_cache():
    """vLLM's GEMMs accumulate in FP32 (165 TFLOPS on an RTX 4090, not the FP16-accumulate
    330) and its paged attention reads the cache like the weights; llama.cpp keeps its fit."""
    cat = load_catalog()
    gpu, quant = cat.gpu("rtx-4090"), cat.quant("bf16")
    assert compute_flops_per_s(gpu, quant) == pytest.approx(330.3e12)
    assert compute_flops_per_s(gpu, quant, fp32_accumulate=True) == pytest.approx(165.2e12)
    for runtime in ("vllm", "sglang"):
        prior = cat.runtime_prior(runtime)
        assert prior.fp32_accumulate
        assert prior.decode_kv_inverse_efficiency == prior.decode_weights_inverse_efficiency
