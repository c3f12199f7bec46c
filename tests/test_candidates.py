"""advisor/candidates.py: the pruned, screened rung search picks what estimating every rung picks.

The screen sizes a fitting rung with the engine's memory and speed alone and
the uncapped decode draw (``Figures``); ``screen=False`` runs the full estimate
on every rung, which the screen is compared with figure by figure.
"""

from __future__ import annotations

import pytest

from advisor.candidates import CandidateSearch, Figures, ScreenMemory, quant_ladder
from advisor.workload import workload_request
from catalog.catalog import load_catalog
from catalog.errors import UserError
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


def search_for(model: str, users: int, min_tokens_per_s: float, *,
               screen: bool = True) -> CandidateSearch:
    """The plan's search for a model's workload at 8,192 tokens of context."""
    base = workload_request(EstimateRequest(model=model), users, 8192)
    return CandidateSearch(CATALOG, CATALOG.model(model), base,
                           ladder=quant_ladder("best", base.runtime, users, CATALOG),
                           min_tokens_per_s=min_tokens_per_s, screen=screen)


@pytest.mark.parametrize(("model", "users", "min_tokens_per_s"), [
    ("llama-3.1-8b", 1, 10.0), ("qwen2.5-32b", 1, 20.0), ("llama-3.1-70b", 4, 10.0),
    ("qwen2.5-14b", 8, 60.0)])
def test_the_pruned_search_picks_what_every_rung_picks(model, users, min_tokens_per_s):
    search = search_for(model, users, min_tokens_per_s)
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


def figures_row(figures: Figures) -> tuple:
    """Every number a choice and a build take from a candidate's figures."""
    s, m = figures.speed, figures.memory
    speed = (None if s is None else
             (s.decode_tokens_per_s, s.decode_tokens_per_s_low, s.decode_tokens_per_s_high,
              s.decode_tokens_per_s_per_sequence, s.prefill_tokens_per_s, s.ttft_s))
    return (speed, m.fits, m.total_bytes, m.usable_bytes, m.headroom_bytes, m.file_bytes,
            figures.gpu_power_w, figures.system_power_w)


@pytest.mark.parametrize(("model", "users", "min_tokens_per_s"), [
    ("llama-3.1-8b", 1, 10.0), ("qwen2.5-14b", 8, 30.0), ("llama-3.1-70b", 4, 10.0),
    ("qwen3-30b-a3b", 16, 20.0)])
def test_the_screen_gives_the_full_estimate_s_figures(model, users, min_tokens_per_s):
    fast = search_for(model, users, min_tokens_per_s)
    full = search_for(model, users, min_tokens_per_s, screen=False)
    compared = 0
    for gpu_id in (*GPUS, "arc-b580", "rtx-pro-6000-blackwell"):
        for count in (1,) if CATALOG.gpu(gpu_id).form_factor == "soc" else (1, 2, 4):
            screened, estimated = fast.best(gpu_id, count), full.best(gpu_id, count)
            assert (screened is None) == (estimated is None), (gpu_id, count)
            if screened is None:
                continue
            assert not screened.figures.explained and estimated.figures.explained
            assert (screened.quant, screened.runtime, screened.meets_workload) == (
                estimated.quant, estimated.runtime, estimated.meets_workload), (gpu_id, count)
            assert figures_row(screened.figures) == figures_row(estimated.figures), (gpu_id, count)
            # Explaining a screened candidate gives the exhaustive search's figures and warnings.
            assert fast.explained(screened).figures == estimated.figures
            compared += 1
    assert compared >= 8
    assert fast.runs == full.runs  # the same rungs were sized


# --- the array screen against the scalar screen ---------------------------------------

# Dense and MoE models, one user and many (llama.cpp's ladder with vLLM's beside it),
# layer and tensor splits, long contexts and prompts of several micro-batches (a layer
# split pipelines them), a q8_0 cache vLLM has not, a link asked for
# (PCIe 3 cards and NVLink-less ones refuse it), and runtimes of one vendor (MLX on
# Macs' unified memory, ExLlamaV2 on CUDA), over every catalog GPU.
ARRAY_SCENARIOS = [
    dict(model="llama-3.1-8b", users=1, min_tokens_per_s=10.0),
    dict(model="qwen3-30b-a3b", users=16, min_tokens_per_s=20.0),
    dict(model="qwen3-30b-a3b", users=1, min_tokens_per_s=40.0, context_tokens=131072,
         prompt_tokens=100000),
    dict(model="qwen2.5-14b", users=8, min_tokens_per_s=60.0, prompt_tokens=3000),
    dict(model="llama-3.1-70b", users=4, min_tokens_per_s=10.0, prompt_tokens=1500),
    dict(model="gpt-oss-20b", users=2, min_tokens_per_s=30.0, kv_cache="q8_0"),
    dict(model="qwen2.5-32b", users=2, min_tokens_per_s=15.0, interconnect="pcie4-x16"),
    dict(model="llama-3.1-8b", users=1, min_tokens_per_s=25.0, runtime="mlx"),
    dict(model="qwen2.5-14b", users=1, min_tokens_per_s=30.0, runtime="exllamav2"),
    dict(model="llama-3.1-70b", users=8, min_tokens_per_s=10.0, runtime="sglang"),
]
ARRAY_COUNTS = (1, 2, 3, 4, 8)  # 3: no plan asks for it, screened on its own


def array_search(scenario: dict, *, arrays: bool = True) -> CandidateSearch:
    s = dict(scenario)
    users, tps, context = s.pop("users"), s.pop("min_tokens_per_s"), s.pop("context_tokens", 8192)
    base = workload_request(EstimateRequest(**s), users, context)
    return CandidateSearch(CATALOG, CATALOG.model(base.model), base,
                           ladder=quant_ladder("best", base.runtime, users, CATALOG),
                           min_tokens_per_s=tps, arrays=arrays)


def screen_row(figures: Figures) -> tuple:
    """What a choice and a build read from a screened candidate, as numbers."""
    s, m = figures.speed, figures.memory
    return (s.decode_tokens_per_s, s.decode_tokens_per_s_low, s.decode_tokens_per_s_high,
            s.decode_tokens_per_s_per_sequence, s.prefill_tokens_per_s, s.ttft_s, m.total_bytes,
            m.usable_bytes, m.headroom_bytes, m.file_bytes, figures.gpu_power_w,
            figures.system_power_w)


def assert_close(got: tuple, want: tuple, where) -> None:
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        assert a == pytest.approx(b, rel=1e-9, abs=0.0), (where, i, a, b)


@pytest.mark.parametrize("scenario", ARRAY_SCENARIOS, ids=lambda s: "-".join(map(str, s.values())))
def test_the_array_screen_sizes_every_rung_as_the_scalar_screen(scenario):
    """Every rung on every catalog GPU and count, figure by figure."""
    search = array_search(scenario)
    search.best(CATALOG.gpus[0].id, 1)  # sets the arrays up
    arrays = search._arrays
    assert arrays is not None
    compared = unknown = 0
    screen, per_count = arrays.screen(ARRAY_COUNTS)  # in one pass
    for c, (n, rows) in enumerate(zip(ARRAY_COUNTS, per_count)):
        for r, (runtime_id, quant_id, _) in enumerate(search._rungs):
            for g, gpu in enumerate(CATALOG.gpus):
                k = arrays.row_of[r, g]  # the rung's row at each count
                i = c * len(arrays.rows) + k  # this count's in the screen
                rid = search._runtime_for(runtime_id, gpu)
                split = None if rid is None else search._split(rid, quant_id, n)
                # The row the rung runs as here, and none where the scalar search skips it.
                assert (k >= 0 and rows[k][2] is not None) == (split is not None), (gpu.id, n, r)
                if split is None:
                    continue
                assert rows[k][:3] == (rid, quant_id, split)
                request = search.base.model_copy(update={
                    "gpu": gpu.id, "memory_gib": None, "gpu_count": n, "quant": quant_id,
                    "runtime": rid, "split": split})
                memory = memory_for(request, CATALOG, search.arch)
                where = (gpu.id, n, rid, quant_id)
                assert bool(screen.fits[i, g]) == memory.fits, where
                if not memory.fits:
                    continue
                try:
                    figures = search._figures(request, memory)
                except UserError:  # refused here: the arrays leave it to the scalar screen
                    assert not arrays.known[k, g] or gpu.form_factor == "soc" \
                        or scenario.get("interconnect"), where
                    continue
                if not arrays.known[k, g]:  # a figure the speed needs is missing
                    assert figures.explained, where
                    unknown += 1
                    continue
                got = [getattr(screen, name)[i, g] for name in (
                    "decode_tokens_per_s", "decode_tokens_per_s_low", "decode_tokens_per_s_high",
                    "decode_tokens_per_s_per_sequence", "prefill_tokens_per_s", "ttft_s",
                    "total_bytes", "usable_bytes", "headroom_bytes")]
                got += [rows[k][3], screen.gpu_power_w[i, g], screen.system_power_w[i, g]]
                assert_close(tuple(got), screen_row(figures), where)
                compared += 1
    assert compared > 10 * unknown


@pytest.mark.parametrize("scenario", ARRAY_SCENARIOS, ids=lambda s: "-".join(map(str, s.values())))
def test_the_array_search_picks_what_the_scalar_search_picks(scenario):
    """Every catalog GPU and count: the same rung, verdict, figures and rungs sized."""
    fast, slow = array_search(scenario), array_search(scenario, arrays=False)
    answered = 0
    for n in ARRAY_COUNTS:
        for gpu in CATALOG.gpus:
            outcomes = []
            for search in (fast, slow):
                try:
                    outcomes.append(search.best(gpu.id, n))
                except UserError as exc:  # refused alike (one machine at two GPUs)
                    outcomes.append(exc.code)
            got, want = outcomes
            where = (gpu.id, n)
            if want is None or isinstance(want, str):
                assert got == want, where
                continue
            assert (got.quant, got.runtime, got.split, got.quant_rank, got.meets_workload,
                    got.figures.memory.fits) == (want.quant, want.runtime, want.split,
                                                 want.quant_rank, want.meets_workload,
                                                 want.figures.memory.fits), where
            if isinstance(got.figures.memory, ScreenMemory):
                assert_close(screen_row(got.figures), screen_row(want.figures), where)
                answered += 1
            else:
                assert got.figures == want.figures, where
    assert fast.runs == slow.runs  # the same rungs were sized
    assert answered > 0
