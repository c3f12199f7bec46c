"""The vectorised sweep agrees with the scalar memory model everywhere it is sampled."""

from __future__ import annotations

import random

import pytest

from catalog.catalog import load_catalog
from sizing.memory import estimate_memory
from sizing.sweep import sweep_memory

CAT = load_catalog()
CONTEXTS = (1024, 4096, 8192, 32768, 65536, 131072)


@pytest.mark.parametrize("runtime_id", ["llama.cpp", "vllm", "transformers"])
def test_sweep_matches_estimate_memory(runtime_id):
    runtime = CAT.runtime(runtime_id)
    sweep = sweep_memory(CAT.gpus, CAT.models, CAT.quants, CONTEXTS, runtime)
    fits = sweep.fits
    assert fits.shape == (len(CAT.gpus), len(CAT.models), len(CAT.quants), len(CONTEXTS))
    rng = random.Random(7)
    for _ in range(300):
        g, m, q, c = (rng.randrange(n) for n in fits.shape)
        est = estimate_memory(CAT.models[m], CAT.quants[q], CAT.gpus[g], runtime,
                              context_tokens=CONTEXTS[c], prompt_tokens=min(512, CONTEXTS[c]))
        assert sweep.total_bytes[m, q, c] == pytest.approx(est.total_bytes, rel=1e-9)
        assert bool(fits[g, m, q, c]) == est.fits
