"""What would make a scenario that does not fit entirely on the GPU fit."""

from __future__ import annotations

import json
import random

import pytest

from catalog.catalog import load_catalog, runtime_api
from catalog.errors import UserError
from report.text import placeholders, strings, translate_notice
from sizing.estimate import estimate, memory_for
from sizing.fit import published_in
from sizing.remedies import RANK, apply_remedy, remedies_for
from sizing.request import parse_request, resolve_model

CAT = load_catalog()


def test_qwen_14b_at_32k_on_a_3060_gets_a_quantized_cache_with_smaller_weights():
    request = parse_request({"model": "qwen2.5-14b", "gpu": "rtx-3060-12gb",
                             "context_tokens": 32768})
    arch, _ = resolve_model(request, CAT)
    assert estimate(request, CAT).fit.best_quant is None  # nothing fits with an f16 cache
    remedies = remedies_for(request, CAT, arch)
    combined = next(r for r in remedies if r.code == "remedy_kv_cache_quant")
    assert combined.changes == {"kv_cache": "q4_0", "quant": "q3_k_m"}
    fixed = estimate(apply_remedy(request, combined), CAT)
    assert fixed.memory.verdict == "fits"
    assert fixed.memory.total_bytes == pytest.approx(combined.total_bytes)
    assert combined.decode_tokens_per_s == pytest.approx(fixed.speed.decode_tokens_per_s)
    codes = [r.code for r in remedies]
    assert codes == sorted(codes, key=RANK.__getitem__)
    assert {"remedy_shorter_context", "remedy_offload", "remedy_more_gpus",
            "remedy_bigger_gpu"} <= set(codes)
    offload = next(r for r in remedies if r.code == "remedy_offload")
    assert offload.decode_tokens_per_s < combined.decode_tokens_per_s
    bigger = next(r for r in remedies if r.code == "remedy_bigger_gpu")
    assert bigger.price_usd > 0
    assert CAT.gpu(bigger.changes["gpu"]).vendor is CAT.gpu("rtx-3060-12gb").vendor


def test_a_scenario_that_fits_needs_no_remedy():
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090"})
    assert remedies_for(request, CAT, resolve_model(request, CAT)[0]) == []


def test_a_runtime_that_cannot_offload_gets_no_offload_remedy():
    request = parse_request({"model": "llama-3.1-70b", "gpu": "rtx-4090", "runtime": "vllm",
                             "quant": "awq-int4"})
    remedies = remedies_for(request, CAT, resolve_model(request, CAT)[0])
    assert remedies and "remedy_offload" not in {r.code for r in remedies}
    two = next(r for r in remedies if r.code == "remedy_more_gpus")
    assert two.changes == {"gpu_count": 2}


def test_remedy_templates_exist_in_both_languages_with_the_params():
    request = parse_request({"model": "qwen2.5-14b", "gpu": "rtx-3060-12gb",
                             "context_tokens": 32768})
    remedies = remedies_for(request, CAT, resolve_model(request, CAT)[0])
    for code in RANK:
        for lang in ("en", "zh"):
            assert f"engine.{code}" in strings(lang)
    for r in remedies:
        assert placeholders(strings("en")[f"engine.{r.code}"]) <= set(r.params)
        assert strings("en")[f"engine.{r.code}"].format(**r.params) == r.text
        chinese = translate_notice(r, "zh")
        assert chinese != r.text
        if r.code != "remedy_offload":
            assert r.params["needed"] in chinese


def _random_request(rng: random.Random) -> dict:
    runtime = rng.choice(CAT.runtimes)
    gpus = [g for g in CAT.gpus if runtime_api(runtime, g) is not None]
    quants = [q for q in CAT.quants if runtime.id in q.runtimes and not q.native_only]
    kvs = [k for k in CAT.kv_cache_types if runtime.id in k.runtimes]
    gpu = rng.choice(gpus)
    data = {"model": rng.choice(CAT.models).id, "gpu": gpu.id, "runtime": runtime.id,
            "quant": rng.choice(quants).id, "kv_cache": rng.choice(kvs).id,
            "prompt_tokens": rng.choice([128, 512, 4096]), "new_tokens": rng.choice([64, 512]),
            "batch": rng.choice([1, 1, 4])}
    data["context_tokens"] = rng.choice([None, 8192, 32768, 131072])
    if data["context_tokens"] is None:
        del data["context_tokens"]
    if gpu.form_factor != "soc" and rng.random() < 0.3:
        data["gpu_count"] = 2
    return data


def test_every_remedy_fits_when_applied():
    """Random scenarios, fixed seed: each remedy, applied and estimated again, fits
    (the offload remedy runs with offload), and the list is in rank order."""
    rng = random.Random(13)
    checked = 0
    for _ in range(150):
        try:
            request = parse_request(_random_request(rng))
            arch, _ = resolve_model(request, CAT)
            if memory_for(request, CAT, arch).fits:
                continue
            remedies = remedies_for(request, CAT, arch)
        except UserError:  # a scenario the engine refuses (e.g. tensor-parallel counts)
            continue
        codes = [r.code for r in remedies]
        assert len(codes) == len(set(codes))
        assert [RANK[c] for c in codes] == sorted(RANK[c] for c in codes)
        for remedy in remedies:
            result = estimate(apply_remedy(request, remedy), CAT, arch=arch)
            expected = "fits-with-offload" if remedy.code == "remedy_offload" else "fits"
            assert result.memory.verdict == expected, (request, remedy)
            quant = CAT.quant(result.quant)
            assert published_in(quant, arch)
            checked += 1
    assert checked > 100


# --- front ends --------------------------------------------------------------------------


def test_cli_estimate_lists_remedies_and_the_formats_considered(capsys):
    from rigfit.cli import main

    argv = ["estimate", "--model", "qwen2.5-14b", "--gpu", "rtx-3060-12gb",
            "--context-tokens", "32768"]
    assert main([*argv, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fit"]["best_quant"] is None
    assert result["fit"]["formats_considered"] == ["float", "gguf"]
    remedies = result["remedies"]
    assert remedies[0]["code"] == "remedy_kv_cache_quant"
    assert remedies[0]["changes"] == {"kv_cache": "q4_0", "quant": "q3_k_m"}
    assert {"code", "params", "text", "total_bytes", "decode_tokens_per_s"} <= set(remedies[0])
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "best quant that fits              none" in table
    assert "formats considered                float, gguf" in table
    assert "1. Quantize the KV cache to q4_0 and use q3_k_m" in table


def test_cli_estimate_has_no_remedies_when_it_fits(capsys):
    from rigfit.cli import main

    assert main(["estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)["remedies"] == []


def test_the_report_lists_remedies_after_the_memory_when_it_does_not_fit():
    from report.content import PlanInputs, report_content

    request = parse_request({"model": "qwen2.5-14b", "gpu": "rtx-3060-12gb",
                             "context_tokens": 32768})
    result = estimate(request, CAT)
    for lang, first_words in (("en", "Quantize the KV cache to q4_0 and use q3_k_m"),
                              ("zh", "将 KV 缓存量化为 q4_0 并改用 q3_k_m")):
        content = report_content(result, lang=lang, request=request, inputs=PlanInputs(),
                                 catalog=CAT)
        keys = [s.key for s in content.sections]
        assert keys[keys.index("memory") + 1] == "remedies"
        rows = content.section("remedies").tables[0].rows
        assert rows[0][0].startswith(first_words)
        facts = {f.label: f.value for f in content.section("memory").facts}
        assert ("none" if lang == "en" else "无") in facts.values()
        assert "GGUF" in ", ".join(facts.values())
    fits = estimate(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090"}), CAT)
    content = report_content(fits, lang="en", inputs=PlanInputs(), catalog=CAT)
    assert "remedies" not in [s.key for s in content.sections]


def test_an_8_gb_mac_is_offered_a_mac_that_fits():
    request = parse_request({"model": "llama-3-8b", "gpu": "apple-m1-8c", "memory_gib": 8,
                             "quant": "q4_k_m", "context_tokens": 8192, "runtime": "llama.cpp"})
    arch, _ = resolve_model(request, CAT)
    remedies = remedies_for(request, CAT, arch)
    assert "remedy_more_gpus" not in {r.code for r in remedies}  # one machine, one GPU
    bigger = next(r for r in remedies if r.code == "remedy_bigger_gpu")
    assert CAT.gpu(bigger.changes["gpu"]).vendor is CAT.gpu("apple-m1-8c").vendor
    assert estimate(apply_remedy(request, bigger), CAT).memory.verdict == "fits"
