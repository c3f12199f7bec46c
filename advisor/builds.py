"""One complete, checked machine around a GPU configuration.

:func:`assembly` takes the engine's best configuration on some cards
(:class:`~advisor.candidates.Candidate`) and picks the cheapest platform,
case, RAM, drive and PSU that pass every check: PCIe lanes and slot spacing
for the cards, PSU watts and connectors, the wall circuit, and the GPU
temperature while decoding. Speed, power and temperature come from the engine.
It returns an :class:`Assembly`, which carries what builds are chosen by; the
full :class:`~advisor.results.Build` record's fields (bill of materials, checks,
temperatures) are worked out from it on demand, which a plan does only for the
few builds it shows. :func:`assemble` is both steps at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.candidates import Candidate
from advisor.parts import (DEFAULT_SLOT_WIDTH, MIN_LANES_LAYER, MIN_LANES_TENSOR, PCIE_8PIN_PER_EPS,
                           PSU_EFFICIENCY_FRAC, STORAGE_SPARE_GB, GpuOption, Layout, Platform, Shop,
                           cannot_beat, cheapest_storage, psu_rating_w)
from advisor.results import Build, BuildChecks, Part
from catalog.catalog import Catalog
from catalog.market import Case, Market, Psu, RamKit, Storage
from catalog.schema import Gpu
from sizing.notices import Notice
from sizing.power import REST_OF_SYSTEM_W, wall_power_w
from sizing.system import (WallCircuitCheck, cpu_guidance, psu_recommended_w,
                           ram_recommended_bytes, required_power_connectors, wall_circuit_check)
from sizing.thermal import GpuThermal, gpu_thermal
from sizing.units import bytes_to_gb


@dataclass(frozen=True)
class BuildSettings:
    """What every build of one plan shares."""

    users: int
    min_tokens_per_s: float
    volts: float
    amps: float
    units_per_usd: float
    ambient_c: float
    shop: Shop  # the market's part choices, remembered across the plan's builds
    # The price-independent half of each machine search (:class:`_Frame`), by GPU,
    # count, split and model file: a card's new and used offers, a shown build's
    # second assembly and the next plan on the same model ask the same questions
    # of every platform (:func:`machine_frames`).
    frames: dict[tuple, _Frame] = field(default_factory=dict, compare=False)


# Machine frames kept with a catalog for one wall circuit and room, and circuits and
# rooms kept; beyond these (several models' and sessions' worth) they are dropped and
# found again, so a long-running server holds a bounded amount.
MAX_KEPT_FRAMES = 4096
MAX_KEPT_SETTINGS = 16
# Machines kept per frame (card prices x GPU draws).
MAX_KEPT_MACHINES = 64


def machine_frames(catalog: Catalog, *, volts: float, amps: float, ambient_c: float
                   ) -> dict[tuple, _Frame]:
    """The machine frames of plans on this catalog, wall circuit and ambient temperature.

    A frame depends on the catalog's parts and prices, the card, the count, the
    split, the model file's size, the circuit (PSU rating, wall check) and the
    room (temperatures) alone, so plans that differ in anything else share them.
    """
    kept = catalog.derived("machine frames")
    if (volts, amps, ambient_c) not in kept and len(kept) >= MAX_KEPT_SETTINGS:
        kept.clear()
    frames = kept.setdefault((volts, amps, ambient_c), {})
    if len(frames) > MAX_KEPT_FRAMES:
        frames.clear()
    return frames


@dataclass(frozen=True)
class _Fit:
    """A platform's parts around some cards, whatever the cards cost."""

    platform: Platform
    layout: Layout
    case: Case
    ram: RamKit
    psu: Psu
    psu_needed_w: float
    wall: WallCircuitCheck
    efficiency_frac: float
    parts_usd: float  # every part but the GPUs [USD]


@dataclass
class _Frame:
    """What a machine around ``gpu_count`` of one card needs, and each platform's parts."""

    min_cores: int
    need_8pin: int
    connector_12v_2x6: int
    ram_gib: float
    storage: Storage | None
    fits: dict[int, _Fit | None]  # by platform index; absent: not asked yet
    thermals: dict[tuple[float, bool], tuple[GpuThermal, GpuThermal]]  # decoding, full power
    checks: dict[tuple[int, float, bool], BuildChecks]  # by platform, GPU draw, memory fits
    # The machine found, by card price and GPU draw while decoding (all it depends on
    # besides the frame): plans on other contexts or users often ask the same again.
    machines: dict[tuple[float, float], _Machine | None]


@dataclass(frozen=True)
class _Machine:
    """The parts of the cheapest valid machine found so far."""

    total_usd: float
    index: int  # the platform's
    fit: _Fit
    decode: GpuThermal
    full: GpuThermal


def _frame(gpu: Gpu, n: int, split: str, file_bytes: float, market: Market,
           s: BuildSettings) -> _Frame:
    key = (gpu.id, n, split, file_bytes)
    if key not in s.frames:
        conn = required_power_connectors(gpu_connectors=[gpu.power_connectors] * n)
        ram = ram_recommended_bytes(offloaded_bytes=0.0, model_file_bytes=file_bytes)
        s.frames[key] = _Frame(
            min_cores=cpu_guidance(gpu_count=n).min_physical_cores,
            need_8pin=(conn.pcie_8pin_count + conn.pcie_6pin_count
                       + PCIE_8PIN_PER_EPS * conn.eps_8pin_count),
            connector_12v_2x6=conn.pcie_12v_2x6_count, ram_gib=ram.recommended_gib,
            storage=cheapest_storage(market.storage, bytes_to_gb(file_bytes) + STORAGE_SPARE_GB),
            fits={}, thermals={}, checks={}, machines={})
    return s.frames[key]


def _fit(p: Platform, gpu: Gpu, n: int, min_lanes: int, f: _Frame, storage: Storage,
         s: BuildSettings) -> _Fit | None:
    """The cheapest case, RAM and PSU on this platform that pass every check, or None."""
    layout = s.shop.layout(p, gpu_count=n, slot_width=gpu.slot_width or DEFAULT_SLOT_WIDTH,
                           gpu_lanes=gpu.pcie_lanes or 16, min_lanes=min_lanes)
    if layout is None:
        return None
    case = s.shop.case(p.board, layout.case_slots_needed)
    ram = s.shop.ram(p.board, f.ram_gib)
    if case is None or ram is None:
        return None
    board_total_w = gpu.board_power_w * n
    sustained_w = board_total_w + p.cpu.tdp_w + REST_OF_SYSTEM_W
    rec = psu_recommended_w(sustained_system_w=sustained_w, gpu_board_power_w_total=board_total_w)
    psu = s.shop.psu(rec.needed_w, s.volts, f.need_8pin, f.connector_12v_2x6)
    if psu is None:
        return None
    efficiency = PSU_EFFICIENCY_FRAC[psu.efficiency]
    wall = wall_circuit_check(system_power_w=sustained_w, volts=s.volts, amps=s.amps,
                              psu_efficiency_frac=efficiency)
    if not wall.ok:
        return None
    parts_usd = (p.cpu.price.usd + p.board.price.usd + p.cooler.price.usd + case.price.usd
                 + ram.price.usd + storage.price.usd + psu.price.usd)
    return _Fit(platform=p, layout=layout, case=case, ram=ram, psu=psu, psu_needed_w=rec.needed_w,
                wall=wall, efficiency_frac=efficiency, parts_usd=parts_usd)


def _checks(gpu: Gpu, f: _Frame, fit: _Fit, decode_t: GpuThermal, full_t: GpuThermal, *,
            memory_ok: bool, volts: float) -> BuildChecks:
    """The checks a machine passes, with its notes (the same for every offer of the card)."""
    p, layout, case, psu = fit.platform, fit.layout, fit.case, fit.psu
    width = gpu.slot_width or DEFAULT_SLOT_WIDTH
    notes: list[Notice] = []
    if gpu.slot_width is None:
        notes.append(Notice(
            "build_slot_width_assumed", f"Slot width of {gpu.name} not in the catalog; "
            f"assumed {DEFAULT_SLOT_WIDTH:g} slots.", gpu=gpu.name,
            slots=f"{DEFAULT_SLOT_WIDTH:g}"))
    if layout.stacked:
        notes.append(Notice(
            "build_stacked", "Cards sit with no free slot between them: "
            f"{decode_t.stacking_penalty_k:.0f} K hotter.",
            kelvin=f"{decode_t.stacking_penalty_k:.0f}"))
    if full_t.throttle_risk == "high":
        notes.append(Notice(
            "build_full_power_hot", f"At full board power (long prompts) the cards reach "
            f"{full_t.temp_c:.0f} C and may throttle.", temp_c=f"{full_t.temp_c:.0f}"))
    if min(layout.lanes_each) < 8:
        notes.append(Notice(
            "build_pcie_narrow", f"A GPU runs at PCIe x{min(layout.lanes_each)}: fine for "
            "layer split, slower model loading.", lanes=min(layout.lanes_each)))
    if f.connector_12v_2x6 > psu.connector_12v_2x6_count:
        notes.append(Notice("build_12v_2x6_adapters",
                            "Some 12V-2x6 plugs go through 8-pin adapters."))
    notes.append(Notice(
        "build_card_length", "Card length is not in the catalog: check the case's GPU "
        f"clearance ({case.max_gpu_length_mm:.0f} mm).",
        length_mm=f"{case.max_gpu_length_mm:.0f}"))
    return BuildChecks(
        memory_ok=memory_ok, pcie_lanes_needed=layout.cpu_lanes_used,
        pcie_lanes_available=p.cpu.pcie_lanes, gpu_lanes_each=list(layout.lanes_each),
        pcie_lanes_ok=True, card_slot_width=width, slot_pitch=layout.pitch,
        stacked_without_gap=layout.stacked, slots_ok=True,
        case_slots_needed=layout.case_slots_needed,
        case_slots_available=case.expansion_slots, psu_needed_w=fit.psu_needed_w,
        psu_w=psu_rating_w(psu, volts=volts), psu_w_ok=True, pcie_8pin_needed=f.need_8pin,
        connector_12v_2x6_needed=f.connector_12v_2x6, psu_connectors_ok=True,
        wall_w=fit.wall.wall_w, wall_limit_w=fit.wall.continuous_limit_w, wall_circuit_ok=True,
        thermal_ok=True, notes=notes)


def _machine(gpu: Gpu, unit_usd: float, n: int, gpu_w: float, min_lanes: int, f: _Frame,
             storage: Storage, plats: Sequence[Platform], catalog: Catalog, s: BuildSettings
             ) -> _Machine | None:
    """The cheapest platform and parts around ``n`` cards that pass every check, or None."""
    best: _Machine | None = None
    gpus_and_drive_usd = unit_usd * n + storage.price.usd
    for i, p in enumerate(plats):
        if best is not None and cannot_beat(gpus_and_drive_usd + p.base_usd
                                            + s.shop.parts_floor_usd, best.total_usd):
            break  # skipped below anyway (total >= best), here and on every later platform
        if p.cpu.cores < f.min_cores:
            continue
        if i not in f.fits:
            f.fits[i] = _fit(p, gpu, n, min_lanes, f, storage, s)
        fit = f.fits[i]
        if fit is None:
            continue
        total = unit_usd * n + fit.parts_usd
        if best is not None and total >= best.total_usd:
            continue
        stacked = fit.layout.stacked
        if (gpu_w, stacked) not in f.thermals:
            cooler_rec = catalog.cooler(gpu.cooler.value)
            f.thermals[gpu_w, stacked] = tuple(
                gpu_thermal(ambient_c=s.ambient_c, gpu_power_w=w, cooler=cooler_rec,
                            board_power_w=gpu.board_power_w, stacked_without_gap=stacked)
                for w in (gpu_w, gpu.board_power_w))
        decode_t, full_t = f.thermals[gpu_w, stacked]
        if decode_t.throttle_risk == "high":
            continue
        best = _Machine(total_usd=total, index=i, fit=fit, decode=decode_t, full=full_t)
    return best


@dataclass(slots=True, eq=False)
class Assembly:
    """The cheapest valid machine around a configuration, before its full record is made.

    The first fields are the :class:`~advisor.results.Build` fields a plan chooses
    by (the same values); :meth:`fields` works out all of them, once, and
    :meth:`build` makes the record.
    """

    gpu_id: str
    gpu_name: str
    gpu_count: int
    gpu_segment: str
    gpu_used: bool
    quant: str
    total_usd: float  # [USD]
    meets_workload: bool
    decode_tokens_per_s: float | None  # aggregate over all users [tokens/s]
    decode_tokens_per_s_per_user: float | None  # [tokens/s]
    prefill_tokens_per_s: float | None  # [tokens/s]
    tokens_per_s_per_kusd: float | None  # aggregate decode (an encoder: prefill) per 1,000 USD
    gpu_power_w: float  # each GPU while decoding [W]
    task: str
    option: GpuOption
    cand: Candidate
    machine: _Machine
    frame: _Frame
    settings: BuildSettings
    made: dict[str, object] | None = field(default=None, repr=False)

    def fields(self) -> dict[str, object]:
        """The full build record's fields (:class:`~advisor.results.Build`): bill of
        materials, checks, power and temperatures."""
        if self.made is None:
            self.made = _fields_of(self)
        return self.made

    def build(self) -> Build:
        """The full build record."""
        return Build(**self.fields())


BuildLike = Build | Assembly


def build_fields(b: BuildLike) -> dict[str, object]:
    """The fields of a build's full record, from the record or from an assembly (which
    a record made from them, a :class:`~advisor.results.TierBuild` say, validates once)."""
    return b.fields() if isinstance(b, Assembly) else dict(b)


def assemble(option: GpuOption, cand: Candidate, plats: Sequence[Platform], market: Market,
             catalog: Catalog, s: BuildSettings) -> Build | None:
    """The cheapest valid complete build around these GPUs, or None."""
    found = assembly(option, cand, plats, market, catalog, s)
    return None if found is None else found.build()


def assembly(option: GpuOption, cand: Candidate, plats: Sequence[Platform], market: Market,
             catalog: Catalog, s: BuildSettings) -> Assembly | None:
    """The cheapest valid machine around these GPUs, or None (:class:`Assembly`)."""
    gpu, n = option.gpu, cand.gpu_count
    est = cand.figures
    min_lanes = MIN_LANES_TENSOR if cand.split == "tensor" else MIN_LANES_LAYER
    f = _frame(gpu, n, cand.split, est.memory.file_bytes, market, s)
    storage = f.storage
    if storage is None:
        return None
    gpu_w = est.gpu_power_w
    key = (option.unit_usd, gpu_w)
    if key not in f.machines:
        if len(f.machines) >= MAX_KEPT_MACHINES:
            f.machines.clear()
        f.machines[key] = _machine(gpu, option.unit_usd, n, gpu_w, min_lanes, f, storage, plats,
                                   catalog, s)
    best = f.machines[key]
    if best is None:
        return None
    total = best.total_usd
    speed = est.speed
    decode = speed.decode_tokens_per_s if speed else None
    prefill = speed.prefill_tokens_per_s if speed else None
    throughput = decode if cand.task == "generate" else prefill  # an encoder: prefill
    return Assembly(
        gpu_id=gpu.id, gpu_name=gpu.name, gpu_count=n, gpu_segment=gpu.segment.value,
        gpu_used=option.used, quant=cand.quant, total_usd=total,
        meets_workload=cand.meets_workload, decode_tokens_per_s=decode,
        decode_tokens_per_s_per_user=cand.decode_tokens_per_s_per_user,
        prefill_tokens_per_s=prefill,
        tokens_per_s_per_kusd=throughput / total * 1000.0 if throughput else None,
        gpu_power_w=gpu_w, task=cand.task, option=option, cand=cand, machine=best, frame=f,
        settings=s)


def _fields_of(a: Assembly) -> dict[str, object]:
    """The full record's fields of an assembly."""
    option, cand, f, s = a.option, a.cand, a.frame, a.settings
    gpu, n, est = option.gpu, a.gpu_count, cand.figures
    gpu_w = a.gpu_power_w
    fit = a.machine.fit
    p, case, ram, psu = fit.platform, fit.case, fit.ram, fit.psu
    decode_t, full_t, total = a.machine.decode, a.machine.full, a.total_usd
    key = (a.machine.index, gpu_w, est.memory.fits)
    if key not in f.checks:
        f.checks[key] = _checks(gpu, f, fit, decode_t, full_t, memory_ok=est.memory.fits,
                                volts=s.volts)
    checks = f.checks[key]
    parts = [
        Part(kind="gpu", id=gpu.id, name=gpu.name + (" (used)" if option.used else ""),
             quantity=n, unit_usd=option.unit_usd, total_usd=option.unit_usd * n,
             used=option.used, source=option.source),
        s.shop.part("cpu", p.cpu),
        s.shop.part("motherboard", p.board, name=f"{p.board.name} (e.g. {p.board.example})"),
        s.shop.part("ram", ram), s.shop.part("storage", f.storage), s.shop.part("psu", psu),
        s.shop.part("case", case), s.shop.part("cpu-cooler", p.cooler)]
    speed = est.speed
    system_w = est.system_power_w
    mem = est.memory
    return dict(
        gpu_id=a.gpu_id, gpu_name=a.gpu_name, gpu_count=n, gpu_segment=a.gpu_segment,
        gpu_used=a.gpu_used, quant=a.quant, runtime=cand.runtime, split=cand.split,
        parts=parts, total_usd=total, total_in_currency=total * s.units_per_usd,
        fits=mem.fits, meets_workload=a.meets_workload,
        decode_tokens_per_s=a.decode_tokens_per_s,
        decode_tokens_per_s_low=speed.decode_tokens_per_s_low if speed else None,
        decode_tokens_per_s_high=speed.decode_tokens_per_s_high if speed else None,
        decode_tokens_per_s_per_user=a.decode_tokens_per_s_per_user,
        prefill_tokens_per_s=a.prefill_tokens_per_s,
        ttft_s=speed.ttft_s if speed else None,
        tokens_per_s_per_kusd=a.tokens_per_s_per_kusd,
        memory_total_bytes=mem.total_bytes, memory_usable_bytes=mem.usable_bytes,
        memory_headroom_bytes=mem.headroom_bytes,
        memory_headroom_frac=mem.headroom_bytes / mem.usable_bytes,
        gpu_power_w=gpu_w, system_power_w=system_w,
        wall_power_w=wall_power_w(system_power_w=system_w, psu_efficiency_frac=fit.efficiency_frac),
        psu_w=psu_rating_w(psu, volts=s.volts), gpu_temp_c=decode_t.temp_c,
        gpu_temp_full_load_c=full_t.temp_c, throttle_risk=decode_t.throttle_risk,
        checks=checks, warnings=list(est.warnings), speculative=cand.speculative,
        task=a.task)
