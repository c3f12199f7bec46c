"""The memory and speed formulas over arrays of scenarios (numpy).

Array forms of :func:`sizing.memory.estimate_memory` and
:func:`sizing.speed.estimate_speed` in two shapes:

- every model on one GPU kind (What can I run, the catalog sweep): one
  runtime and one sequence, every row a (model, weight format) pair with its
  own context, in :mod:`sizing.model_rows` (imported by those commands only).
- one scenario on every GPU (the Configurator's table, :func:`every_gpu`):
  the device-independent terms are the scalar engine's own
  (:func:`sizing.estimate.memory_demand_for`, :func:`sizing.speed.workload`),
  the per-GPU figures (usable memory, bandwidth, compute, speed constants,
  link, board power) are arrays (:class:`GpuArrays`); batches, KV cache
  types, splits, images, offload and power caps as the estimate has them.
  ``tests/test_vector.py`` compares every field of the table GPU by GPU.
- a workload's (runtime, weight format) rungs on every GPU (the purchase
  plan's screen, :func:`rung_screen`): the per-GPU arrays of each rung stacked
  a row each and kept with the catalog (:func:`catalog_gpu_arrays`), the
  workload's terms a column (:class:`WorkloadRows`); what fits, its speed,
  time to first token and decode power. ``tests/test_candidates.py`` compares
  every rung on every GPU and count with the scalar screen.

Each formula is the scalar one term by term, in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from catalog.catalog import Catalog, runtime_api
from catalog.errors import UserError
from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.box import check_power_limit
from sizing.estimate import (DEFAULT_RAM, default_interconnect, default_split, memory_demand_for,
                             prepared_request, speed_constants)
from sizing.memory import MemoryDemand, unified_memory, usable_bytes_per_device
from sizing.power import (COMPUTE_POWER_WEIGHT, DECODE_CAP_LAW, IDLE_POWER_FRAC,
                          MEMORY_POWER_WEIGHT, MIN_CLOCK_SPEED_FRAC, REST_OF_SYSTEM_W)
from sizing.request import (EstimateRequest, check_compatibility, check_hardware,
                            check_parallel, resolve_gpu)
from sizing.speed import (DECODE_FEATURES, HOST_LINK_GB_PER_S, PREFILL_FEATURES,
                          RAM_EFFICIENCY_FRAC, SpeedConstants, SpeedUnknownError, Workload,
                          bandwidth_bytes_per_s, compute_flops_per_s, pipeline_factor,
                          ram_bandwidth_gb_per_s, workload)
from sizing.units import gb_per_s_to_bytes_per_s


def float_column(values) -> np.ndarray:
    """One float per value, as an array (the array passes' per-GPU and per-model columns)."""
    return np.array(list(values), dtype=float)


# --- one scenario over many GPUs ------------------------------------------------------


@dataclass(frozen=True)
class GpuArrays:
    """Per-GPU figures of one runtime and weight format, one entry per GPU.

    NaN where the GPU has no such figure (bandwidth or compute not published,
    no speed constant): its speed is unknown, as the scalar engine says.
    [B, B/s, FLOP/s, s, W]
    """

    gpus: tuple[Gpu, ...]  # as configured (a machine's memory size)
    usable_bytes: np.ndarray  # per device (:func:`sizing.memory.usable_bytes_per_device`)
    bandwidth_bytes_per_s: np.ndarray
    flops_per_s: np.ndarray  # the dense rate prompt matmuls run at
    decode: dict[str, np.ndarray]  # decode coefficients by feature (sizing.speed.DECODE_FEATURES)
    prefill: dict[str, np.ndarray]  # prefill coefficients by feature (sizing.speed.PREFILL_FEATURES)
    decode_band: tuple[np.ndarray, np.ndarray]  # low and high fractions
    pipeline_efficiency_frac: np.ndarray  # of a layer split's prompt pipeline
    link_bytes_per_s: np.ndarray  # between the GPUs of a split
    link_latency_s: np.ndarray
    board_power_w: np.ndarray
    offload: np.ndarray  # the runtime can keep layers in system RAM (none beside unified memory)

    @classmethod
    def of(cls, gpus: Sequence[Gpu], *, runtime: Runtime, quant: Quant,
           constants: Sequence[SpeedConstants | None], links: Sequence[tuple[float | None, float]]
           ) -> GpuArrays:
        """``constants`` per GPU (None: none resolve); ``links`` per GPU as
        (bandwidth [GB/s] or None for the host link, latency [s])."""
        nan = math.nan

        def rate(fn, *args, **kwargs) -> float:
            try:
                return fn(*args, **kwargs)
            except SpeedUnknownError:
                return nan

        decode = {name: float_column(nan if c is None else c.decode[name] for c in constants)
                  for name in DECODE_FEATURES}
        # A coefficient the constants lack weighs nothing (sizing.speed.weighted_time_s).
        prefill = {name: float_column(nan if c is None else c.prefill.get(name, 0.0) for c in constants)
                   for name in PREFILL_FEATURES}
        return cls(
            gpus=tuple(gpus), usable_bytes=float_column(usable_bytes_per_device(g, runtime) for g in gpus),
            bandwidth_bytes_per_s=float_column(rate(bandwidth_bytes_per_s, g) for g in gpus),
            flops_per_s=float_column(nan if c is None else rate(compute_flops_per_s, g, quant,
                                                        fp32_accumulate=c.fp32_accumulate)
                             for g, c in zip(gpus, constants)),
            decode=decode, prefill=prefill,
            decode_band=(float_column(nan if c is None else c.decode_band[0] for c in constants),
                         float_column(nan if c is None else c.decode_band[1] for c in constants)),
            pipeline_efficiency_frac=float_column(nan if c is None else c.pipeline_efficiency_frac
                                          for c in constants),
            link_bytes_per_s=float_column(gb_per_s_to_bytes_per_s(bw or HOST_LINK_GB_PER_S)
                                  for bw, _ in links),
            link_latency_s=float_column(latency for _, latency in links),
            board_power_w=float_column(g.board_power_w for g in gpus),
            offload=np.array([runtime.supports_offload and not unified_memory(g) for g in gpus],
                             dtype=bool))

    @classmethod
    def stack(cls, rows: Sequence[GpuArrays]) -> GpuArrays:
        """Several runtimes' or formats' arrays over the same GPUs as one, a row each:
        every array is (rows, GPUs). [as the rows]"""
        def both(values) -> np.ndarray:
            return np.stack(list(values))

        plain = ("usable_bytes", "bandwidth_bytes_per_s", "flops_per_s", "pipeline_efficiency_frac",
                 "link_bytes_per_s", "link_latency_s", "board_power_w", "offload")
        return cls(gpus=rows[0].gpus, **{name: both(getattr(r, name) for r in rows) for name in plain},
                   decode={k: both(r.decode[k] for r in rows) for k in DECODE_FEATURES},
                   prefill={k: both(r.prefill[k] for r in rows) for k in PREFILL_FEATURES},
                   decode_band=(both(r.decode_band[0] for r in rows),
                                both(r.decode_band[1] for r in rows)))


@dataclass(frozen=True)
class GpuMemory:
    """:class:`sizing.memory.MemoryEstimate`'s GPU-dependent fields, one entry per GPU. [B, layers]"""

    fits: np.ndarray
    usable_bytes: np.ndarray  # every device
    headroom_bytes: np.ndarray
    gpu_layers: np.ndarray
    offloaded_bytes: np.ndarray
    verdict: tuple[str, ...]  # fits, fits-with-offload, does-not-fit


def gpu_memory(demand: MemoryDemand, usable_bytes: np.ndarray, *, offload: np.ndarray,
               gpu_count: int, num_layers: int) -> GpuMemory:
    """:func:`sizing.memory.estimate_memory` of one scenario against each GPU's usable
    memory per device (``usable_bytes``); ``offload``: per GPU, whether layers may stay
    in system RAM (:attr:`GpuArrays.offload`). [B]"""
    n, layers = gpu_count, num_layers
    per_device_total = demand.per_device_total_bytes
    total = per_device_total * n
    usable = usable_bytes * n
    fits = per_device_total <= usable_bytes
    per_layer = (demand.weights.device_bytes + demand.kv_cache_bytes) / layers
    room = usable - n * (demand.per_device_act_bytes + demand.per_device_overhead_bytes)
    if per_layer > 0:
        on_gpu = np.minimum(np.maximum(np.floor_divide(room, per_layer), 0), layers)
    else:
        on_gpu = np.zeros_like(room)
    gpu_layers = np.where(fits, layers, on_gpu).astype(np.int64)
    offloaded = np.where(offload, (layers - gpu_layers) * per_layer, total - usable)
    offloaded = np.where(fits, 0.0, offloaded)
    with_offload = offload & (offloaded > 0) & (gpu_layers > 0)
    verdict = tuple("fits" if f else "fits-with-offload" if o else "does-not-fit"
                    for f, o in zip(fits.tolist(), with_offload.tolist()))
    return GpuMemory(fits=fits, usable_bytes=usable, headroom_bytes=usable - total,
                     gpu_layers=gpu_layers, offloaded_bytes=offloaded, verdict=verdict)


@dataclass(frozen=True)
class GpuDecode:
    """Decode of one workload on each GPU, uncapped. [tokens/s, s, 0-1]

    Speeds are NaN where unknown or nothing is generated; the utilisations are
    a decode step's shares of the peaks, which power draw follows.
    """

    decode_tokens_per_s: np.ndarray
    decode_tokens_per_s_low: np.ndarray
    decode_tokens_per_s_high: np.ndarray
    memory_util_frac: np.ndarray
    compute_util_frac: np.ndarray
    step_s: np.ndarray  # one decode step of every sequence


@dataclass(frozen=True)
class WorkloadRows:
    """:class:`sizing.speed.Workload`'s terms for several (runtime, weight format) rows
    of one workload, each a column of one entry per row. [B, parameters, layers]"""

    weight_bytes: np.ndarray
    weight_bytes_all_experts: np.ndarray
    active_params: np.ndarray
    num_layers: np.ndarray
    kv_bytes_at: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, workloads: Sequence[Workload]) -> WorkloadRows:
        def column(get) -> np.ndarray:
            return float_column(get(w) for w in workloads)[:, None]

        return cls(weight_bytes=column(lambda w: w.weight_bytes),
                   weight_bytes_all_experts=column(lambda w: w.weight_bytes_all_experts),
                   active_params=column(lambda w: w.active_params),
                   num_layers=column(lambda w: w.num_layers),
                   kv_bytes_at=(column(lambda w: w.kv_bytes_at[0]),
                                column(lambda w: w.kv_bytes_at[1])))


def _hops(gpu_count: int | np.ndarray) -> float | np.ndarray:
    """A layer split's pipeline hops, log2 of its GPU count, as :func:`math.log2` gives
    them (0 for one GPU). [count]"""
    if np.ndim(gpu_count) == 0:
        return math.log2(gpu_count) if gpu_count > 1 else 0.0
    counts = np.asarray(gpu_count)
    return np.array([math.log2(x) if x > 1 else 0.0
                     for x in counts.ravel().tolist()]).reshape(counts.shape)


def _allreduce_s(g: GpuArrays, *, num_layers, gpu_count: int | np.ndarray, hidden_size: int,
                 tokens: int) -> np.ndarray:
    """Two ring all-reduces per layer of ``tokens`` fp16 activation rows, as
    :func:`sizing.speed.estimate_speed`'s. [s]"""
    n = gpu_count
    payload = hidden_size * 2.0 * tokens
    return 2 * num_layers * (g.link_latency_s + 2 * (n - 1) / n * payload / g.link_bytes_per_s)


def gpu_decode(w: Workload | WorkloadRows, g: GpuArrays, *, new_tokens: int, sequences: int,
               gpu_count: int | np.ndarray, tensor: bool | np.ndarray, hidden_size: int,
               offloaded_frac: np.ndarray | float, ram_gb_per_s: float) -> GpuDecode:
    """Decode speed of one workload on each GPU, as :func:`sizing.speed.estimate_speed`.

    ``tensor``: a tensor split over more than one GPU. With :class:`WorkloadRows`,
    ``g`` stacked (:meth:`GpuArrays.stack`) and ``tensor`` and ``gpu_count`` columns,
    every row at once.
    """
    n, c, bw, flops = gpu_count, g.decode, g.bandwidth_bytes_per_s, g.flops_per_s
    # Terms that vanish (no tensor split, nothing offloaded, a dense model) are not
    # computed: adding their zero changes no bit.
    split = bool(np.any(tensor))
    off = np.asarray(offloaded_frac, dtype=float)
    offload = bool(np.any(off > 0))
    kv_avg = 0.5 * (w.kv_bytes_at[0] + w.kv_bytes_at[1]) * sequences
    hops = _hops(n)
    memory_s = c["weights"] * (w.weight_bytes / bw) + c["kv"] * (kv_avg / bw)
    bytes_per_step = w.weight_bytes + 0.5 * (w.kv_bytes_at[0] + w.kv_bytes_at[1]) * sequences
    compute_s = g.prefill["compute"] * 2.0 * w.active_params * sequences / flops
    devices_bw = bw
    decode_allreduce_s = ram_s = 0.0
    if split:
        hops = np.where(tensor, 0.0, hops)
        memory_s = np.where(tensor, memory_s / n, memory_s)
        compute_s = np.where(tensor, compute_s / n, compute_s)
        decode_allreduce_s = np.where(tensor, _allreduce_s(
            g, num_layers=w.num_layers, gpu_count=n, hidden_size=hidden_size, tokens=sequences), 0.0)
        devices_bw = bw * np.where(tensor, n, 1)
    read_s = bytes_per_step / devices_bw  # the step at the speed of light
    if offload:
        ram = gb_per_s_to_bytes_per_s(ram_gb_per_s)
        memory_s = np.where(off > 0, memory_s * (1.0 - off), memory_s)
        ram_s = np.where(off > 0, off * bytes_per_step / (ram * RAM_EFFICIENCY_FRAC), 0.0)
        read_s = bytes_per_step * (1 - off) / devices_bw
        sol_step_s = read_s + (off * bytes_per_step / ram)
    else:
        sol_step_s = read_s
    step_s = (np.maximum(memory_s, compute_s) + ram_s + c["layers"] * (w.num_layers * 1.0)
              + c["hops"] * hops + decode_allreduce_s)
    sol = sequences / sol_step_s
    decode = low = high = np.full(np.shape(step_s), np.nan)
    if new_tokens > 0:
        decode = np.minimum(sequences / step_s, sol)
        low = decode * g.decode_band[0]
        moe = w.weight_bytes_all_experts > w.weight_bytes * 1.01
        if np.any(moe):
            # MoE: measured runtimes land between the active-bytes and full-bytes bounds.
            full_step = step_s + c["weights"] * (w.weight_bytes_all_experts - w.weight_bytes) / (
                devices_bw)
            low = np.where(moe, np.minimum(low, sequences / full_step), low)
        high = np.minimum(decode * g.decode_band[1], sol)
    return GpuDecode(
        decode_tokens_per_s=decode, decode_tokens_per_s_low=low, decode_tokens_per_s_high=high,
        memory_util_frac=np.minimum(1.0, read_s / step_s),
        compute_util_frac=np.minimum(1.0, (2.0 * w.active_params * sequences / flops) / step_s),
        step_s=step_s)


def uncapped_decode_power_w(*, board_power_w: np.ndarray, memory_util_frac: np.ndarray,
                            compute_util_frac: np.ndarray) -> np.ndarray:
    """Each GPU's draw while decoding without a cap, as :func:`sizing.power.gpu_power_w`. [W]"""
    idle_w = IDLE_POWER_FRAC * board_power_w
    dynamic = np.minimum(1.0, MEMORY_POWER_WEIGHT * memory_util_frac
                         + COMPUTE_POWER_WEIGHT * compute_util_frac)
    return idle_w + (board_power_w - idle_w) * dynamic


def decode_speed_frac_at_limit(*, board_power_w: np.ndarray, power_limit_w: float | None,
                               memory_util_frac: np.ndarray, compute_util_frac: np.ndarray
                               ) -> np.ndarray:
    """Decode speed under a power cap relative to uncapped, per GPU, as
    :func:`sizing.box.box_for` gives it. [0-1]

    The utilisations are the share of each GPU's peaks its decode reaches
    (already scaled by a layer split's turn-taking).
    """
    if not power_limit_w:
        return np.ones_like(board_power_w)
    uncapped_w = uncapped_decode_power_w(board_power_w=board_power_w,
                                         memory_util_frac=memory_util_frac,
                                         compute_util_frac=compute_util_frac)
    x = power_limit_w / uncapped_w
    law = DECODE_CAP_LAW
    frac = np.maximum(MIN_CLOCK_SPEED_FRAC,
                      np.minimum(x ** law.exponent, law.slope * (x - law.floor_frac)))
    return np.where(x >= 1.0, 1.0, frac)


@dataclass(frozen=True)
class GpuSweep:
    """One scenario on each GPU it runs on, as :func:`sizing.estimate.estimate` answers it
    there: one entry per GPU. [B, tokens/s]

    Decode speeds are NaN where the scalar engine has none (speed unknown, or
    nothing generated); a power cap has already slowed them.
    """

    gpus: tuple[Gpu, ...]  # as configured: memory size and that size's price
    gpu_count: int
    memory: GpuMemory
    decode_tokens_per_s: np.ndarray
    decode_tokens_per_s_low: np.ndarray
    decode_tokens_per_s_high: np.ndarray
    decode_speed_frac_at_limit: np.ndarray  # under the power cap; 1 without a cap or a speed


def _runs_on(request: EstimateRequest, catalog: Catalog, runtime: Runtime,
             gpu_id: str) -> Gpu | None:
    """The GPU as configured when the scenario runs on it, else None: the checks of
    :func:`sizing.estimate.estimate` that depend on the GPU."""
    gpu = catalog.gpu(gpu_id)
    if runtime_api(runtime, gpu) is None:
        return None
    try:
        check_hardware(request, catalog, gpu)
        if gpu_id == request.gpu:
            gpu = resolve_gpu(request, catalog)  # the memory size chosen, and its price
        catalog.cooler(request.cooler or gpu.cooler.value)
        check_power_limit(gpu, request.power_limit_w)
    except UserError:
        return None
    return gpu


def every_gpu(request: EstimateRequest, catalog: Catalog, arch: ModelArch,
              gpu_ids: Sequence[str]) -> GpuSweep:
    """The scenario on each of ``gpu_ids`` it runs on, in that order; the request's
    own GPU keeps its memory size. [B, tokens/s]

    Raises what :func:`sizing.estimate.estimate` raises for every GPU alike (a
    UserError: images for a text model, a GPU count the model cannot split over).
    """
    request, _, _ = prepared_request(request, arch)
    split = default_split(request, catalog)
    check_parallel(request, catalog, arch, split)
    runtime, quant = catalog.runtime(request.runtime), catalog.quant(request.quant)
    fa = request.flash_attention != "off"
    chosen, constants, links = [], [], []
    # Constants depend on the GPU only through its API, memory family and generation.
    resolved: dict[tuple, SpeedConstants | None] = {}
    for gpu_id in gpu_ids:
        gpu = _runs_on(request, catalog, runtime, gpu_id)
        if gpu is None:
            continue
        if not chosen:  # the checks that are the same on every GPU, once
            check_compatibility(request.model_copy(update={"gpu": gpu_id, "memory_gib": None}),
                                catalog)
            catalog.storage_class(request.storage or "nvme-gen4")
        key = (runtime_api(runtime, gpu), gpu.memory_type, gpu.segment, gpu.architecture)
        if key not in resolved:
            try:
                resolved[key] = speed_constants(catalog, gpu, runtime, quant.kind, flash_attention=fa)
            except SpeedUnknownError:
                resolved[key] = None
        try:
            link = catalog.interconnect(request.interconnect or default_interconnect(gpu))
        except UserError:
            if resolved[key] is not None:
                continue  # the estimate fails looking the link up
            link = None
        chosen.append(gpu)
        constants.append(resolved[key])
        links.append((None, 0.0) if link is None else (link.bandwidth_gb_per_s, link.latency_s))
    g = GpuArrays.of(chosen, runtime=runtime, quant=quant, constants=constants, links=links)
    n = request.gpu_count
    memory = gpu_memory(memory_demand_for(request, catalog, arch), g.usable_bytes,
                        offload=g.offload, gpu_count=n, num_layers=arch.num_layers)
    # Layers kept in system RAM; a GPU that holds none of them, or one the
    # runtime cannot offload beside, has no speed.
    runs = memory.fits | (g.offload & (memory.gpu_layers > 0))
    offloaded_frac = np.where(memory.fits, 0.0, 1.0 - memory.gpu_layers / arch.num_layers)
    w = workload(arch, quant, prompt_tokens=request.prompt_tokens,
                 new_tokens=max(request.new_tokens, 1),
                 kv_bytes_per_element=catalog.kv_cache_type(request.kv_cache).bytes_per_element,
                 embeddings_on_host=runtime.embeddings_on_host)
    tensor = split == "tensor"
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = gpu_decode(w, g, new_tokens=request.new_tokens, sequences=request.batch,
                           gpu_count=n, tensor=tensor and n > 1, hidden_size=arch.hidden_size,
                           offloaded_frac=offloaded_frac,
                           ram_gb_per_s=ram_bandwidth_gb_per_s(request.ram or DEFAULT_RAM))
        share = 1.0 if tensor or n == 1 else 1.0 / n  # a layer split decodes one GPU at a time
        frac = decode_speed_frac_at_limit(
            board_power_w=g.board_power_w, power_limit_w=request.power_limit_w,
            memory_util_frac=speed.memory_util_frac * share,
            compute_util_frac=speed.compute_util_frac * share)
    frac = np.where(runs & np.isfinite(frac), frac, 1.0)

    def capped(tokens_per_s: np.ndarray) -> np.ndarray:
        return np.where(runs, tokens_per_s * frac, np.nan)

    return GpuSweep(gpus=g.gpus, gpu_count=n, memory=memory,
                    decode_tokens_per_s=capped(speed.decode_tokens_per_s),
                    decode_tokens_per_s_low=capped(speed.decode_tokens_per_s_low),
                    decode_tokens_per_s_high=capped(speed.decode_tokens_per_s_high),
                    decode_speed_frac_at_limit=frac)


# --- a plan's screen: a workload's rungs on every GPU ------------------------------------


# Screen arrays kept with a catalog (rungs x links x flash attention, and their
# stacks); beyond these they are dropped and built again, so a long-running server
# holds a bounded amount.
MAX_KEPT_SCREENS = 256


def kept_with(catalog: Catalog, name: str) -> dict:
    """:meth:`catalog.catalog.Catalog.derived`, emptied once it holds
    :data:`MAX_KEPT_SCREENS` entries."""
    kept = catalog.derived(name)
    if len(kept) >= MAX_KEPT_SCREENS:
        kept.clear()
    return kept


def catalog_gpu_arrays(catalog: Catalog, rungs: Sequence[tuple[str, str]], *,
                       flash_attention: bool, interconnect: str | None
                       ) -> tuple[GpuArrays, np.ndarray]:
    """(runtime, weight format) rungs on every catalog GPU at its listed memory size,
    stacked a row each (:meth:`GpuArrays.stack`) and kept with the catalog; with, per
    rung and GPU, whether every figure the speed needs is known (speed constants,
    bandwidth, compute, the link between the GPUs), so that the arrays give the
    scalar engine's answer. [as GpuArrays]

    ``interconnect``: the link asked for, None for each GPU's usual one
    (:func:`sizing.estimate.default_interconnect`).
    """
    kept = kept_with(catalog, "gpu arrays")
    key = (tuple(rungs), flash_attention, interconnect)
    found = kept.get(key)  # read once: another session may empty the dict meanwhile
    if found is None:
        rows = []
        for rung in rungs:
            one = kept.get((rung, flash_attention, interconnect))
            if one is None:
                one = kept[rung, flash_attention, interconnect] = _gpu_arrays(
                    catalog, *rung, flash_attention=flash_attention, interconnect=interconnect)
            rows.append(one)
        found = kept[key] = (GpuArrays.stack([g for g, _ in rows]),
                             np.stack([k for _, k in rows]))
    return found


def _gpu_arrays(catalog: Catalog, runtime_id: str, quant_id: str, *, flash_attention: bool,
                interconnect: str | None) -> tuple[GpuArrays, np.ndarray]:
    runtime, quant = catalog.runtime(runtime_id), catalog.quant(quant_id)
    constants, links, linked = [], [], []
    for gpu in catalog.gpus:
        try:
            constants.append(speed_constants(catalog, gpu, runtime, quant.kind,
                                             flash_attention=flash_attention))
        except SpeedUnknownError:
            constants.append(None)
        try:
            link = catalog.interconnect(interconnect or default_interconnect(gpu))
        except UserError:  # the scalar engine fails looking the link up
            links.append((None, 0.0))
            linked.append(False)
        else:
            links.append((link.bandwidth_gb_per_s, link.latency_s))
            linked.append(True)
    g = GpuArrays.of(catalog.gpus, runtime=runtime, quant=quant, constants=constants, links=links)
    known = (np.array(linked, dtype=bool) & np.isfinite(g.bandwidth_bytes_per_s)
             & np.isfinite(g.flops_per_s) & np.isfinite(g.decode["weights"]))
    return g, known


@dataclass(frozen=True)
class RungScreen:
    """A workload's (runtime, weight format) rungs, each at a GPU count, on every GPU, as
    the scalar engine sizes a configuration that fits (nothing offloaded, no power cap):
    what a plan picks a rung and assembles a build by. Arrays are (rows, GPUs); the
    figures of a row that does not fit mean nothing. [B, tokens/s, s, W]"""

    fits: np.ndarray
    total_bytes: np.ndarray  # every device
    usable_bytes: np.ndarray  # every device
    headroom_bytes: np.ndarray
    decode_tokens_per_s: np.ndarray  # every sequence together
    decode_tokens_per_s_low: np.ndarray
    decode_tokens_per_s_high: np.ndarray
    decode_tokens_per_s_per_sequence: np.ndarray
    prefill_tokens_per_s: np.ndarray  # NaN without a prompt
    ttft_s: np.ndarray
    gpu_power_w: np.ndarray  # each GPU while decoding, uncapped
    system_power_w: np.ndarray  # the whole machine while decoding

    def take(self, rows: slice) -> RungScreen:
        """The screen of ``rows`` only."""
        return RungScreen(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def rung_screen(g: GpuArrays, w: WorkloadRows, *, per_device_total_bytes: np.ndarray,
                attention_flops: np.ndarray, tensor: np.ndarray, gpu_count: np.ndarray,
                sequences: int, prompt_tokens: int, new_tokens: int, hidden_size: int,
                ubatch_tokens: int, ram_gb_per_s: float, cpu_power_w: float) -> RungScreen:
    """Memory fit, speed and decode power of each rung on each GPU, as
    :func:`sizing.memory.estimate_memory`, :func:`sizing.speed.estimate_speed` and
    :func:`sizing.box.decode_gpu_power_w` give them. [B, tokens/s, s, W]

    ``g``: stacked rows (:func:`catalog_gpu_arrays`); ``w``, ``per_device_total_bytes``
    (:class:`sizing.memory.MemoryDemand`), ``attention_flops``
    (:func:`sizing.speed.attention_flops` of the prompt), ``tensor`` (a tensor split
    over more than one GPU) and ``gpu_count``: a column, one entry per row (a rung at
    a GPU count).
    """
    n = gpu_count
    shape = np.broadcast_shapes(g.usable_bytes.shape, tensor.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = gpu_decode(w, g, new_tokens=new_tokens, sequences=sequences, gpu_count=n,
                       tensor=tensor, hidden_size=hidden_size, offloaded_frac=0.0,
                       ram_gb_per_s=ram_gb_per_s)
        prefill, prefill_s = np.full(shape, np.nan), 0.0
        if prompt_tokens > 0:
            flops, bw, p = g.flops_per_s, g.bandwidth_bytes_per_s, g.prefill
            tokens = prompt_tokens * sequences
            ubatches = math.ceil(tokens / ubatch_tokens)
            # sizing.speed.prefill_features weighted as sizing.speed.weighted_time_s sums them
            prefill_s = ((2.0 * w.active_params * tokens / flops) * p["compute"]
                         + (attention_flops * sequences / flops) * p["attention"]
                         + (ubatches * w.weight_bytes_all_experts / bw) * p["ubatch_weights"]
                         + (ubatches * w.num_layers * 1.0) * p["ubatch_layers"])
            if np.any(tensor):
                allreduce_s = _allreduce_s(g, num_layers=w.num_layers, gpu_count=n,
                                           hidden_size=hidden_size, tokens=ubatch_tokens)
                split_s = prefill_s / n + ubatches * allreduce_s
            if np.any((n > 1) & ~tensor):  # a layer split pipelines its micro-batches
                factor = _pipeline_factor(g.pipeline_efficiency_frac, prompt_tokens=prompt_tokens,
                                          gpu_count=n, ubatch_tokens=ubatch_tokens)
                prefill_s = prefill_s * factor  # 1 for one GPU
            if np.any(tensor):
                prefill_s = np.where(tensor, split_s, prefill_s)
            prefill = tokens / prefill_s
        ttft = prefill_s + (d.step_s if new_tokens > 0 else 0.0)
        # A layer split decodes on one GPU at a time: each is busy 1/N of the step.
        share = np.where(tensor, 1.0, 1.0 / n)
        gpu_w = uncapped_decode_power_w(board_power_w=g.board_power_w,
                                        memory_util_frac=d.memory_util_frac * share,
                                        compute_util_frac=d.compute_util_frac * share)
    usable = g.usable_bytes * n
    total = per_device_total_bytes * n
    return RungScreen(
        fits=per_device_total_bytes <= g.usable_bytes, total_bytes=np.broadcast_to(total, shape),
        usable_bytes=usable, headroom_bytes=usable - total,
        decode_tokens_per_s=d.decode_tokens_per_s, decode_tokens_per_s_low=d.decode_tokens_per_s_low,
        decode_tokens_per_s_high=d.decode_tokens_per_s_high,
        decode_tokens_per_s_per_sequence=d.decode_tokens_per_s / sequences,
        prefill_tokens_per_s=prefill, ttft_s=ttft,
        gpu_power_w=gpu_w, system_power_w=gpu_w * n + cpu_power_w + REST_OF_SYSTEM_W)


def _pipeline_factor(efficiency_frac: np.ndarray, *, gpu_count: np.ndarray, **kwargs
                     ) -> np.ndarray:
    """:func:`sizing.speed.pipeline_factor` for each entry's efficiency and GPU count.
    [fraction]"""
    shape = np.broadcast_shapes(efficiency_frac.shape, np.shape(gpu_count))
    e, n = np.broadcast_to(efficiency_frac, shape), np.broadcast_to(gpu_count, shape)
    out = np.full(shape, np.nan)
    for count in np.unique(n).tolist():
        for frac in np.unique(e[np.isfinite(e)]).tolist():
            out[(n == count) & (e == frac)] = pipeline_factor(
                efficiency_frac=frac, gpu_count=count, **kwargs)
    return out
