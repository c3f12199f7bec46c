"""The longest-context search gives the binary search's answer, token for token."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from catalog.catalog import load_catalog
from sizing.fit import (candidate_quants, considered_formats, max_context_tokens, published_in,
                        runtime_quants)
from sizing.limits import largest_passing
from sizing.memory import estimate_memory

CAT = load_catalog()
# Cards from 8 GiB to 192 GiB, NVIDIA, AMD, Intel and Apple (unified memory).
GPUS = ("rtx-3060-8gb", "rtx-3060-12gb", "rtx-4090", "rx-7900-xtx", "arc-b580", "a100-40gb-pcie",
        "h100-sxm", "mi300x", "apple-m4-10c", "apple-m4-max-40c", "apple-m2-ultra-76c")
COUNTS = (1, 2, 3, 4, 8)
SPLITS = ("layer", "tensor")
SEQUENCES = (1, 2, 16, 256)
PROMPTS = (None, 0, 1, 300, 4_096, 100_000)
NEW_TOKENS = (0, 1, 256)
LIMITS = (None, None, None, 1, 2, 700, 20_000)
KV_BYTES = tuple(k.bytes_per_element for k in CAT.kv_cache_types)
SCENARIOS_PER_MODEL = 80


def _binary_search_max_context(arch, quant, gpu, runtime, *, sequences=1,
                               kv_bytes_per_element=2.0, gpu_count=1, split="layer",
                               limit_tokens=None, prompt_tokens=None, new_tokens=1):
    """The longest context by the full memory verdict and a binary search (the
    reference the faster search must equal)."""
    high = limit_tokens or arch.max_context_tokens

    def fits(context):
        prompt = min(context, runtime.micro_batch_tokens if prompt_tokens is None else prompt_tokens)
        return estimate_memory(arch, quant, gpu, runtime, context_tokens=context,
                               prompt_tokens=prompt, sequences=sequences,
                               kv_bytes_per_element=kv_bytes_per_element, gpu_count=gpu_count,
                               split=split, new_tokens=new_tokens).fits

    if high >= 1 and fits(high):
        return high
    return largest_passing(fits, high=high)


def _scenarios(arch, rng):
    """``SCENARIOS_PER_MODEL`` draws over every axis the memory verdict reads, for one model."""
    options = list(itertools.product(GPUS, COUNTS, SPLITS, CAT.runtimes))
    for k in rng.choice(len(options), size=SCENARIOS_PER_MODEL, replace=False):
        gpu_id, count, split, runtime = options[k]
        quants = [q for q in CAT.quants if runtime.id in q.runtimes]
        yield dict(
            quant=quants[rng.integers(len(quants))], gpu=CAT.gpu(gpu_id), runtime=runtime,
            gpu_count=count, split=split, sequences=int(rng.choice(SEQUENCES)),
            kv_bytes_per_element=float(rng.choice(KV_BYTES)),
            prompt_tokens=PROMPTS[rng.integers(len(PROMPTS))],
            new_tokens=int(rng.choice(NEW_TOKENS)), limit_tokens=LIMITS[rng.integers(len(LIMITS))])


@pytest.mark.parametrize("arch", CAT.models, ids=lambda a: a.id)
def test_the_longest_context_is_the_binary_searchs(arch):
    rng = np.random.default_rng(sum(map(ord, arch.id)))
    answers = set()
    for scenario in _scenarios(arch, rng):
        quant, gpu, runtime = scenario.pop("quant"), scenario.pop("gpu"), scenario.pop("runtime")
        expected = _binary_search_max_context(arch, quant, gpu, runtime, **scenario)
        got = max_context_tokens(arch, quant, gpu, runtime, **scenario)
        assert got == expected, (arch.id, quant.id, gpu.id, runtime.id, scenario)
        answers.add(expected)
    assert len(answers) > 1  # the draws reach more than one boundary


@pytest.mark.parametrize(("model", "gpu", "runtime", "quant", "kwargs"), [
    # Boundaries inside gemma 3's 1,024-token sliding window and past it.
    ("gemma-3-27b", "rtx-4090", "llama.cpp", "q4_k_m", {"sequences": 64}),
    ("gemma-3-27b", "rtx-4090", "llama.cpp", "q4_k_m", {"sequences": 8}),
    ("gemma-3-27b", "rtx-4090", "llama.cpp", "q4_k_m", {}),
    # Below and past a prompt cap; latent attention; a hybrid recurrent model on 4 ranks.
    ("llama-3.1-8b", "rtx-4090", "vllm", "fp8", {"prompt_tokens": 100_000}),
    ("llama-3.1-8b", "rtx-4090", "vllm", "fp8", {"prompt_tokens": 1_000, "sequences": 16}),
    ("deepseek-v2-lite", "rtx-4090", "vllm", "fp8", {"sequences": 16}),
    ("qwen3-next-80b-a3b", "a100-40gb-pcie", "vllm", "fp8",
     {"gpu_count": 4, "split": "tensor", "sequences": 256}),
    # Unified memory; logits of the whole prompt and a cache copied while decoding.
    ("llama-3.1-8b", "apple-m4-10c", "mlx", "mlx-4bit", {"new_tokens": 256, "sequences": 8}),
    ("llama-3.1-8b", "rtx-4090", "transformers", "bf16", {"new_tokens": 256, "sequences": 4}),
    ("llama-3.1-8b", "rtx-4090", "transformers", "bf16",
     {"new_tokens": 256, "prompt_tokens": 30_000}),
])
def test_hand_picked_boundaries_are_the_binary_searchs(model, gpu, runtime, quant, kwargs):
    args = (CAT.model(model), CAT.quant(quant), CAT.gpu(gpu), CAT.runtime(runtime))
    expected = _binary_search_max_context(*args, **kwargs)
    assert 0 < expected < args[0].max_context_tokens
    assert max_context_tokens(*args, **kwargs) == expected


def test_the_kept_candidates_are_each_models_own():
    # Kept per runtime and native formats: a model shipping MXFP4 and one that does not
    # share no list, whichever is asked first.
    mxfp4 = {a.id for a in CAT.models if any(q.format in a.native_formats for q in CAT.quants
                                               if q.native_only)}
    assert mxfp4 and len(mxfp4) < len(CAT.models)
    for runtime in CAT.runtimes:
        for arch in CAT.models:
            expected = [q for q in runtime_quants(CAT, runtime) if published_in(q, arch)]
            assert candidate_quants(CAT, runtime, arch) == expected, (runtime.id, arch.id)
            assert considered_formats(CAT, runtime, arch) == list(
                dict.fromkeys(q.format.value for q in expected))
