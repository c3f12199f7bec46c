"""Speed model: physical laws, the speed-of-light bound and the fitted quality."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from sizing.estimate import estimate
from sizing.request import RequestError, parse_request
from sizing.speed import pipeline_factor, ram_bandwidth_gb_per_s

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
            assert s.decode_tokens_per_s <= s.decode_speed_of_light_tokens_per_s
            assert s.decode_tokens_per_s_high <= s.decode_speed_of_light_tokens_per_s * 1.0000001
            assert s.decode_tokens_per_s_low <= s.decode_tokens_per_s <= s.decode_tokens_per_s_high


def test_rtx4090_llama3_8b_q4km_matches_published_scale():
    # llama-bench tg512 on an RTX 4090, Llama-3-8B Q4_K_M: 130.6 tokens/s (calibration row,
    # XiongjieDai/GPU-Benchmarks-on-LLM-Inference); prefill pp512 7139 tokens/s.
    s = run(prompt_tokens=0, new_tokens=512).speed
    assert s.decode_tokens_per_s == pytest.approx(130.6, rel=0.10)
    p = run(prompt_tokens=512, new_tokens=0).speed
    assert p.prefill_tokens_per_s == pytest.approx(7139, rel=0.20)
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
    cuda = run().speed
    rocm = run(gpu="rx-7900-xtx").speed
    assert cuda.calibrated and not rocm.calibrated
    width = lambda s: s.decode_tokens_per_s_high / s.decode_tokens_per_s_low  # noqa: E731
    assert width(rocm) > width(cuda)


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


def test_fitted_constants_meet_the_targets():
    fit = CAT.speed_calibration
    assert fit.decode.residuals.median_abs_pct <= 8
    assert fit.decode.residuals.p90_abs_pct <= 20
    assert fit.prefill.residuals.median_abs_pct <= 15
    assert fit.decode.residuals.within_band_frac >= 0.9
    assert fit.prefill.residuals.within_band_frac >= 0.9
    assert fit.rows_skipped == 0 and fit.decode.residuals.rows == 449


def test_calibration_names_its_rows_file_inside_the_repository():
    from pathlib import Path

    from benchmarks.calibration_rows import CALIBRATION_CSV

    root = Path(__file__).resolve().parents[1]
    rows_file = Path(CAT.speed_calibration.rows_file)
    assert not rows_file.is_absolute() and ".." not in rows_file.parts
    assert (root / rows_file).resolve() == CALIBRATION_CSV.resolve()
    assert CALIBRATION_CSV.is_file()


def test_engine_reproduces_the_fit_on_calibration_rows():
    import statistics

    from benchmarks.accuracy_report import score_rows
    from benchmarks.calibration_rows import read_rows

    rows, _ = read_rows()
    scored, skipped = score_rows(rows, CAT)
    assert not skipped and len(scored) == 898
    decode = [abs(s.predicted / s.row.value_tokens_per_s - 1) for s in scored
              if s.row.metric == "decode"]
    inside = [s.low <= s.row.value_tokens_per_s <= s.high for s in scored if s.row.metric == "decode"]
    assert statistics.median(decode) <= 0.08
    assert sum(inside) / len(inside) >= 0.9


def test_no_runtime_or_api_reads_weights_faster_than_bandwidth():
    from sizing.speed import resolve_constants

    for api in ("cuda", "metal", "rocm", "vulkan", "sycl"):
        for kind in ("float", "int-quant"):
            for memory in ("gddr", "hbm", "unified"):
                for runtime_prior in (None, *CAT.runtime_priors):
                    c = resolve_constants(CAT.speed_calibration, api=api, kind=kind, memory=memory,
                                          api_prior=CAT.api_prior(api), runtime_prior=runtime_prior)
                    assert c.decode["weights"] >= 1.0
                    assert c.decode_band[0] < 1 < c.decode_band[1]
