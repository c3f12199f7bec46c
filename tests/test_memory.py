"""Memory model: weights against real files, exact KV cache, laws, measurements."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog, runtime_api
from sizing.fit import best_quant, max_context_tokens
from sizing.memory import (estimate_memory, kv_cache_bytes, model_kv_cache_bytes,
                           usable_bytes_per_device, weight_bytes)
from sizing.units import gib_to_bytes

CALIBRATION = Path(__file__).resolve().parents[1] / "benchmarks" / "data"  # published measurements
CAT = load_catalog()

# --- weights against published GGUF file sizes (benchmarks/data/weights_size.csv) ---

WEIGHT_MODEL_IDS = {
    "gpt-oss-20b": "gpt-oss-20b", "gpt-oss-120b": "gpt-oss-120b",
    "Qwen3-Coder-30B-A3B": "qwen3-coder-30b-a3b", "Qwen2.5-Coder-7B": "qwen2.5-coder-7b",
    "Llama-3.1-8B": "llama-3.1-8b", "Llama-3.1-70B": "llama-3.1-70b",
    "Llama-3.1-405B": "llama-3.1-405b",
}


def _weight_rows():
    with open(CALIBRATION / "weights_size.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["model"] not in WEIGHT_MODEL_IDS:
                continue  # gemma-3-4b-it-qat: Google's QAT file, not a stock llama.cpp Q4_0
            quant = row["quant"].split(" ")[0].lower()
            quant = "f32" if quant == "original" else quant
            yield pytest.param(WEIGHT_MODEL_IDS[row["model"]], quant, float(row["file_size_gb"]),
                               id=f"{row['model']}-{quant}-{row['file_size_gb']}")


@pytest.mark.parametrize(("model_id", "quant_id", "file_gb"), list(_weight_rows()))
def test_weights_within_3_percent_of_published_file_size(model_id, quant_id, file_gb):
    weights = weight_bytes(CAT.model(model_id), CAT.quant(quant_id))
    assert weights.file_bytes == pytest.approx(file_gb * 1e9, rel=0.03)


def test_weight_rows_cover_moe_and_large_models():
    ids = {p.values[0] for p in _weight_rows()}
    assert {"gpt-oss-120b", "qwen3-coder-30b-a3b", "llama-3.1-405b"} <= ids


def test_llama_cpp_keeps_token_embedding_on_host():
    arch = CAT.model("llama-3-8b")
    on_host = weight_bytes(arch, CAT.quant("q4_k_m"), embeddings_on_host=True)
    # 128256 x 4096 embedding at Q4_K (4.5 bits): llama.cpp logs "CPU buffer size = 281.81 MiB".
    assert on_host.host_bytes / 2**20 == pytest.approx(281.81, rel=0.01)
    assert on_host.device_bytes + on_host.host_bytes == pytest.approx(on_host.file_bytes)


def test_moe_active_bytes_between_active_and_total():
    w = weight_bytes(CAT.model("qwen3-30b-a3b"), CAT.quant("q4_k_m"))
    assert w.active_bytes < 0.2 * w.file_bytes  # ~3.3B of 30.5B read per token
    assert w.active_bytes_max == pytest.approx(w.file_bytes, rel=0.02)


# --- KV cache, exact, hand-computed ------------------------------------------------


def test_kv_llama3_8b_gqa():
    # 32 layers x 2 (K,V) x 8 KV heads x 128 dims x 2 bytes = 131,072 B per token.
    kv = model_kv_cache_bytes(CAT.model("llama-3-8b"), context_tokens=8192)
    assert kv == 32 * 2 * 8 * 128 * 2 * 8192 == 1_073_741_824


def test_kv_gemma2_9b_sliding_window():
    # 42 layers, 8 KV heads x 256 dims; 21 layers windowed at 4096 tokens.
    kv = model_kv_cache_bytes(CAT.model("gemma-2-9b"), context_tokens=8192)
    per_token_layer = 2 * 8 * 256 * 2
    assert kv == (21 * 8192 + 21 * 4096) * per_token_layer == 2_113_929_216


def test_kv_deepseek_v2_lite_latent_attention():
    # MLA caches kv_lora_rank (512) + qk_rope_head_dim (64) per token per layer, 27 layers.
    kv = model_kv_cache_bytes(CAT.model("deepseek-v2-lite"), context_tokens=4096)
    assert kv == 27 * (512 + 64) * 2 * 4096 == 127_401_984


def test_kv_qwen3_30b_a3b_explicit_head_dim():
    # 48 layers x 2 x 4 KV heads x head_dim 128 (explicit; hidden/heads would be 64) x 2 bytes.
    kv = model_kv_cache_bytes(CAT.model("qwen3-30b-a3b"), context_tokens=32768)
    assert kv == 48 * 2 * 4 * 128 * 2 * 32768 == 3_221_225_472


def test_kv_gpt_oss_20b_alternating_window():
    # 24 layers: 12 full, 12 windowed at 128 tokens; 2 x 8 x 64 x 2 B per token-layer.
    kv = model_kv_cache_bytes(CAT.model("gpt-oss-20b"), context_tokens=8192)
    assert kv == (12 * 8192 + 12 * 128) * 2 * 8 * 64 * 2 == 204_472_320


def test_kv_quantization_halves_and_quarters():
    arch = CAT.model("llama-3-8b")
    f16 = model_kv_cache_bytes(arch, context_tokens=4096, bytes_per_element=2.0)
    q8 = model_kv_cache_bytes(arch, context_tokens=4096,
                              bytes_per_element=CAT.kv_cache_type("q8_0").bytes_per_element)
    q4 = model_kv_cache_bytes(arch, context_tokens=4096,
                              bytes_per_element=CAT.kv_cache_type("q4_0").bytes_per_element)
    assert q8 / f16 == pytest.approx(1.0625 / 2)
    assert q4 / f16 == pytest.approx(0.5625 / 2)


def test_kv_recurrent_layers_hold_fixed_state():
    arch = CAT.model("qwen3-next-80b-a3b")
    short = model_kv_cache_bytes(arch, context_tokens=1024)
    long = model_kv_cache_bytes(arch, context_tokens=2048)
    state = arch.recurrent_layers * arch.recurrent_state_bytes_per_layer
    assert state > 0
    assert long - short == pytest.approx(short - state)  # only attention layers grow


def test_kv_cache_bytes_rejects_nonsense():
    with pytest.raises(ValueError, match="num_layers"):
        kv_cache_bytes(num_layers=0, num_kv_heads=8, head_dim=128, context_tokens=1,
                       sequences=1, bytes_per_element=2)


# --- invariants over every catalog row ----------------------------------------------


@pytest.mark.parametrize("arch", CAT.models, ids=lambda m: m.id)
def test_every_model_sizes_sensibly(arch):
    f16 = weight_bytes(arch, CAT.quant("f16"))
    q4 = weight_bytes(arch, CAT.quant("q4_k_m"))
    vision_params = arch.vision.params if arch.vision else 0.0  # the encoder stays 16-bit
    assert f16.file_bytes == pytest.approx(2 * (arch.params_total + vision_params), rel=0.02)
    assert q4.file_bytes - 2 * vision_params < (f16.file_bytes - 2 * vision_params) / 2.5
    assert 0 < q4.active_bytes <= q4.active_bytes_max <= q4.file_bytes * 1.0001
    assert model_kv_cache_bytes(arch, context_tokens=4096) > 0


@pytest.mark.parametrize("gpu", CAT.gpus, ids=lambda g: g.id)
def test_every_gpu_has_usable_memory_below_capacity(gpu):
    for runtime in CAT.runtimes:
        if runtime_api(runtime, gpu) is None:
            continue
        usable = usable_bytes_per_device(gpu, runtime)
        assert 0 < usable <= gib_to_bytes(gpu.memory_gib)


# --- laws (hypothesis) ---------------------------------------------------------------

models = st.sampled_from(CAT.models)
gguf = st.sampled_from([q for q in CAT.quants if q.format.value == "gguf"])


@settings(max_examples=60, deadline=None)
@given(arch=models, quant=gguf, context=st.integers(1, 200_000), extra=st.integers(1, 50_000),
       batch=st.integers(1, 16))
def test_memory_never_falls_as_context_or_batch_grow(arch, quant, context, extra, batch):
    gpu, runtime = CAT.gpu("rtx-4090"), CAT.runtime("llama.cpp")

    def total(c, b):
        return estimate_memory(arch, quant, gpu, runtime, context_tokens=c, prompt_tokens=min(c, 512),
                               sequences=b).total_bytes

    assert total(context + extra, batch) >= total(context, batch)
    assert total(context, batch + 1) >= total(context, batch)


@settings(max_examples=40, deadline=None)
@given(arch=models, a=gguf, b=gguf)
def test_memory_never_falls_as_bits_grow(arch, a, b):
    low, high = sorted((a, b), key=lambda q: q.body_bits_per_weight)
    assert weight_bytes(arch, high).file_bytes >= weight_bytes(arch, low).file_bytes * 0.999


# --- fit searches ------------------------------------------------------------------


def test_max_context_is_the_boundary():
    arch, quant = CAT.model("llama-3.1-8b"), CAT.quant("q4_k_m")
    gpu, runtime = CAT.gpu("rtx-3060-12gb"), CAT.runtime("llama.cpp")
    best = max_context_tokens(arch, quant, gpu, runtime)
    assert 0 < best < arch.max_context_tokens

    def fits(c):
        return estimate_memory(arch, quant, gpu, runtime, context_tokens=c,
                               prompt_tokens=min(c, 512)).fits

    assert fits(best) and not fits(best + 1)


def test_best_quant_for_70b_on_24gb_is_a_low_bit_gguf():
    quant = best_quant(CAT, CAT.model("llama-3.1-70b"), CAT.gpu("rtx-4090"),
                       CAT.runtime("llama.cpp"), context_tokens=4096, prompt_tokens=512)
    assert quant is not None and quant.body_bits_per_weight < 2.8
    assert best_quant(CAT, CAT.model("llama-3.1-405b"), CAT.gpu("rtx-3060-12gb"),
                      CAT.runtime("llama.cpp"), context_tokens=4096, prompt_tokens=512) is None


def test_seed_claim_7b_fp16_does_not_fit_10gb_card():
    # The seed article says an unquantized 7B "barely runs" on an RTX 3080 10GB: 13.5 GB of
    # fp16 weights cannot fit 10 GiB without offload.
    est = estimate_memory(CAT.model("llama-2-7b"), CAT.quant("f16"), CAT.gpu("rtx-3080-10gb"),
                          CAT.runtime("transformers"), context_tokens=1024, prompt_tokens=512)
    assert not est.fits and est.total_bytes > 1.3 * est.usable_bytes


def test_preallocating_runtime_reports_kv_capacity():
    est = estimate_memory(CAT.model("llama-3.1-8b"), CAT.quant("f16"), CAT.gpu("a100-80gb-sxm"),
                          CAT.runtime("vllm"), context_tokens=8192, prompt_tokens=512)
    # 0.9 x 80 GiB = 72 GiB claimed; 15 GiB weights; ~55 GiB of KV at 128 KiB per token.
    assert est.kv_capacity_tokens == pytest.approx(55 * 2**30 / 131072, rel=0.05)
    assert est.max_concurrent_sequences == est.kv_capacity_tokens // 8192


def test_layer_split_adds_memory_tensor_split_too():
    arch, quant = CAT.model("llama-3.1-70b"), CAT.quant("q4_k_m")
    one = estimate_memory(arch, quant, CAT.gpu("rtx-3090"), CAT.runtime("llama.cpp"),
                          context_tokens=8192, prompt_tokens=512)
    two = estimate_memory(arch, quant, CAT.gpu("rtx-3090"), CAT.runtime("llama.cpp"),
                          context_tokens=8192, prompt_tokens=512, gpu_count=2)
    assert not one.fits and one.verdict == "fits-with-offload" and one.offloaded_bytes > 0
    assert two.fits and two.usable_bytes == 2 * one.usable_bytes


def test_apple_unified_memory_limit():
    # 128 GiB hosts wire 107.52 GiB by default (antirez/ds4 PR #893); 16 GB M4: 10.67 GB.
    m4_max = CAT.gpu("apple-m4-max-40c")
    assert m4_max.memory_gib == 128
    assert usable_bytes_per_device(m4_max, CAT.runtime("llama.cpp")) == pytest.approx(
        gib_to_bytes(107.52))
    m4 = CAT.gpu("apple-m4-10c").model_copy(update={"memory_gib": 16})
    assert usable_bytes_per_device(m4, CAT.runtime("llama.cpp")) / 1e9 == pytest.approx(10.67,
                                                                                         rel=0.08)


# --- measured peaks (benchmarks/data/memory.csv) -------------------------------------

MEMORY_QUANTS = {"FP16": "f16", "GPTQ 4-bit g128": "gptq-int4", "bitsandbytes FP4": "bnb-nf4"}


def _memory_rows():
    with open(CALIBRATION / "memory.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            # Same runtime and definition only: HF transformers peaks that include the CUDA
            # context (optimum benchmark). torchao rows exclude the context and use
            # torch.compile; octocoder (StarCoder) is not in the catalog.
            if not row["backend"].startswith(("PyTorch eager (HF", "HF transformers +")):
                continue
            if row["model"] != "Llama-2-13B-chat" or row["quant"] not in MEMORY_QUANTS:
                continue
            prefill_only = "prefill-only" in row["notes"]
            yield pytest.param(MEMORY_QUANTS[row["quant"]], int(row["batch"]), prefill_only,
                               float(row["measured_gb"]),
                               id=f"{row['quant']}-{row['seq_len']}-b{row['batch']}-{row['backend'][-12:]}")


@pytest.mark.parametrize(("quant_id", "batch", "prefill_only", "measured_gb"), list(_memory_rows()))
def test_transformers_peak_within_10_percent(quant_id, batch, prefill_only, measured_gb):
    new = 1 if prefill_only else 512
    est = estimate_memory(CAT.model("llama-2-13b"), CAT.quant(quant_id), CAT.gpu("a100-80gb-sxm"),
                          CAT.runtime("transformers"), context_tokens=512 + new,
                          prompt_tokens=512, sequences=batch, new_tokens=new)
    assert est.total_bytes == pytest.approx(measured_gb * 1e9, rel=0.10)


def test_memory_rows_were_found():
    assert len(list(_memory_rows())) == 50


TORCHAO_WEIGHTS = {("Llama-2-7B (chat)", "BF16"): ("llama-2-7b", "bf16"),
                   ("Meta-Llama-3-8B", "BF16"): ("llama-3-8b", "bf16"),
                   ("Meta-Llama-3-8B", "int8 weight-only"): ("llama-3-8b", "int8"),
                   ("Llama-2-7B (chat)", "int8 weight-only"): ("llama-2-7b", "int8"),
                   ("Llama-3.1-8B", "float8 weight-only"): ("llama-3.1-8b", "fp8")}


def test_resident_weights_match_torchao_model_size():
    checked = 0
    with open(CALIBRATION / "memory.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["model"], row["quant"])
            if row["what_is_measured"] != "allocated" or key not in TORCHAO_WEIGHTS:
                continue
            model_id, quant_id = TORCHAO_WEIGHTS[key]
            # torchao's "Model Size" leaves out the nn.Embedding table (Llama-2-7B bf16:
            # 13.21 GB = (6.74e9 - 32000 x 4096) x 2 bytes), so compare without it.
            w = weight_bytes(CAT.model(model_id), CAT.quant(quant_id), embeddings_on_host=True)
            assert w.device_bytes == pytest.approx(float(row["measured_gb"]) * 1e9, rel=0.10)
            checked += 1
    assert checked == 5


@pytest.mark.parametrize("runtime_id", [r.id for r in CAT.runtimes if not r.supports_offload])
def test_a_runtime_that_cannot_offload_never_says_fits_with_offload(runtime_id):
    # vLLM with Llama-3.1-70B AWQ on one RTX 4090 used to say "fits-with-offload, 43 of 80
    # layers on GPU" and then "this runtime cannot offload".
    runtime = CAT.runtime(runtime_id)
    checked = 0
    for quant in (q for q in CAT.quants if runtime_id in q.runtimes):
        for gpu_id in ("rtx-3060-12gb", "rtx-4090", "apple-m4-max-40c"):
            m = estimate_memory(CAT.model("llama-3.1-70b"), quant, CAT.gpu(gpu_id), runtime,
                                context_tokens=8192, prompt_tokens=512)
            assert m.verdict in ("fits", "does-not-fit")
            assert not m.offload_possible
            checked += not m.fits
    assert checked > 0


def test_a_vision_model_carries_its_encoder_on_the_device_but_does_not_read_it_per_token():
    vlm = CAT.model("autoglm-phone-9b")
    text_only = vlm.model_copy(update={"vision": None})
    q4 = CAT.quant("q4_k_m")
    with_encoder, without = weight_bytes(vlm, q4), weight_bytes(text_only, q4)
    assert with_encoder.device_bytes - without.device_bytes == pytest.approx(2 * vlm.vision.params)
    assert with_encoder.active_bytes == without.active_bytes


def test_exact_file_weights_replace_the_estimate_only_in_the_files_own_format():
    from catalog.schema import FileWeights
    arch = CAT.model("llama-3.1-8b")
    exact = FileWeights(quant="q4_k_m", format="gguf", embedding_bytes=300e6, output_bytes=400e6,
                        body_bytes=4.0e9, file_bytes=4.71e9)
    read = arch.model_copy(update={"file_weights": exact})
    mine = weight_bytes(read, CAT.quant("q4_k_m"))
    assert mine.file_bytes == pytest.approx(4.7e9)
    assert weight_bytes(read, CAT.quant("q4_k_m"), embeddings_on_host=True).host_bytes == 300e6
    # Another format is another file: estimated from the shapes as before.
    assert weight_bytes(read, CAT.quant("q8_0")) == weight_bytes(arch, CAT.quant("q8_0"))


def test_unified_memory_never_offloads_to_a_system_ram_it_does_not_have():
    # A Mac's (or DGX Spark's) one memory is the GPU's: what does not fit there has
    # nowhere to go, whatever the runtime could do beside a discrete card. It used to
    # "run with offload" DeepSeek-V3 (376 GiB) on a 128 GiB M4 Max at 3.6 tokens/s.
    from sizing.estimate import estimate
    from sizing.request import parse_request, resolve_model
    from sizing.vector import every_gpu
    request = parse_request({"model": "deepseek-v3", "gpu": "apple-m4-max-40c"})
    r = estimate(request, CAT)
    assert r.memory.verdict == "does-not-fit" and r.memory.offload_possible is False
    assert r.speed is None
    assert r.memory.offloaded_bytes == pytest.approx(r.memory.total_bytes - r.memory.usable_bytes)
    arch, _ = resolve_model(request, CAT)
    sweep = every_gpu(request, CAT, arch, ["apple-m4-max-40c", "h100-sxm"])
    assert [g.id for g in sweep.gpus] == ["apple-m4-max-40c", "h100-sxm"]
    assert sweep.memory.verdict == ("does-not-fit", "fits-with-offload")
    assert sweep.decode_tokens_per_s[0] != sweep.decode_tokens_per_s[0]  # NaN: no speed
    assert sweep.decode_tokens_per_s[1] > 0
