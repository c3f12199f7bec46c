"""advisor/candidates.py: the pruned rung search picks what estimating every rung picks."""

from __future__ import annotations

import pytest

from advisor.candidates import CandidateSearch, quant_ladder
from advisor.workload import workload_request
from catalog.catalog import load_catalog
from sizing.estimate import estimate, memory_for
from sizing.fit import published_in
from sizing.request import EstimateRequest, tensor_parallel_problem

CATALOG = load_catalog()
GPUS = ("rtx-3060-12gb", "rtx-4090", "rtx-5090", "l40s", "h100-sxm", "apple-m4-max-40c",
        "rx-7900-xtx")


def every_rung(search: CandidateSearch, gpu_id: str, gpu_count: int):
    """The (quant, runtime, meets) the search should pick, from an estimate of every rung
    that fits, and how many rungs that estimated."""
    gpu = CATALOG.gpu(gpu_id)
    fitting = []
    for runtime_id, quant_id, rank in search.ladder:
        rid = search._runtime_for(runtime_id, gpu)
        quant = CATALOG.quant(quant_id)
        if rid is None or rid not in quant.runtimes or not published_in(quant, search.arch):
            continue
        if rid not in CATALOG.kv_cache_type(search.base.kv_cache).runtimes:
            continue
        runtime = CATALOG.runtime(rid)
        split = "tensor" if gpu_count > 1 and runtime.supports_tensor_parallel else "layer"
        if tensor_parallel_problem(search.arch, runtime, gpu_count, split):
            continue
        request = search.base.model_copy(update={"gpu": gpu_id, "memory_gib": None,
                                                 "gpu_count": gpu_count, "quant": quant_id,
                                                 "runtime": rid, "split": split})
        if not memory_for(request, CATALOG, search.arch).fits:
            continue
        result = estimate(request, CATALOG, arch=search.arch)
        speed = result.speed
        per_user = None if speed is None else (speed.decode_tokens_per_s_per_sequence
                                               or speed.decode_tokens_per_s)
        meets = per_user is not None and per_user >= search.min_tokens_per_s
        fitting.append((rank, per_user or 0.0, meets, quant_id, rid))
    if not fitting:
        return None, 0
    meeting = [f for f in fitting if f[2]]
    if meeting:
        best = min(meeting, key=lambda f: (f[0], -f[1]))
    else:
        best = max(fitting, key=lambda f: (f[1], -f[0]))
    return (best[3], best[4], best[2]), len(fitting)


@pytest.mark.parametrize(("model", "users", "min_tokens_per_s"), [
    ("llama-3.1-8b", 1, 10.0), ("qwen2.5-32b", 1, 20.0), ("llama-3.1-70b", 4, 10.0),
    ("qwen2.5-14b", 8, 60.0)])
def test_the_pruned_search_picks_what_every_rung_picks(model, users, min_tokens_per_s):
    base = workload_request(EstimateRequest(model=model), users, 8192)
    arch = CATALOG.model(model)
    ladder = quant_ladder("best", base.runtime, users, CATALOG)
    search = CandidateSearch(CATALOG, arch, base, ladder=ladder, min_tokens_per_s=min_tokens_per_s)
    picked, every = 0, 0
    for gpu_id in GPUS:
        for count in (1,) if CATALOG.gpu(gpu_id).form_factor == "soc" else (1, 2):
            found = search.best(gpu_id, count)
            expected, estimated = every_rung(search, gpu_id, count)
            every += estimated
            got = None if found is None else (found.quant, found.runtime, found.meets_workload)
            assert got == expected, (gpu_id, count)
            picked += found is not None
    assert picked > 0
    assert search.runs < every  # rungs after the first that meets were not estimated
