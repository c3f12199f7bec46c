"""Engine runs for the advisor: the best (runtime, quant) on one GPU and count.

A workload is a request with the plan's users and context. For each GPU and
count, :class:`CandidateSearch` walks the runtime's quant ladder (most
faithful first), checks memory first (microseconds) and, where the model
fits, screens the rung with the scalar engine's own memory, speed and
decode-power functions (:class:`Figures`): the figures a choice and a build
are decided by, without the longest-context search, the power-limit curves,
the thermal and load sections that only a shown build needs.
:meth:`CandidateSearch.explained` runs the full estimate for a candidate
that is shown, remembering every answer.

The screen runs as arrays (:func:`sizing.vector.rung_screen`): at each GPU
count, every rung on every catalog GPU at once, then the rung of each GPU is
picked as the scalar search picks it. The per-GPU figures that do not depend on
the workload (speed constants, bandwidth, compute, links) are kept with the
catalog. Where the arrays cannot give the scalar engine's answer (a figure the
speed needs is missing, hardware the request refuses, a service level) the
scalar screen answers; ``tests/test_candidates.py`` compares the two candidate
by candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from advisor.errors import PlanError
from advisor.parts import GPU_COUNTS
from catalog.catalog import Catalog, runtime_api
from catalog.errors import UserError, echo
from catalog.schema import Gpu, ModelArch
from sizing.box import DEFAULT_CPU_POWER_W, decode_gpu_power_w
from sizing.estimate import (DEFAULT_RAM, Estimate, MemorySection, SpeedSection, default_split,
                             estimate, memory_demand_for, memory_for, speed_for, with_images,
                             workload_for)
from sizing.fit import published_in
from sizing.memory import MemoryDemand, MemoryEstimate
from sizing.notices import Notice
from sizing.power import system_power_w
from sizing.request import (EstimateRequest, check_compatibility, check_hardware,
                            tensor_parallel_problem)
from sizing.service_level import ServeSettings
from sizing.speed import (SpeedEstimate, SpeedUnknownError, Workload, attention_flops,
                          ram_bandwidth_gb_per_s)
from sizing.vector import (RungScreen, WorkloadRows, catalog_gpu_arrays, kept_with,
                           rung_screen)


# Comfortable reading speed per user. Adults read English non-fiction silently
# at 238 words/min on average, most between 175 and 300 (Brysbaert 2019, "How
# many words do we read per minute?", J. Memory and Language 109, 104047,
# https://doi.org/10.1016/j.jml.2019.104047). At about 0.75 words per token
# (https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them)
# that is 5.3 tokens/s, 6.7 for a fast reader; 10 tokens/s stays ahead of
# nearly every reader, with room for skimming and code.
READING_TOKENS_PER_S = 10.0


# Quant ladders per runtime, most faithful first. "best" means the first rung
# that fits and meets the speed target. The ladder stops at 4-bit: below about
# 4.5 bits per weight llama.cpp's own perplexity table shows quality falling
# steeply (Q3_K_M +0.24 ppl vs Q4_K_M +0.05 on Llama-3-8B,
# https://github.com/ggml-org/llama.cpp/tree/master/tools/quantize), so a
# build that needs Q3 or less is not recommended as meeting the workload.
# MXFP4 is the precision gpt-oss was trained in, so it comes right after 16-bit;
# rungs a model is not published in (sizing.fit.published_in) are skipped.
QUANT_LADDERS: dict[str, tuple[str, ...]] = {
    "llama.cpp": ("f16", "mxfp4", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "llama.cpp-vulkan": ("f16", "mxfp4", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "ollama": ("f16", "mxfp4", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "vllm": ("bf16", "mxfp4", "fp8", "awq-int4"),
    "sglang": ("bf16", "fp8", "awq-int4"),
    "exllamav2": ("exl2-8", "exl2-6", "exl2-5", "exl2-4.65"),
    "mlx": ("bf16", "mlx-8bit", "mlx-4bit"),
}
# llama.cpp's Vulkan build runs the same GGUF files where the native API is missing.
RUNTIME_FALLBACKS = {"llama.cpp": "llama.cpp-vulkan", "ollama": "llama.cpp-vulkan"}
# With several users a batching server (vLLM) is also tried: continuous batching
# keeps per-user speed up where llama.cpp's slots share one decode stream.
BATCHING_RUNTIME = "vllm"


class ScreenMemory(NamedTuple):
    """The memory figures of a configuration the array screen found fitting. [B]

    Immutable records (a named tuple makes one in a fraction of a frozen
    dataclass's time: a plan makes hundreds).
    """

    fits: bool
    file_bytes: float
    total_bytes: float  # every device
    usable_bytes: float  # every device
    headroom_bytes: float


class ScreenSpeed(NamedTuple):
    """The speeds the array screen gives a configuration that fits. [tokens/s, s]"""

    decode_tokens_per_s: float  # every sequence together
    decode_tokens_per_s_low: float
    decode_tokens_per_s_high: float
    decode_tokens_per_s_per_sequence: float
    prefill_tokens_per_s: float | None  # None without a prompt
    ttft_s: float


@dataclass(frozen=True, slots=True)
class Figures:
    """What a candidate is chosen and its build assembled by. [B, tokens/s, W]

    From a screen (the scalar engine's memory and speed, and the uncapped decode
    draw ``sizing.box`` gives) or from a full estimate, which adds its warnings;
    the numbers are the same floating-point operations either way.
    """

    memory: MemoryEstimate | MemorySection | ScreenMemory
    speed: SpeedEstimate | SpeedSection | ScreenSpeed | None
    gpu_power_w: float  # each GPU while decoding
    system_power_w: float  # the whole machine while decoding
    warnings: tuple[Notice, ...] = ()
    explained: bool = False  # from a full estimate

    @property
    def decode_tokens_per_s_per_user(self) -> float | None:
        if self.speed is None:
            return None
        return self.speed.decode_tokens_per_s_per_sequence or self.speed.decode_tokens_per_s

    @classmethod
    def of(cls, est: Estimate) -> Figures:
        return cls(memory=est.memory, speed=est.speed, gpu_power_w=est.power.gpu_power_w,
                   system_power_w=est.power.system_power_w, warnings=tuple(est.warnings),
                   explained=True)


@dataclass(frozen=True, slots=True)
class Candidate:
    """The engine's answer for one (GPU, count, quant, runtime)."""

    gpu_id: str
    gpu_count: int
    quant: str
    runtime: str
    split: str
    quant_rank: int  # 0 = most faithful rung of its ladder
    figures: Figures
    meets_workload: bool
    speculative: str | None = None  # "draft" or "mtp" when the build meets the target with it
    task: str = "generate"  # the model's; an encoder's speed is its prefill

    @property
    def throughput_tokens_per_s(self) -> float | None:
        """What the candidate is chosen and priced by: decode, or an encoder's prefill."""
        return self.decode_tokens_per_s if self.task == "generate" else self.prefill_tokens_per_s

    @property
    def decode_tokens_per_s(self) -> float | None:
        return self.figures.speed.decode_tokens_per_s if self.figures.speed else None

    @property
    def decode_tokens_per_s_per_user(self) -> float | None:
        return self.figures.decode_tokens_per_s_per_user

    @property
    def prefill_tokens_per_s(self) -> float | None:
        return self.figures.speed.prefill_tokens_per_s if self.figures.speed else None

    @property
    def memory_headroom_bytes(self) -> float:
        return self.figures.memory.headroom_bytes


class CandidateSearch:
    """Runs the engine once per configuration, remembering answers.

    ``screen``: choose by the screen's figures (:class:`Figures`); False runs the
    full estimate on every rung that fits (what the screen is tested against).
    ``arrays``: screen every GPU at once (:class:`_ArrayScreen`); False screens one
    configuration at a time (what the arrays are tested against).
    """

    def __init__(self, catalog: Catalog, arch: ModelArch, base: EstimateRequest, *,
                 ladder: Sequence[tuple[str, str, int]], min_tokens_per_s: float,
                 service: ServeSettings | None = None, speculative: bool = False,
                 screen: bool = True, arrays: bool = True) -> None:
        self.catalog = catalog
        self.arch = arch
        self.base = base
        self.ladder = ladder  # (runtime, quant, rank)
        self.min_tokens_per_s = min_tokens_per_s
        # A service level: a build meets the workload when its users' p95 latencies
        # stay within the targets (sizing.capacity), not by the per-user speed.
        self.service = service
        self.speculative = speculative  # speculative decoding may help a build meet it
        self._best: dict[tuple[str, int], Candidate | None] = {}
        # Rung by rung, most faithful first (a stable sort keeps the ladder's order
        # within a rank), and each rung's split on a GPU count (None: not run), once.
        self._rungs = sorted(ladder, key=lambda rung: rung[2])
        self._splits: dict[tuple[str, str, int], str | None] = {}
        # What a rung needs whichever GPU it runs on, worked out on the first.
        self._demands: dict[tuple[str, str, int, str], MemoryDemand] = {}
        self._workloads: dict[tuple[str, str], Workload] = {}
        self._estimates: dict[EstimateRequest, Estimate] = {}
        self.runs = 0
        self.screen = screen and self._screenable()
        # The screen as arrays, set up on the first search; None: the scalar screen throughout.
        self._arrays: _ArrayScreen | None = None
        self._arrays_ready = not (arrays and self.screen and service is None)

    def _screenable(self) -> bool:
        """Whether the screen's speed is the estimate's: the estimate changes nothing in the
        request (a model file's own format, images, an encoder model) and caps no power."""
        if self.arch.task != "generate" or self.base.power_limit_w is not None:
            return False
        if self.arch.file_weights is not None:  # the estimate sizes the file's own format
            return False
        try:
            return with_images(self.base, self.arch)[1] is None
        except UserError:  # the estimate says what is wrong with the images
            return False

    def _estimate(self, request: EstimateRequest) -> Estimate:
        if request not in self._estimates:
            self._estimates[request] = estimate(request, self.catalog, arch=self.arch)
        return self._estimates[request]

    def _figures(self, request: EstimateRequest, memory: MemoryEstimate) -> Figures:
        """The screen of one fitting configuration, or its full estimate where the
        screen cannot give the same numbers."""
        if not self.screen:
            return Figures.of(self._estimate(request))
        check_compatibility(request, self.catalog)  # refused as the estimate refuses it
        try:
            speed = speed_for(request, self.catalog, self.arch, memory, w=self._workload(request))
        except SpeedUnknownError:  # the estimate explains why
            return Figures.of(self._estimate(request))
        gpu = self.catalog.gpu(request.gpu)
        gpu_w = decode_gpu_power_w(
            gpu=gpu, gpu_count=request.gpu_count,
            tensor_parallel=default_split(request, self.catalog) == "tensor",
            decode_memory_util_frac=speed.decode_memory_util_frac,
            decode_compute_util_frac=speed.decode_compute_util_frac)
        return Figures(memory=memory, speed=speed, gpu_power_w=gpu_w,
                       system_power_w=system_power_w(gpu_power_w_each=gpu_w,
                                                     gpu_count=request.gpu_count,
                                                     cpu_power_w=DEFAULT_CPU_POWER_W))

    def request_of(self, cand: Candidate) -> EstimateRequest:
        """The workload on a candidate's hardware, runtime and format."""
        return self.base.model_copy(update={
            "gpu": cand.gpu_id, "memory_gib": None, "gpu_count": cand.gpu_count,
            "quant": cand.quant, "runtime": cand.runtime, "split": cand.split})

    def explained(self, cand: Candidate) -> Candidate:
        """The candidate with the full estimate's figures and warnings (for a shown build)."""
        if cand.figures.explained:
            return cand
        return replace(cand, figures=Figures.of(self._estimate(self.request_of(cand))))

    def _runtime_for(self, runtime_id: str, gpu: Gpu) -> str | None:
        return runtime_for(self.catalog, runtime_id, gpu)

    def best(self, gpu_id: str, gpu_count: int) -> Candidate | None:
        """Most faithful (runtime, quant) that fits and meets the speed target;
        else the fastest one that fits; None when nothing fits."""
        key = (gpu_id, gpu_count)
        if key not in self._best:
            self._best[key] = self._search(gpu_id, gpu_count)
        return self._best[key]

    def _runs(self, rid: str, quant_id: str) -> bool:
        """Whether a runtime runs the model in a format on some GPU count."""
        quant = self.catalog.quant(quant_id)
        if rid not in quant.runtimes or not published_in(quant, self.arch):
            return False  # the runtime cannot run it, or the model is not published in it
        # A runtime without the KV cache type cannot either (vLLM and a q8_0 cache).
        return rid in self.catalog.kv_cache_type(self.base.kv_cache).runtimes

    def _split(self, rid: str, quant_id: str, gpu_count: int) -> str | None:
        """How a runtime splits the model over ``gpu_count`` GPUs in a format, or None
        when it cannot run it there, whichever GPU it is."""
        key = (rid, quant_id, gpu_count)
        if key not in self._splits:
            self._splits[key] = None
            if not self._runs(rid, quant_id):
                return None
            runtime = self.catalog.runtime(rid)
            split = "tensor" if (gpu_count > 1 and runtime.supports_tensor_parallel) else "layer"
            if tensor_parallel_problem(self.arch, runtime, gpu_count, split):
                return None  # the runtime refuses to shard this model over that many GPUs
            self._splits[key] = split
        return self._splits[key]

    def _demand(self, request: EstimateRequest) -> MemoryDemand:
        """What a rung needs on each GPU, whichever GPU the request names, worked out once."""
        key = (request.runtime, request.quant, request.gpu_count, request.split)
        if key not in self._demands:
            self._demands[key] = memory_demand_for(request, self.catalog, self.arch)
        return self._demands[key]

    def _workload(self, request: EstimateRequest) -> Workload:
        key = (request.runtime, request.quant)
        if key not in self._workloads:
            self._workloads[key] = workload_for(request, self.catalog, self.arch)
        return self._workloads[key]

    def _search(self, gpu_id: str, gpu_count: int) -> Candidate | None:
        if not self._arrays_ready:
            self._arrays_ready = True
            try:
                arrays = _ArrayScreen(self)
            except UserError:  # the scalar screen raises it where a rung fits
                arrays = None
            self._arrays = arrays if arrays is not None and arrays.rows else None
        if self._arrays is not None:
            answered, found = self._arrays.best(gpu_id, gpu_count)
            if answered:
                return found
        gpu = self.catalog.gpu(gpu_id)
        fitting: list[Candidate] = []
        # Without a service level the answer is the most faithful rank with a
        # candidate that meets the workload, so once a rank has one, the rungs
        # after it cannot change the answer and are not estimated.
        met_rank: int | None = None
        for runtime_id, quant_id, rank in self._rungs:
            if met_rank is not None and rank > met_rank:
                break
            rid = self._runtime_for(runtime_id, gpu)
            split = None if rid is None else self._split(rid, quant_id, gpu_count)
            if split is None:
                continue
            request = self.base.model_copy(update={
                "gpu": gpu_id, "memory_gib": None, "gpu_count": gpu_count, "quant": quant_id,
                "runtime": rid, "split": split})
            memory = memory_for(request, self.catalog, self.arch, demand=self._demand(request))
            if not memory.fits:
                continue
            self.runs += 1
            figures = self._figures(request, memory)
            per_user = figures.decode_tokens_per_s_per_user
            # An encoder (embedding, reranking) generates nothing: no per-user speed to reach.
            meets = self.arch.task != "generate" or (per_user is not None
                                                     and per_user >= self.min_tokens_per_s)
            if meets and self.service is None:
                met_rank = rank
            fitting.append(Candidate(gpu_id=gpu_id, gpu_count=gpu_count, quant=quant_id,
                                     runtime=rid, split=split, quant_rank=rank, figures=figures,
                                     meets_workload=meets, task=self.arch.task))
        if not fitting:
            return None
        if self.service is not None:
            fitting = self._served(fitting)
        meeting = [c for c in fitting if c.meets_workload]
        if meeting:
            return min(meeting, key=lambda c: (c.quant_rank, -(c.throughput_tokens_per_s or 0)))
        return max(fitting, key=lambda c: (c.throughput_tokens_per_s or 0, -c.quant_rank))

    def _served(self, fitting: list[Candidate]) -> list[Candidate]:
        """The candidates judged by the service level instead of the per-user speed.

        In the order the search prefers them, each is simulated at the plan's
        users until one meets the targets (with speculative decoding where it
        is allowed and plain decoding falls short); that one meets the workload,
        the others do not. A runtime the serving model does not cover never meets it.
        """
        # The serving simulation, imported by a plan with a service level only.
        from sizing.capacity import load_at, within_targets
        from sizing.speculative import default_speculation

        found: Candidate | None = None
        speculation = (default_speculation(self.arch, self.catalog) if self.speculative
                       else None)
        for cand in sorted(fitting, key=lambda c: (c.quant_rank, -(c.decode_tokens_per_s or 0))):
            request = self.request_of(cand)
            for spec in (None, speculation) if speculation else (None,):
                settings = self.service.model_copy(update={"speculative": spec})
                try:
                    ok = within_targets(load_at(request, settings, self.catalog, arch=self.arch),
                                        settings)
                except UserError:
                    ok = False
                if ok:
                    found = replace(cand, meets_workload=True,
                                    speculative=spec.method if spec else None)
                    break
            if found is not None:
                break
        key = None if found is None else (found.runtime, found.quant)
        return [found if (c.runtime, c.quant) == key else replace(c, meets_workload=False)
                for c in fitting]


def runtime_for(catalog: Catalog, runtime_id: str, gpu: Gpu) -> str | None:
    """The runtime a GPU runs ``runtime_id``'s work with: itself, else its fallback
    (:data:`RUNTIME_FALLBACKS`); None when neither runs there."""
    for rid in (runtime_id, RUNTIME_FALLBACKS.get(runtime_id)):
        if rid and runtime_api(catalog.runtime(rid), gpu) is not None:
            return rid
    return None


def _runtimes_for(catalog: Catalog, runtime_id: str) -> tuple[str | None, ...]:
    """:func:`runtime_for` on every catalog GPU, in catalog order; kept with the catalog."""
    kept = catalog.derived("runtime for each gpu")
    if runtime_id not in kept:
        kept[runtime_id] = tuple(runtime_for(catalog, runtime_id, g) for g in catalog.gpus)
    return kept[runtime_id]


def _gpu_index(catalog: Catalog) -> dict[str, int]:
    """Each catalog GPU's place in catalog order; kept with the catalog."""
    kept = catalog.derived("gpu index")
    if not kept:
        kept.update({g.id: i for i, g in enumerate(catalog.gpus)})
    return kept


def _plan_counts(catalog: Catalog) -> tuple[int, ...]:
    """The GPU counts a plan asks for: its builds' and its cloud instances'; kept with
    the catalog."""
    kept = catalog.derived("plan gpu counts")
    if "counts" not in kept:
        kept["counts"] = tuple(sorted({*GPU_COUNTS,
                                       *(i.gpu_count for i in catalog.market.instances)}))
    return kept["counts"]


def _hardware_ok(catalog: Catalog, request: EstimateRequest) -> np.ndarray:
    """Per catalog GPU, whether the estimate takes the request's GPU count, link, power
    cap and RAM there (:func:`sizing.request.check_hardware`); kept with the catalog."""
    kept = kept_with(catalog, "hardware ok")
    key = (request.gpu_count, request.interconnect, request.power_limit_w, request.ram)
    ok = kept.get(key)  # read once: another session may empty the dict meanwhile
    if ok is None:
        ok = np.ones(len(catalog.gpus), dtype=bool)
        for g, gpu in enumerate(catalog.gpus):
            try:
                check_hardware(request, catalog, gpu)
            except UserError:
                ok[g] = False
        kept[key] = ok
    return ok


@dataclass(frozen=True)
class _CountPick:
    """The array screen's pick on every catalog GPU at one count, by GPU."""

    scalar: list[bool]  # the scalar screen answers this GPU instead
    runs: list[int]  # fitting rungs sized before the pick was certain
    rung: list[int]  # the pick's place in the sorted ladder; -1: nothing fits
    row: list[int]  # its row of the screen, a (runtime, format)
    meets: list[bool]
    rows: list[tuple[str, str, str | None, float]]  # runtime, format, split, file size [B]
    figures: list[tuple[float, ...]]  # the pick's, as _PICKED names them


_PICKED = ("total_bytes", "usable_bytes", "headroom_bytes", "decode_tokens_per_s",
           "decode_tokens_per_s_low", "decode_tokens_per_s_high",
           "decode_tokens_per_s_per_sequence", "prefill_tokens_per_s", "ttft_s", "gpu_power_w",
           "system_power_w")


class _ArrayScreen:
    """A search's rungs on every catalog GPU at once (:func:`sizing.vector.rung_screen`),
    each GPU's rung picked as :meth:`CandidateSearch._search` picks it.

    A row of the screen is a (runtime, format) some rung runs as: the ladder's
    runtime, or on GPUs it has no API for, its fallback.
    """

    def __init__(self, search: CandidateSearch) -> None:
        cat, base = search.catalog, search.base
        self.search = search
        self.index = _gpu_index(cat)
        rungs = tuple((runtime_id, quant_id) for runtime_id, quant_id, _ in search._rungs)
        runtimes = {runtime_id: _runtimes_for(cat, runtime_id) for runtime_id, _ in rungs}
        able = frozenset((rid, quant_id) for runtime_id, quant_id in rungs
                         for rid in set(runtimes[runtime_id]) - {None}
                         if search._runs(rid, quant_id))
        kept = kept_with(cat, "screen rows")
        found = kept.get((rungs, able))  # read once: another session may empty the dict
        if found is None:
            rows = list(dict.fromkeys((rid, quant_id) for runtime_id, quant_id in rungs
                                      for rid in runtimes[runtime_id] if (rid, quant_id) in able))
            row = {r: i for i, r in enumerate(rows)}
            # The row each rung runs as on each GPU (rungs x GPUs); -1 where none does.
            found = kept[rungs, able] = rows, np.array(
                [[row.get((rid, quant_id), -1) for rid in runtimes[runtime_id]]
                 for runtime_id, quant_id in rungs], dtype=np.int64)
        self.rows, self.row_of = found
        if not self.rows:
            return  # no rung runs anywhere: the scalar search finds nothing as fast
        self.ranks = [rank for _, _, rank in search._rungs]
        self.rank = np.array(self.ranks)[:, None]
        _, self.known = catalog_gpu_arrays(
            cat, self.rows, flash_attention=base.flash_attention != "off",
            interconnect=base.interconnect)
        workloads = [search._workload(base.model_copy(update={"runtime": rid, "quant": quant_id}))
                     for rid, quant_id in self.rows]
        self.workloads = workloads
        self.attention_flops = np.array([attention_flops(w, base.prompt_tokens)
                                         for w in workloads])[:, None]
        self.ram_gb_per_s = ram_bandwidth_gb_per_s(base.ram or DEFAULT_RAM)
        self.counts: dict[int, _CountPick] = {}

    def best(self, gpu_id: str, gpu_count: int) -> tuple[bool, Candidate | None]:
        """(True, the search's answer) where the arrays give it, else (False, None)."""
        g = self.index.get(gpu_id)
        if g is None:
            return False, None
        if gpu_count not in self.counts:
            # A plan asks for every GPU at each of its counts and for the cloud instances'
            # GPUs at theirs: those are screened at once.
            group = _plan_counts(self.search.catalog)
            if gpu_count not in group:
                group = (gpu_count,)
            self.counts |= self._picks([n for n in group if n not in self.counts])
        pick = self.counts[gpu_count]
        if pick.scalar[g]:
            return False, None
        search = self.search
        search.runs += pick.runs[g]
        if pick.rung[g] < 0:
            return True, None
        rid, quant_id, split, file_bytes = pick.rows[pick.row[g]]
        (total, usable, headroom, decode, low, high, per_sequence, prefill, ttft, gpu_w,
         system_w) = pick.figures[g]
        # Positional, in field order: a plan makes hundreds of these.
        figures = Figures(
            ScreenMemory(True, file_bytes, total, usable, headroom),
            ScreenSpeed(decode, low, high, per_sequence,
                        None if math.isnan(prefill) else prefill, ttft),
            gpu_w, system_w)
        return True, Candidate(gpu_id, gpu_count, quant_id, rid, split, self.ranks[pick.rung[g]],
                               figures, pick.meets[g], None, search.arch.task)

    def screen(self, counts: Sequence[int]
               ) -> tuple[RungScreen, list[list[tuple[str, str, str | None, float]]]]:
        """Every row on every catalog GPU at each of ``counts``, in one pass: the screen's
        rows are each count's rows in turn; and for each count, each row's runtime,
        format, split (None where the runtime has none at that count: NaN demand,
        nothing fits) and model file size. [B]"""
        search, base = self.search, self.search.base
        totals, tensor, gpu_count, rows = [], [], [], []
        for n in counts:
            rows.append([])
            for rid, quant_id in self.rows:
                split = search._split(rid, quant_id, n)
                tensor.append(split == "tensor" and n > 1)
                gpu_count.append(n)
                if split is None:
                    totals.append(math.nan)
                    rows[-1].append((rid, quant_id, None, math.nan))
                    continue
                demand = search._demand(base.model_copy(update={
                    "memory_gib": None, "gpu_count": n, "quant": quant_id, "runtime": rid,
                    "split": split}))
                totals.append(demand.per_device_total_bytes)
                rows[-1].append((rid, quant_id, split, demand.weights.file_bytes))
        times = len(counts)
        gpus, _ = catalog_gpu_arrays(search.catalog, self.rows * times,
                                     flash_attention=base.flash_attention != "off",
                                     interconnect=base.interconnect)
        screen = rung_screen(
            gpus, WorkloadRows.of(self.workloads * times),
            per_device_total_bytes=np.array(totals)[:, None],
            attention_flops=np.tile(self.attention_flops, (times, 1)),
            tensor=np.array(tensor)[:, None], gpu_count=np.array(gpu_count)[:, None],
            sequences=base.batch, prompt_tokens=base.prompt_tokens, new_tokens=base.new_tokens,
            hidden_size=search.arch.hidden_size, ubatch_tokens=base.ubatch_tokens,
            ram_gb_per_s=self.ram_gb_per_s, cpu_power_w=DEFAULT_CPU_POWER_W)
        return screen, rows

    def _picks(self, counts: Sequence[int]) -> dict[int, _CountPick]:
        """Each GPU's rung at each of ``counts``, as :meth:`CandidateSearch._search` picks
        it: the most faithful rank with a rung that meets the workload (the fastest of
        that rank), else the fastest rung that fits; the rungs after a rank that meets it
        are not sized. Arrays are (counts, rungs, GPUs)."""
        search = self.search
        screen, rows = self.screen(counts)
        k, cols = len(self.rows), np.arange(self.row_of.shape[1])
        runs_here = np.array([split is not None for per in rows for _, _, split, _ in per])
        # Each count's row of the screen for each rung on each GPU.
        at = (np.where(self.row_of >= 0, self.row_of, 0)
              + k * np.arange(len(counts))[:, None, None])
        fits = (self.row_of >= 0) & runs_here[at] & screen.fits[at, cols]
        # What the estimate refuses on some GPUs (one machine at several GPUs, a link the
        # card lacks) or the arrays cannot give (a figure missing): the scalar screen.
        hardware = np.stack([_hardware_ok(search.catalog,
                                          search.base.model_copy(update={"gpu_count": n}))
                             for n in counts])[:, None, :]
        scalar = (fits & ~(self.known[at % k, cols] & hardware)).any(axis=1)
        decode = screen.decode_tokens_per_s[at, cols]
        meets = fits & (screen.decode_tokens_per_s_per_sequence[at, cols]
                        >= search.min_tokens_per_s)
        never = np.iinfo(np.int64).max
        met_rank = np.where(meets, self.rank, never).min(axis=1, keepdims=True)
        runs = (fits & (self.rank <= met_rank)).sum(axis=1)
        met = met_rank[:, 0] < never
        fastest_met = np.where(meets & (self.rank == met_rank), decode, -np.inf).argmax(axis=1)
        fastest = np.where(fits, decode, -np.inf).argmax(axis=1)
        rung = np.where(met, fastest_met, np.where(fits.any(axis=1), fastest, -1))
        picked = np.take_along_axis(at, np.maximum(rung, 0)[:, None, :], axis=1)[:, 0]
        figures = np.stack([getattr(screen, name) for name in _PICKED])[:, picked, cols]
        return {n: _CountPick(
            scalar=scalar[c].tolist(), runs=runs[c].tolist(), rung=rung[c].tolist(),
            row=(picked[c] - c * k).tolist(), meets=met[c].tolist(), rows=rows[c],
            figures=list(zip(*figures[:, c].tolist()))) for c, n in enumerate(counts)}


def quant_ladder(quant: str, runtime: str, users: int, catalog: Catalog) -> list[tuple[str, str, int]]:
    if quant != "best":
        catalog.quant(quant)  # unknown ids fail here, naming the closest
        return [(runtime, quant, 0)]
    if runtime not in QUANT_LADDERS:
        raise PlanError(f"no quant ladder for runtime '{echo(runtime)}'; give --quant explicitly or "
                        f"use one of: {', '.join(QUANT_LADDERS)}", code="no_quant_ladder",
                        params={"runtime": echo(runtime), "able": ", ".join(QUANT_LADDERS)})
    rungs = [(runtime, q, i) for i, q in enumerate(QUANT_LADDERS[runtime])]
    if users > 1 and runtime in ("llama.cpp", "ollama"):
        rungs += [(BATCHING_RUNTIME, q, i) for i, q in enumerate(QUANT_LADDERS[BATCHING_RUNTIME])]
    return rungs


def workload_request(request: EstimateRequest, users: int, context_tokens: int | None) -> EstimateRequest:
    """The request with the plan's users and context; prompt + new filling the context."""
    context = context_tokens or request.allocated_context_tokens
    if context < 2:
        raise PlanError(f"context must be at least 2 tokens (got {context})",
                        code="context_too_short", params={"got": context})
    new = min(request.new_tokens or 512, context // 2) or 1
    prompt = min(request.prompt_tokens, context - new) if context_tokens is None else context - new
    return request.model_copy(update={"batch": users, "context_tokens": context,
                                      "prompt_tokens": prompt, "new_tokens": new,
                                      "gpu_count": 1, "split": None})
