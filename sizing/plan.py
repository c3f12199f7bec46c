"""Purchase advisor: three complete builds for a workload and a budget.

Given a workload (model, quant or "best", context, concurrent users, a minimum
decode speed per user) and a budget, :func:`plan` searches every catalog GPU
that has a price (new and, where listed, used) in counts of 1, 2 and 4, on
every CPU and motherboard pair that can carry them, and returns:

- **budget**: the cheapest build that meets the workload;
- **balanced**: the most decode tokens/s per dollar within the budget;
- **workstation**: the fastest build within the budget, or a labelled stretch
  option above it (at most 1.5x the budget) when nothing faster fits in it;

with the cloud instances that run the same workload and the months after
which buying beats renting (:mod:`sizing.cloud`).

Every build is complete (GPUs, CPU, motherboard, RAM, storage, PSU, case, CPU
cooler) and checked: the model fits in GPU memory, PCIe lanes and slot spacing
suffice for the cards, the PSU covers sustained load x 1.3 and GPU transients
with the right connectors, the wall circuit carries it, the GPUs do not
throttle while decoding. Speed, power and temperature come from the engine
(:func:`sizing.estimate.estimate`); this module chooses and prices parts.

Search: memory is checked first (microseconds), the full estimate runs only
for configurations that fit, and platforms (CPU + board + cooler) are
precomputed once; a whole-catalog plan takes well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from catalog.catalog import Catalog, runtime_api
from catalog.market import (Case, Cpu, CpuCooler, Market, Motherboard, Psu, RamKit, Storage,
                            load_market)
from catalog.schema import CoolerClass, Gpu, ModelArch, Segment, Vendor
from sizing import cloud as cloud_mod
from sizing.estimate import Estimate, estimate, memory_for
from sizing.notices import Notice, NoticeOut
from sizing.power import REST_OF_SYSTEM_W, wall_power_w
from sizing.request import EstimateRequest, RequestError, resolve_model
from sizing.system import (NVME_LANES, cpu_guidance, psu_recommended_w,
                           ram_recommended_bytes, required_power_connectors, wall_circuit_check)
from sizing.thermal import gpu_thermal
from sizing.units import bytes_to_gb, bytes_to_gib

# Comfortable reading speed per user. Adults read English non-fiction silently
# at 238 words/min on average, most between 175 and 300 (Brysbaert 2019, "How
# many words do we read per minute?", J. Memory and Language 109, 104047,
# https://doi.org/10.1016/j.jml.2019.104047). At about 0.75 words per token
# (https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them)
# that is 5.3 tokens/s, 6.7 for a fast reader; 10 tokens/s stays ahead of
# nearly every reader, with room for skimming and code.
READING_TOKENS_PER_S = 10.0

GPU_COUNTS = (1, 2, 4)

# Quant ladders per runtime, most faithful first. "best" means the first rung
# that fits and meets the speed target. The ladder stops at 4-bit: below about
# 4.5 bits per weight llama.cpp's own perplexity table shows quality falling
# steeply (Q3_K_M +0.24 ppl vs Q4_K_M +0.05 on Llama-3-8B,
# https://github.com/ggml-org/llama.cpp/tree/master/tools/quantize), so a
# build that needs Q3 or less is not recommended as meeting the workload.
QUANT_LADDERS: dict[str, tuple[str, ...]] = {
    "llama.cpp": ("f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "llama.cpp-vulkan": ("f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "ollama": ("f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m"),
    "vllm": ("bf16", "fp8", "awq-int4"),
    "sglang": ("bf16", "fp8", "awq-int4"),
    "exllamav2": ("exl2-8", "exl2-6", "exl2-5", "exl2-4.65"),
    "mlx": ("bf16", "mlx-8bit", "mlx-4bit"),
}
# llama.cpp's Vulkan build runs the same GGUF files where the native API is missing.
RUNTIME_FALLBACKS = {"llama.cpp": "llama.cpp-vulkan", "ollama": "llama.cpp-vulkan"}
# With several users a batching server (vLLM) is also tried: continuous batching
# keeps per-user speed up where llama.cpp's slots share one decode stream.
BATCHING_RUNTIME = "vllm"

# Workstation tier: the most a stretch option may cost, over the budget.
STRETCH_MAX_FRAC = 1.5
# Free room on the system drive besides the model files (OS, runtime, cache). [GB]
STORAGE_SPARE_GB = 250.0
# Width assumed for a card whose slot width the catalog lacks (conservative).
DEFAULT_SLOT_WIDTH = 3.0
# Lanes a GPU slot needs: layer split moves little over PCIe (x4 is enough);
# tensor parallel exchanges activations every layer and wants x8 or more.
MIN_LANES_LAYER = 4
MIN_LANES_TENSOR = 8
# 80 PLUS efficiency at 50 % load, 115 V internal (https://www.clearesult.com/80plus/program-details).
PSU_EFFICIENCY_FRAC = {"80plus-white": 0.85, "80plus-bronze": 0.85, "80plus-gold": 0.90,
                       "80plus-platinum": 0.92, "80plus-titanium": 0.94}
# PCIe 8-pin cables that stand in for one 12V-2x6 plug (NVIDIA's adapter) and
# for one EPS-12V plug on workstation cards (two PCIe 8-pin to EPS adapter).
PCIE_8PIN_PER_12V_2X6 = 4
PCIE_8PIN_PER_EPS = 2

# Driver and support terms, by vendor and segment (Notices: front ends translate them).
GEFORCE_TERMS = Notice(
    "driver_nvidia_consumer", "GeForce driver licence forbids datacenter deployment "
    "(https://www.nvidia.com/en-us/drivers/geforce-license/); board-maker warranty.")
DRIVER_TERMS: dict[tuple[Vendor, Segment], Notice] = {
    (Vendor.NVIDIA, Segment.CONSUMER): GEFORCE_TERMS,
    (Vendor.NVIDIA, Segment.WORKSTATION): Notice(
        "driver_nvidia_workstation", "NVIDIA RTX Enterprise (production-branch) drivers, "
        "no datacenter clause; vendor warranty and support."),
    (Vendor.NVIDIA, Segment.DATACENTER): Notice(
        "driver_nvidia_datacenter", "NVIDIA datacenter drivers; passive card for server "
        "chassis airflow."),
    (Vendor.AMD, Segment.CONSUMER): Notice(
        "driver_amd_consumer", "Radeon Adrenalin drivers; ROCm covers only some consumer "
        "cards, Vulkan works on all."),
    (Vendor.AMD, Segment.WORKSTATION): Notice(
        "driver_amd_workstation", "Radeon PRO drivers; ROCm-supported; vendor warranty."),
    (Vendor.INTEL, Segment.CONSUMER): Notice(
        "driver_intel_consumer", "Intel Arc drivers; llama.cpp via SYCL or Vulkan."),
}
DRIVER_TERMS_OTHER = Notice("driver_other", "See the vendor's terms.")

Tier = Literal["budget", "balanced", "workstation"]


class PlanError(ValueError):
    """A plan that cannot be made; the message says why and what would help."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --------------------------------------------------------------------------- results


class Part(_Out):
    kind: Literal["gpu", "cpu", "motherboard", "ram", "storage", "psu", "case", "cpu-cooler"]
    id: str
    name: str
    quantity: int
    unit_usd: float
    total_usd: float
    used: bool  # second-hand price
    source: str


class BuildChecks(_Out):
    """Compatibility checks; a build in a tier passes every ``*_ok``."""

    memory_ok: bool
    pcie_lanes_needed: int  # CPU lanes the GPU slots and one NVMe drive take
    pcie_lanes_available: int  # the CPU's usable lanes
    gpu_lanes_each: list[int]  # electrical width of each GPU's slot
    pcie_lanes_ok: bool
    card_slot_width: float  # slots one card covers
    slot_pitch: int  # slots from one used GPU slot to the next
    stacked_without_gap: bool
    slots_ok: bool
    case_slots_needed: int
    case_slots_available: int
    psu_needed_w: float
    psu_w: float
    psu_w_ok: bool
    pcie_8pin_needed: int
    connector_12v_2x6_needed: int
    psu_connectors_ok: bool
    wall_w: float  # at full GPU board power, PSU losses included
    wall_limit_w: float
    wall_circuit_ok: bool
    thermal_ok: bool  # no throttling while decoding
    notes: list[str]  # English sentences (the same as note_notices' text)
    note_notices: list[NoticeOut] = []  # the notes with codes and parameters, for translation


class Build(_Out):
    """One complete machine running the workload."""

    gpu_id: str
    gpu_name: str
    gpu_count: int
    gpu_segment: str
    gpu_used: bool
    quant: str
    runtime: str
    split: str
    parts: list[Part]
    total_usd: float
    total_in_currency: float
    fits: bool
    meets_workload: bool
    decode_tokens_per_s: float | None  # aggregate over all users
    decode_tokens_per_s_low: float | None
    decode_tokens_per_s_high: float | None
    decode_tokens_per_s_per_user: float | None
    prefill_tokens_per_s: float | None
    ttft_s: float | None
    tokens_per_s_per_kusd: float | None  # aggregate decode per 1,000 USD
    memory_total_bytes: float
    memory_usable_bytes: float
    memory_headroom_bytes: float
    memory_headroom_frac: float
    gpu_power_w: float  # per GPU while decoding
    system_power_w: float  # while decoding, DC side
    wall_power_w: float  # while decoding, at the socket
    psu_w: float
    gpu_temp_c: float  # steady while decoding, stacking included
    gpu_temp_full_load_c: float  # steady at board power, stacking included
    throttle_risk: str
    checks: BuildChecks
    warnings: list[str]  # the engine's estimate warnings, English
    warning_notices: list[NoticeOut] = []  # the same with codes and parameters


class TierBuild(Build):
    tier: Tier
    within_budget: bool
    stretch: bool  # above the budget, shown because nothing faster fits in it
    reason: str  # English
    reason_notice: NoticeOut | None = None  # the reason with its code and parameters


class GpuValue(_Out):
    """One purchasable card, for the consumer-versus-professional comparison."""

    gpu_id: str
    gpu_name: str
    vendor: str
    segment: str
    used: bool
    price_usd: float
    memory_gib: float
    memory_gib_per_kusd: float  # GiB per 1,000 USD
    memory_bandwidth_gb_per_s: float | None
    board_power_w: float
    ecc: bool
    blower: bool  # exhausts out of the case: stacks without cooking its neighbour
    slot_width: float | None
    min_gpus_for_workload: int | None  # smallest count (1, 2, 4) that holds the model
    driver_terms: str  # English
    driver_terms_notice: NoticeOut | None = None  # the same with its code, for translation


class ConsumerVsPro(_Out):
    consumer: TierBuild | None  # cheapest consumer-card build meeting the workload
    professional: TierBuild | None  # cheapest workstation-card build meeting it
    best_consumer_gib_per_kusd: float | None
    best_professional_gib_per_kusd: float | None
    summary: str  # English: summary_notices' texts joined by spaces
    summary_notices: list[NoticeOut] = []  # one per sentence, for translation


class PlanResult(_Out):
    model_id: str
    model_name: str
    quant_mode: str  # a quant id or "best"
    context_tokens: int
    prompt_tokens: int
    new_tokens: int
    users: int
    min_tokens_per_s: float
    budget_usd: float | None
    budget_in_currency: float | None
    currency: str
    units_per_usd: float
    hours_per_day: float
    electricity_usd_per_kwh: float
    meets_workload_within_budget: bool
    lead_with_cloud: bool
    message: str  # English: message_notices' texts joined by spaces
    message_notices: list[NoticeOut] = []  # one per sentence, for translation
    tiers: list[TierBuild]
    within_budget_best: TierBuild | None  # when nothing meets the workload in budget
    cloud: list[cloud_mod.CloudOption]
    consumer_vs_pro: ConsumerVsPro
    gpu_values: list[GpuValue]
    builds_evaluated: int
    skipped: list[str]
    warnings: list[str]  # English, about how the model was obtained
    warning_notices: list[NoticeOut] = []  # the same with codes and parameters


# --------------------------------------------------------------------------- engine runs


@dataclass(frozen=True)
class Candidate:
    """The engine's answer for one (GPU, count, quant, runtime)."""

    gpu_id: str
    gpu_count: int
    quant: str
    runtime: str
    split: str
    quant_rank: int  # 0 = most faithful rung of its ladder
    estimate: Estimate
    meets_workload: bool

    @property
    def decode_tokens_per_s(self) -> float | None:
        return self.estimate.speed.decode_tokens_per_s if self.estimate.speed else None

    @property
    def decode_tokens_per_s_per_user(self) -> float | None:
        s = self.estimate.speed
        if s is None:
            return None
        return s.decode_tokens_per_s_per_sequence or s.decode_tokens_per_s

    @property
    def prefill_tokens_per_s(self) -> float | None:
        return self.estimate.speed.prefill_tokens_per_s if self.estimate.speed else None

    @property
    def memory_headroom_bytes(self) -> float:
        return self.estimate.memory.headroom_bytes


class _Engine:
    """Runs the engine once per configuration, remembering answers."""

    def __init__(self, catalog: Catalog, arch: ModelArch, base: EstimateRequest, *,
                 ladder: Sequence[tuple[str, str, int]], min_tokens_per_s: float) -> None:
        self.catalog = catalog
        self.arch = arch
        self.base = base
        self.ladder = ladder  # (runtime, quant, rank)
        self.min_tokens_per_s = min_tokens_per_s
        self._best: dict[tuple[str, int], Candidate | None] = {}
        self.runs = 0

    def _runtime_for(self, runtime_id: str, gpu: Gpu) -> str | None:
        for rid in (runtime_id, RUNTIME_FALLBACKS.get(runtime_id)):
            if rid and runtime_api(self.catalog.runtime(rid), gpu) is not None:
                return rid
        return None

    def best(self, gpu_id: str, gpu_count: int) -> Candidate | None:
        """Most faithful (runtime, quant) that fits and meets the speed target;
        else the fastest one that fits; None when nothing fits."""
        key = (gpu_id, gpu_count)
        if key not in self._best:
            self._best[key] = self._search(gpu_id, gpu_count)
        return self._best[key]

    def _search(self, gpu_id: str, gpu_count: int) -> Candidate | None:
        gpu = self.catalog.gpu(gpu_id)
        fitting: list[Candidate] = []
        for runtime_id, quant_id, rank in self.ladder:
            rid = self._runtime_for(runtime_id, gpu)
            if rid is None or rid not in self.catalog.quant(quant_id).runtimes:
                continue
            split = "tensor" if (gpu_count > 1 and self.catalog.runtime(rid).supports_tensor_parallel) \
                else "layer"
            request = self.base.model_copy(update={
                "gpu": gpu_id, "gpu_count": gpu_count, "quant": quant_id, "runtime": rid,
                "split": split})
            if not memory_for(request, self.catalog, self.arch).fits:
                continue
            self.runs += 1
            result = estimate(request, self.catalog, arch=self.arch)
            speed = result.speed
            per_user = None if speed is None else (speed.decode_tokens_per_s_per_sequence
                                                   or speed.decode_tokens_per_s)
            meets = per_user is not None and per_user >= self.min_tokens_per_s
            fitting.append(Candidate(gpu_id=gpu_id, gpu_count=gpu_count, quant=quant_id,
                                     runtime=rid, split=split, quant_rank=rank, estimate=result,
                                     meets_workload=meets))
        if not fitting:
            return None
        meeting = [c for c in fitting if c.meets_workload]
        if meeting:
            return min(meeting, key=lambda c: (c.quant_rank, -(c.decode_tokens_per_s or 0)))
        return max(fitting, key=lambda c: (c.decode_tokens_per_s or 0, -c.quant_rank))


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class GpuOption:
    gpu: Gpu
    used: bool
    unit_usd: float
    source: str


@dataclass(frozen=True)
class Platform:
    cpu: Cpu
    board: Motherboard
    cooler: CpuCooler


@dataclass(frozen=True)
class Layout:
    lanes_each: tuple[int, ...]
    cpu_lanes_used: int
    pitch: int
    stacked: bool
    case_slots_needed: int


def gpu_options(catalog: Catalog) -> tuple[list[GpuOption], list[str]]:
    """Cards a desktop build can use, new and used, and why others are left out."""
    options: list[GpuOption] = []
    skipped: list[str] = []
    for gpu in catalog.gpus:
        if gpu.street_price is None and gpu.used_price is None:
            skipped.append(f"{gpu.id}: no price in the catalog")
        elif gpu.form_factor != "pcie":
            skipped.append(f"{gpu.id}: {gpu.form_factor.upper()} module, not a desktop card")
        elif gpu.cooler is CoolerClass.PASSIVE:
            skipped.append(f"{gpu.id}: passive cooler needs a server chassis")
        else:
            for price, used in ((gpu.street_price, False), (gpu.used_price, True)):
                if price is not None:
                    options.append(GpuOption(gpu, used, price.usd, price.source))
    return options, skipped


def platforms(market: Market) -> list[Platform]:
    """CPU + board + cheapest adequate CPU cooler, for every compatible pair."""
    out = []
    for cpu in market.cpus:
        coolers = sorted((c for c in market.cpu_coolers
                          if cpu.socket in c.sockets and c.tdp_rating_w >= cpu.tdp_w),
                         key=lambda c: c.price.usd)
        if not coolers:
            continue
        for board in market.motherboards:
            if (board.socket == cpu.socket and board.memory_type in cpu.memory_types
                    and board.dimm_type == cpu.dimm_type):
                out.append(Platform(cpu, board, coolers[0]))
    out.sort(key=lambda p: p.cpu.price.usd + p.board.price.usd + p.cooler.price.usd)
    return out


def slot_layout(board: Motherboard, cpu: Cpu, *, gpu_count: int, slot_width: float,
                gpu_lanes: int, min_lanes: int) -> Layout | None:
    """Where ``gpu_count`` cards of ``slot_width`` go on the board, or None.

    A card covers ``ceil(width)`` slot positions, so it can use every
    ``ceil(width / spacing)``-th x16-size slot; each slot must give at least
    ``min_lanes`` and the CPU must feed its slots plus one NVMe drive.
    """
    step = max(1, math.ceil(slot_width / board.slot_spacing - 1e-9))
    usable = list(range(0, len(board.gpu_slots), step))
    if len(usable) < gpu_count:
        return None
    slots = [board.gpu_slots[i] for i in usable[:gpu_count]]
    if gpu_count == 1:
        widths = [slots[0].lanes_alone or slots[0].lanes]
    else:
        widths = [s.lanes for s in slots]
    if min(widths) < min_lanes:
        return None
    cpu_lanes = sum(w for w, s in zip(widths, slots) if not s.from_chipset) + NVME_LANES
    if cpu_lanes > cpu.pcie_lanes:
        return None
    pitch = step * board.slot_spacing
    return Layout(lanes_each=tuple(min(w, gpu_lanes) for w in widths), cpu_lanes_used=cpu_lanes,
                  pitch=pitch, stacked=gpu_count > 1 and pitch - slot_width < 1.0,
                  case_slots_needed=(gpu_count - 1) * pitch + math.ceil(slot_width - 1e-9))


def psu_connectors_ok(psu: Psu, *, pcie_8pin: int, connector_12v_2x6: int) -> bool:
    """Whether the PSU's cables feed the cards (12V-2x6 through 8-pin adapters if short)."""
    missing_12v = max(0, connector_12v_2x6 - psu.connector_12v_2x6_count)
    return pcie_8pin + PCIE_8PIN_PER_12V_2X6 * missing_12v <= psu.pcie_8pin_count


def psu_rating_w(psu: Psu, *, volts: float) -> float:
    """What the PSU delivers on this mains voltage. [W]"""
    return psu.wattage_115v_w if (psu.wattage_115v_w and volts < 200) else psu.wattage_w


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class _Settings:
    users: int
    min_tokens_per_s: float
    volts: float
    amps: float
    units_per_usd: float
    ambient_c: float


def _assemble(option: GpuOption, cand: Candidate, plats: Sequence[Platform], market: Market,
              catalog: Catalog, s: _Settings) -> Build | None:
    """The cheapest valid complete build around these GPUs, or None."""
    gpu, n = option.gpu, cand.gpu_count
    est = cand.estimate
    width = gpu.slot_width or DEFAULT_SLOT_WIDTH
    min_lanes = MIN_LANES_TENSOR if cand.split == "tensor" else MIN_LANES_LAYER
    guidance = cpu_guidance(gpu_count=n)
    conn = required_power_connectors(gpu_connectors=[gpu.power_connectors] * n)
    need_8pin = conn.pcie_8pin_count + conn.pcie_6pin_count + PCIE_8PIN_PER_EPS * conn.eps_8pin_count
    file_bytes = est.memory.file_bytes
    ram_gib = ram_recommended_bytes(offloaded_bytes=0.0, model_file_bytes=file_bytes).recommended_gib
    storage = _cheapest_storage(market.storage, bytes_to_gb(file_bytes) + STORAGE_SPARE_GB)
    if storage is None:
        return None
    cooler_rec = catalog.cooler(gpu.cooler.value)
    best: tuple[float, Build] | None = None
    for p in plats:
        if p.cpu.cores < guidance.min_physical_cores:
            continue
        layout = slot_layout(p.board, p.cpu, gpu_count=n, slot_width=width,
                             gpu_lanes=gpu.pcie_lanes or 16, min_lanes=min_lanes)
        if layout is None:
            continue
        case = _cheapest_case(market.cases, p.board, layout.case_slots_needed)
        ram = _cheapest_ram(market.ram_kits, p.board, ram_gib)
        if case is None or ram is None:
            continue
        board_total_w = gpu.board_power_w * n
        sustained_w = board_total_w + p.cpu.tdp_w + REST_OF_SYSTEM_W
        rec = psu_recommended_w(sustained_system_w=sustained_w,
                                gpu_board_power_w_total=board_total_w)
        psu = _cheapest_psu(market.psus, rec.needed_w, s.volts, need_8pin,
                            conn.pcie_12v_2x6_count)
        if psu is None:
            continue
        efficiency = PSU_EFFICIENCY_FRAC[psu.efficiency]
        wall = wall_circuit_check(system_power_w=sustained_w, volts=s.volts, amps=s.amps,
                                  psu_efficiency_frac=efficiency)
        if not wall.ok:
            continue
        parts_usd = (p.cpu.price.usd + p.board.price.usd + p.cooler.price.usd + case.price.usd
                     + ram.price.usd + storage.price.usd + psu.price.usd)
        total = option.unit_usd * n + parts_usd
        if best is not None and total >= best[0]:
            continue
        power = est.power
        gpu_w = power.gpu_power_w if power else gpu.board_power_w
        decode_t = gpu_thermal(ambient_c=s.ambient_c, gpu_power_w=gpu_w, cooler=cooler_rec,
                               board_power_w=gpu.board_power_w,
                               stacked_without_gap=layout.stacked)
        full_t = gpu_thermal(ambient_c=s.ambient_c, gpu_power_w=gpu.board_power_w,
                             cooler=cooler_rec, board_power_w=gpu.board_power_w,
                             stacked_without_gap=layout.stacked)
        if decode_t.throttle_risk == "high":
            continue
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
        if conn.pcie_12v_2x6_count > psu.connector_12v_2x6_count:
            notes.append(Notice("build_12v_2x6_adapters",
                                "Some 12V-2x6 plugs go through 8-pin adapters."))
        notes.append(Notice(
            "build_card_length", "Card length is not in the catalog: check the case's GPU "
            f"clearance ({case.max_gpu_length_mm:.0f} mm).",
            length_mm=f"{case.max_gpu_length_mm:.0f}"))
        checks = BuildChecks(
            memory_ok=est.memory.fits, pcie_lanes_needed=layout.cpu_lanes_used,
            pcie_lanes_available=p.cpu.pcie_lanes, gpu_lanes_each=list(layout.lanes_each),
            pcie_lanes_ok=True, card_slot_width=width, slot_pitch=layout.pitch,
            stacked_without_gap=layout.stacked, slots_ok=True,
            case_slots_needed=layout.case_slots_needed,
            case_slots_available=case.expansion_slots, psu_needed_w=rec.needed_w,
            psu_w=psu_rating_w(psu, volts=s.volts), psu_w_ok=True, pcie_8pin_needed=need_8pin,
            connector_12v_2x6_needed=conn.pcie_12v_2x6_count, psu_connectors_ok=True,
            wall_w=wall.wall_w, wall_limit_w=wall.continuous_limit_w, wall_circuit_ok=True,
            thermal_ok=True, notes=[str(n) for n in notes],
            note_notices=[NoticeOut.of(n) for n in notes])
        parts = [
            Part(kind="gpu", id=gpu.id, name=gpu.name + (" (used)" if option.used else ""),
                 quantity=n, unit_usd=option.unit_usd, total_usd=option.unit_usd * n,
                 used=option.used, source=option.source),
            _part("cpu", p.cpu), _part("motherboard", p.board, name=f"{p.board.name} "
                                       f"(e.g. {p.board.example})"),
            _part("ram", ram), _part("storage", storage), _part("psu", psu), _part("case", case),
            _part("cpu-cooler", p.cooler)]
        speed = est.speed
        decode = speed.decode_tokens_per_s if speed else None
        system_w = (power.system_power_w if power else sustained_w)
        mem = est.memory
        best = (total, Build(
            gpu_id=gpu.id, gpu_name=gpu.name, gpu_count=n, gpu_segment=gpu.segment.value,
            gpu_used=option.used, quant=cand.quant, runtime=cand.runtime, split=cand.split,
            parts=parts, total_usd=total, total_in_currency=total * s.units_per_usd,
            fits=mem.fits, meets_workload=cand.meets_workload,
            decode_tokens_per_s=decode,
            decode_tokens_per_s_low=speed.decode_tokens_per_s_low if speed else None,
            decode_tokens_per_s_high=speed.decode_tokens_per_s_high if speed else None,
            decode_tokens_per_s_per_user=cand.decode_tokens_per_s_per_user,
            prefill_tokens_per_s=speed.prefill_tokens_per_s if speed else None,
            ttft_s=speed.ttft_s if speed else None,
            tokens_per_s_per_kusd=decode / total * 1000.0 if decode else None,
            memory_total_bytes=mem.total_bytes, memory_usable_bytes=mem.usable_bytes,
            memory_headroom_bytes=mem.headroom_bytes,
            memory_headroom_frac=mem.headroom_bytes / mem.usable_bytes,
            gpu_power_w=gpu_w, system_power_w=system_w,
            wall_power_w=wall_power_w(system_power_w=system_w, psu_efficiency_frac=efficiency),
            psu_w=psu_rating_w(psu, volts=s.volts), gpu_temp_c=decode_t.temp_c,
            gpu_temp_full_load_c=full_t.temp_c, throttle_risk=decode_t.throttle_risk,
            checks=checks, warnings=list(est.warnings),
            warning_notices=list(est.notices or [NoticeOut.of(w) for w in est.warnings])))
    return None if best is None else best[1]


def _part(kind, record, *, name: str | None = None) -> Part:
    return Part(kind=kind, id=record.id, name=name or record.name, quantity=1,
                unit_usd=record.price.usd, total_usd=record.price.usd, used=False,
                source=record.price.source)


def _cheapest_storage(drives: Sequence[Storage], need_gb: float) -> Storage | None:
    fits = [d for d in drives if d.storage_class.value.startswith("nvme") and d.capacity_gb >= need_gb]
    return min(fits, key=lambda d: d.price.usd, default=None)


def _cheapest_case(cases: Sequence[Case], board: Motherboard, slots: int) -> Case | None:
    fits = [c for c in cases if board.form_factor in c.form_factors and c.expansion_slots >= slots]
    return min(fits, key=lambda c: c.price.usd, default=None)


def _cheapest_ram(kits: Sequence[RamKit], board: Motherboard, need_gib: float | None) -> RamKit | None:
    fits = [k for k in kits if k.memory_type == board.memory_type and k.dimm_type == board.dimm_type
            and k.modules <= board.dimm_slots and k.capacity_gib <= board.max_memory_gib]
    if not fits:
        return None
    enough = [k for k in fits if need_gib is not None and k.capacity_gib >= need_gib]
    if enough:
        return min(enough, key=lambda k: k.price.usd)
    return max(fits, key=lambda k: (k.capacity_gib, -k.price.usd))  # page cache partial


def _cheapest_psu(psus: Sequence[Psu], need_w: float, volts: float, pcie_8pin: int,
                  connector_12v_2x6: int) -> Psu | None:
    fits = [p for p in psus if psu_rating_w(p, volts=volts) >= need_w
            and psu_connectors_ok(p, pcie_8pin=pcie_8pin, connector_12v_2x6=connector_12v_2x6)]
    return min(fits, key=lambda p: p.price.usd, default=None)


def _machine_usd(option: GpuOption, n: int, plats: Sequence[Platform], market: Market,
                 volts: float) -> float | None:
    """Cheapest complete machine around ``n`` of these cards, whatever the model. [USD]"""
    gpu = option.gpu
    conn = required_power_connectors(gpu_connectors=[gpu.power_connectors] * n)
    need_8pin = conn.pcie_8pin_count + conn.pcie_6pin_count + PCIE_8PIN_PER_EPS * conn.eps_8pin_count
    storage = _cheapest_storage(market.storage, STORAGE_SPARE_GB)
    best = None
    for p in plats:
        if p.cpu.cores < cpu_guidance(gpu_count=n).min_physical_cores:
            continue
        layout = slot_layout(p.board, p.cpu, gpu_count=n, slot_width=gpu.slot_width or
                             DEFAULT_SLOT_WIDTH, gpu_lanes=gpu.pcie_lanes or 16,
                             min_lanes=MIN_LANES_LAYER)
        if layout is None or storage is None:
            continue
        case = _cheapest_case(market.cases, p.board, layout.case_slots_needed)
        ram = _cheapest_ram(market.ram_kits, p.board, 0.0)
        sustained = gpu.board_power_w * n + p.cpu.tdp_w + REST_OF_SYSTEM_W
        need = psu_recommended_w(sustained_system_w=sustained,
                                 gpu_board_power_w_total=gpu.board_power_w * n).needed_w
        psu = _cheapest_psu(market.psus, need, volts, need_8pin, conn.pcie_12v_2x6_count)
        if case is None or ram is None or psu is None:
            continue
        total = (option.unit_usd * n + p.cpu.price.usd + p.board.price.usd + p.cooler.price.usd
                 + case.price.usd + ram.price.usd + storage.price.usd + psu.price.usd)
        best = total if best is None else min(best, total)
    return best


def machine_floor(options: Sequence[GpuOption], plats: Sequence[Platform], market: Market, *,
                  volts: float = 120.0) -> tuple[float, GpuOption] | None:
    """The cheapest complete machine in the catalog, any model. [USD]"""
    priced = [(c, o) for o in options
              if (c := _machine_usd(o, 1, plats, market, volts)) is not None]
    return min(priced, key=lambda t: t[0], default=None)


def biggest_machine_within(options: Sequence[GpuOption], plats: Sequence[Platform],
                           market: Market, budget_usd: float, *,
                           volts: float = 120.0) -> tuple[float, GpuOption, int] | None:
    """The most GPU memory a budget buys: (cost [USD], card, count)."""
    best = None
    for o in options:
        for n in GPU_COUNTS:
            if o.unit_usd * n > budget_usd:
                break
            cost = _machine_usd(o, n, plats, market, volts)
            if cost is not None and cost <= budget_usd:
                key = (o.gpu.memory_gib * n, -cost)
                if best is None or key > best[0]:
                    best = (key, (cost, o, n))
    return None if best is None else best[1]


@lru_cache(maxsize=1)
def _market() -> Market:
    return load_market()


def _ladder(quant: str, runtime: str, users: int, catalog: Catalog) -> list[tuple[str, str, int]]:
    if quant != "best":
        catalog.quant(quant)  # unknown ids fail here, naming the closest
        return [(runtime, quant, 0)]
    if runtime not in QUANT_LADDERS:
        raise PlanError(f"no quant ladder for runtime '{runtime}'; give --quant explicitly or "
                        f"use one of: {', '.join(QUANT_LADDERS)}")
    rungs = [(runtime, q, i) for i, q in enumerate(QUANT_LADDERS[runtime])]
    if users > 1 and runtime in ("llama.cpp", "ollama"):
        rungs += [(BATCHING_RUNTIME, q, i) for i, q in enumerate(QUANT_LADDERS[BATCHING_RUNTIME])]
    return rungs


def _currency(market: Market, code: str) -> float:
    try:
        return market.currency(code.upper()).units_per_usd
    except KeyError:
        known = ", ".join(c.code for c in market.currencies)
        raise PlanError(f"unknown currency '{code}'; known: {known}") from None


def _electricity(market: Market, request: EstimateRequest, override: float | None,
                 region: str | None) -> float:
    if override is not None:
        if not 0 <= override <= 5:
            raise PlanError(f"electricity price must be between 0 and 5 USD/kWh (got {override})")
        return override
    if region is not None:
        for price in market.electricity:
            if price.id == region:
                return price.usd_per_kwh
        known = ", ".join(p.id for p in market.electricity)
        raise PlanError(f"unknown electricity region '{region}'; known: {known}")
    if request.electricity_usd_per_kwh is not None:
        return request.electricity_usd_per_kwh
    return next(p.usd_per_kwh for p in market.electricity if p.id == "us-average")


def _workload_request(request: EstimateRequest, users: int, context_tokens: int | None) -> EstimateRequest:
    """The request with the plan's users and context; prompt + new filling the context."""
    context = context_tokens or request.allocated_context_tokens
    if context < 2:
        raise PlanError(f"context must be at least 2 tokens (got {context})")
    new = min(request.new_tokens or 512, context // 2) or 1
    prompt = min(request.prompt_tokens, context - new) if context_tokens is None else context - new
    return request.model_copy(update={"batch": users, "context_tokens": context,
                                      "prompt_tokens": prompt, "new_tokens": new,
                                      "gpu_count": 1, "split": None})


def plan(request: EstimateRequest, catalog: Catalog, *, budget_usd: float | None,
         users: int = 1, hours_per_day: float = 8.0, currency: str = "USD",
         quant: str | None = None, min_tokens_per_s: float = READING_TOKENS_PER_S,
         context_tokens: int | None = None, electricity_usd_per_kwh: float | None = None,
         electricity_region: str | None = None, circuit_volts: float = 120.0,
         circuit_amps: float = 15.0, market: Market | None = None,
         arch: ModelArch | None = None) -> PlanResult:
    """Budget, balanced and workstation builds for a workload, with cloud options.

    Parameters
    ----------
    request : EstimateRequest
        The workload: model (or hf_config / params_b), quant, runtime, KV type,
        prompt/new tokens. Its GPU fields are ignored.
    budget_usd : float or None
        Most the build may cost. [USD] None: no limit.
    users : int
        Concurrent users, each decoding at ``min_tokens_per_s`` or more. [1-256]
    hours_per_day : float
        Hours of use per day, for electricity and break-even. [h] 0-24.
    currency : str
        ISO code for the ``*_in_currency`` fields (catalog/currencies.yaml).
    quant : str, optional
        A quant id, or "best": the most faithful rung of the runtime's ladder
        that fits and meets the speed. Default: the request's quant.
    min_tokens_per_s : float
        Decode speed each user needs. [tokens/s] Default 10 (reading speed).
    context_tokens : int, optional
        Context per user; prompt fills it up to the last ``new_tokens``. [tokens]
    electricity_usd_per_kwh : float, optional
        Overrides region and request. [USD/kWh]
    circuit_volts, circuit_amps : float
        Wall circuit the machine runs on. [V], [A]
    """
    if budget_usd is not None and not budget_usd > 0:
        raise PlanError(f"budget must be above 0 (got {budget_usd:g} USD)")
    if not 1 <= users <= 256:
        raise PlanError(f"users must be between 1 and 256 (got {users})")
    if not 0 < min_tokens_per_s <= 10_000:
        raise PlanError(f"min tokens/s must be above 0 and at most 10,000 (got {min_tokens_per_s:g})")
    if not 0 <= hours_per_day <= 24:
        raise PlanError(f"hours per day must be between 0 and 24 (got {hours_per_day:g})")
    market = market or _market()
    units = _currency(market, currency)
    usd_per_kwh = _electricity(market, request, electricity_usd_per_kwh, electricity_region)
    base = _workload_request(request, users, context_tokens)
    warnings: list[Notice] = []
    if arch is None:
        arch, warnings = resolve_model(base, catalog)
    quant_mode = quant or base.quant
    engine = _Engine(catalog, arch, base, ladder=_ladder(quant_mode, base.runtime, users, catalog),
                     min_tokens_per_s=min_tokens_per_s)
    settings = _Settings(users=users, min_tokens_per_s=min_tokens_per_s, volts=circuit_volts,
                         amps=circuit_amps, units_per_usd=units,
                         ambient_c=base.ambient_c if base.ambient_c is not None else 25.0)
    options, skipped = gpu_options(catalog)
    plats = platforms(market)

    builds: list[Build] = []
    min_count: dict[str, int] = {}
    for option in options:
        for n in GPU_COUNTS:
            cand = engine.best(option.gpu.id, n)
            if cand is None:
                continue
            min_count.setdefault(option.gpu.id, n)
            build = _assemble(option, cand, plats, market, catalog, settings)
            if build is not None:
                builds.append(build)

    meeting = sorted((b for b in builds if b.meets_workload), key=lambda b: b.total_usd)
    tiers = _tiers(meeting, budget_usd)
    within = [b for b in builds if budget_usd is None or b.total_usd <= budget_usd]
    meets_in_budget = any(t.within_budget for t in tiers)

    within_best = None
    if not meets_in_budget and within:
        top = max(within, key=lambda b: (b.decode_tokens_per_s_per_user or 0, -b.total_usd))
        within_best = _tier(top, "budget", budget_usd,
                            reason=_within_best_reason(top, min_tokens_per_s))

    tier_costs = [(t.tier, t.total_usd, t.wall_power_w) for t in tiers]
    cloud_list = cloud_mod.cloud_options(
        market.instances, engine.best, tiers=tier_costs, hours_per_day=hours_per_day,
        usd_per_kwh=usd_per_kwh, units_per_usd=units)

    floor = machine_floor(options, plats, market, volts=circuit_volts)
    if budget_usd is not None and floor is not None and budget_usd < floor[0]:
        raise PlanError(
            f"a budget of {budget_usd:,.0f} USD is below the cheapest complete machine in the "
            f"catalog ({floor[0]:,.0f} USD with a {floor[1].gpu.name}); raise the budget or rent "
            + (f"({cloud_list[0].provider} {cloud_list[0].instance_type} at "
               f"{cloud_list[0].usd_per_hour:.2f} USD/h)" if cloud_list else "in the cloud"))
    if not meeting and not any(c.meets_workload for c in cloud_list):
        raise PlanError(_unmeetable(arch, base, catalog, engine, builds, min_tokens_per_s,
                                    users, cloud_list))
    buys = None
    if budget_usd is not None and within_best is None and not meets_in_budget:
        buys = biggest_machine_within(options, plats, market, budget_usd, volts=circuit_volts)

    message_notices, lead_cloud = _message(arch, tiers, meeting, buys, cloud_list, budget_usd,
                                   min_tokens_per_s, users, builds)
    return PlanResult(
        model_id=arch.id, model_name=arch.name, quant_mode=quant_mode,
        context_tokens=base.allocated_context_tokens, prompt_tokens=base.prompt_tokens,
        new_tokens=base.new_tokens, users=users, min_tokens_per_s=min_tokens_per_s,
        budget_usd=budget_usd, budget_in_currency=None if budget_usd is None else budget_usd * units,
        currency=currency.upper(), units_per_usd=units, hours_per_day=hours_per_day,
        electricity_usd_per_kwh=usd_per_kwh, meets_workload_within_budget=meets_in_budget,
        lead_with_cloud=lead_cloud, message=" ".join(message_notices),
        message_notices=[NoticeOut.of(n) for n in message_notices], tiers=tiers,
        within_budget_best=within_best,
        cloud=cloud_list, consumer_vs_pro=_consumer_vs_pro(meeting, options, budget_usd),
        gpu_values=_gpu_values(options, min_count), builds_evaluated=engine.runs,
        skipped=skipped, warnings=[str(w) for w in warnings],
        warning_notices=[NoticeOut.of(w) for w in warnings])


# --------------------------------------------------------------------------- tiers


def _speed_text(b: Build) -> str:
    per_user = b.decode_tokens_per_s_per_user
    if per_user is None:
        return "speed unknown"
    if b.decode_tokens_per_s and abs(b.decode_tokens_per_s - per_user) > 1e-9:
        return f"{per_user:.1f} tokens/s per user ({b.decode_tokens_per_s:.0f} in all)"
    return f"{per_user:.1f} tokens/s"


def _label(b: Build) -> str:
    return f"{b.gpu_count} x {b.gpu_name}{' (used)' if b.gpu_used else ''}, {b.quant}"


def _build_params(b: Build) -> dict[str, str | int]:
    """A build's label and speed as notice parameters (``*_term`` values are
    looked up under ``engine.term.`` by front ends)."""
    per_user = b.decode_tokens_per_s_per_user
    return {"count": b.gpu_count, "gpu": b.gpu_name, "condition_term": "used" if b.gpu_used
            else "new", "quant": b.quant,
            "per_user": "—" if per_user is None else f"{per_user:.1f}",
            "total": "—" if not b.decode_tokens_per_s else f"{b.decode_tokens_per_s:.0f}"}


def _prefixed(prefix: str, params: dict[str, str | int]) -> dict[str, str | int]:
    return {f"{prefix}_{k}": v for k, v in params.items()}


def _tier(b: Build, tier: Tier, budget_usd: float | None, *, reason: Notice,
          stretch: bool = False) -> TierBuild:
    within = budget_usd is None or b.total_usd <= budget_usd
    data = b.model_dump()
    return TierBuild(**data, tier=tier, within_budget=within, stretch=stretch,
                     reason=str(reason), reason_notice=NoticeOut.of(reason))


def _tiers(meeting: Sequence[Build], budget_usd: float | None) -> list[TierBuild]:
    """Budget, balanced and workstation picks from builds that meet the workload
    (sorted by price)."""
    if not meeting:
        return []
    cheapest = meeting[0]
    within = [b for b in meeting if budget_usd is None or b.total_usd <= budget_usd]
    if not within:
        over = cheapest.total_usd - (budget_usd or 0)
        return [_tier(cheapest, "budget", budget_usd, stretch=True, reason=Notice(
            "tier_over_budget",
            f"Over budget by {over:,.0f} USD: the cheapest build that meets the workload "
            f"({_label(cheapest)}, {_speed_text(cheapest)}).",
            over_usd=f"{over:,.0f}", **_build_params(cheapest)))]
    tiers = [_tier(cheapest, "budget", budget_usd, reason=Notice(
        "tier_budget",
        f"Cheapest build that meets the workload: {_label(cheapest)} at {_speed_text(cheapest)}.",
        **_build_params(cheapest)))]
    balanced = max(within, key=lambda b: (b.decode_tokens_per_s or 0) / b.total_usd)
    tiers.append(_tier(balanced, "balanced", budget_usd, reason=Notice(
        "tier_balanced",
        f"Most tokens/s per dollar within budget: {balanced.tokens_per_s_per_kusd:.1f} tokens/s "
        f"per 1,000 USD ({_label(balanced)}).",
        value=f"{balanced.tokens_per_s_per_kusd:.1f}", **_build_params(balanced))))
    fastest = max(within, key=lambda b: (b.decode_tokens_per_s or 0, -b.total_usd))
    stretch_pool = [b for b in meeting if budget_usd is not None
                    and budget_usd < b.total_usd <= budget_usd * STRETCH_MAX_FRAC
                    and (b.decode_tokens_per_s or 0) > (fastest.decode_tokens_per_s or 0)]
    if fastest is balanced and stretch_pool:
        top = max(stretch_pool, key=lambda b: (b.decode_tokens_per_s or 0, -b.total_usd))
        gain = (top.decode_tokens_per_s or 0) / (fastest.decode_tokens_per_s or 1) - 1
        tiers.append(_tier(top, "workstation", budget_usd, stretch=True, reason=Notice(
            "tier_stretch",
            f"Stretch, {top.total_usd - budget_usd:,.0f} USD over budget: {gain:.0%} faster "
            f"than anything within it ({_label(top)}, {_speed_text(top)}).",
            over_usd=f"{top.total_usd - budget_usd:,.0f}", gain_pct=f"{gain:.0%}",
            **_build_params(top))))
    elif fastest is balanced:
        tiers.append(_tier(fastest, "workstation", budget_usd, reason=Notice(
            "tier_fastest_same",
            "Fastest within budget (same as balanced: nothing faster within budget): "
            f"{_label(fastest)} at {_speed_text(fastest)}.", **_build_params(fastest))))
    else:
        tiers.append(_tier(fastest, "workstation", budget_usd, reason=Notice(
            "tier_fastest",
            f"Fastest within budget: {_label(fastest)} at {_speed_text(fastest)}.",
            **_build_params(fastest))))
    return tiers


def _within_best_reason(top: Build, min_tokens_per_s: float) -> Notice:
    if top.meets_workload:
        return Notice("tier_within_budget_best", "Best the budget buys.")
    return Notice(
        "tier_within_budget_below",
        f"Best the budget buys: {_speed_text(top)}, below the "
        f"{min_tokens_per_s:g} tokens/s per user asked for.",
        need=f"{min_tokens_per_s:g}", **_build_params(top))


def _message(arch: ModelArch, tiers: Sequence[TierBuild], meeting: Sequence[Build],
             buys: tuple[float, GpuOption, int] | None,
             cloud_list: Sequence[cloud_mod.CloudOption],
             budget_usd: float | None, min_tps: float, users: int,
             builds: Sequence[Build]) -> tuple[list[Notice], bool]:
    """The plan's headline, one Notice per sentence (joined by spaces in English)."""
    need = f"{min_tps:g} tokens/s for each of {users} user(s)" if users > 1 else f"{min_tps:g} tokens/s"
    need_params = {"tps": f"{min_tps:g}", "users": users, "model": arch.name}
    best_cloud = next((c for c in cloud_list if c.meets_workload), None)
    if best_cloud:
        cloud = Notice(
            "plan_cloud_first",
            f"Cloud first: rent {best_cloud.provider} {best_cloud.instance_type} at "
            f"{best_cloud.usd_per_hour:.2f} USD/h ({best_cloud.usd_per_1m_tokens:.2f} USD per "
            "million tokens).", provider=best_cloud.provider,
            instance=best_cloud.instance_type, usd_per_hour=f"{best_cloud.usd_per_hour:.2f}",
            usd_per_1m=f"{best_cloud.usd_per_1m_tokens:.2f}")
    else:
        cloud = Notice("plan_cloud_first_none",
                       "Cloud first: no catalog cloud instance meets it either.")
    if any(t.within_budget for t in tiers):
        inside = {(t.gpu_id, t.gpu_count, t.gpu_used) for t in tiers if t.within_budget}
        out = [Notice("plan_meets", f"{len(inside)} distinct build(s) run {arch.name} at {need} "
                      "or more within the budget.", builds=len(inside), **need_params)]
        if any(t.stretch for t in tiers):
            out.append(Notice("plan_stretch_labelled", "A stretch option above it is labelled."))
        return out, False
    if meeting:
        out = [Notice(
            "plan_over_budget",
            f"Nothing within {budget_usd:,.0f} USD runs {arch.name} at {need}: the cheapest "
            f"build that does costs {meeting[0].total_usd:,.0f} USD.",
            budget_usd=f"{budget_usd:,.0f}", cheapest_usd=f"{meeting[0].total_usd:,.0f}",
            **need_params)]
        if buys is not None:
            cost, option, n = buys
            out.append(Notice(
                "plan_budget_buys",
                f"The budget buys at most {n * option.gpu.memory_gib:g} GiB of GPU memory "
                f"({n} x {option.gpu.name}{' used' if option.used else ''}, "
                f"{cost:,.0f} USD), too little to hold the model.",
                gib=f"{n * option.gpu.memory_gib:g}", count=n, gpu=option.gpu.name,
                condition_term="used" if option.used else "new", cost_usd=f"{cost:,.0f}"))
        return [*out, cloud], True
    if builds:
        fastest = max(builds, key=lambda b: b.decode_tokens_per_s_per_user or 0)
        return [Notice(
            "plan_no_build_reaches",
            f"No catalog build reaches {need} for {arch.name}; the fastest local build holds "
            f"it at {_speed_text(fastest)} ({_label(fastest)}).",
            **need_params, **_build_params(fastest)), cloud], True
    return [Notice("plan_no_desktop_build",
                   f"No desktop build in the catalog holds {arch.name}.", model=arch.name),
            cloud], True


def _unmeetable(arch: ModelArch, base: EstimateRequest, catalog: Catalog, engine: _Engine,
                builds: Sequence[Build], min_tps: float, users: int,
                cloud_list: Sequence[cloud_mod.CloudOption]) -> str:
    """One line on what the workload would need."""
    if builds or cloud_list:
        speeds = [(b.decode_tokens_per_s_per_user or 0, f"{_label(b)} (desktop)") for b in builds]
        speeds += [(c.decode_tokens_per_s_per_user, f"{c.gpu_count} x {c.gpu_id} ({c.provider})")
                   for c in cloud_list]
        top, where = max(speeds)
        return (f"nothing in the catalog runs {arch.name} at {min_tps:g} tokens/s per user for "
                f"{users} user(s): the fastest, {where}, reaches {top:.1f}; it would need about "
                f"{min_tps / max(top, 1e-9):.1f}x that speed; lower --min-tokens-per-s or --users")
    runtime_id, quant_id, _ = engine.ladder[-1]  # the smallest rung
    probe = base.model_copy(update={"gpu": "rtx-3090", "gpu_count": 1, "quant": quant_id,
                                    "runtime": runtime_id})
    mem = memory_for(probe, catalog, arch)
    need_gib = bytes_to_gib(mem.total_bytes - mem.overhead_bytes)
    return (f"no desktop build or cloud instance in the catalog holds {arch.name} at {quant_id} "
            f"with this context: it needs about {need_gib:,.0f} GiB of GPU memory plus "
            f"per-GPU overhead; use a smaller quant, a shorter context or a multi-node server")


def _consumer_vs_pro(meeting: Sequence[Build], options: Sequence[GpuOption],
                     budget_usd: float | None) -> ConsumerVsPro:
    consumer = next((b for b in meeting if b.gpu_segment == "consumer"), None)
    pro = next((b for b in meeting if b.gpu_segment == "workstation"), None)

    def best_ratio(segment: Segment) -> float | None:
        ratios = [o.gpu.memory_gib / o.unit_usd * 1000 for o in options if o.gpu.segment is segment]
        return max(ratios, default=None)

    c_ratio, p_ratio = best_ratio(Segment.CONSUMER), best_ratio(Segment.WORKSTATION)
    bits: list[Notice] = []
    if consumer and pro:
        diff = pro.total_usd - consumer.total_usd
        sign = "+" if diff >= 0 else "-"
        bits.append(Notice(
            "cvp_both",
            f"Cheapest consumer build {consumer.total_usd:,.0f} USD "
            f"({_label(consumer)}, {_speed_text(consumer)}) vs professional "
            f"{pro.total_usd:,.0f} USD ({_label(pro)}, {_speed_text(pro)}): "
            f"{sign}{abs(diff):,.0f} USD for ECC and blower cooling; "
            f"GPUs draw {pro.gpu_power_w * pro.gpu_count:.0f} W (professional) vs "
            f"{consumer.gpu_power_w * consumer.gpu_count:.0f} W (consumer) decoding.",
            consumer_usd=f"{consumer.total_usd:,.0f}", pro_usd=f"{pro.total_usd:,.0f}",
            diff_usd=f"{sign}{abs(diff):,.0f}",
            consumer_w=f"{consumer.gpu_power_w * consumer.gpu_count:.0f}",
            pro_w=f"{pro.gpu_power_w * pro.gpu_count:.0f}",
            **_prefixed("consumer", _build_params(consumer)),
            **_prefixed("pro", _build_params(pro))))
    elif consumer:
        bits.append(Notice(
            "cvp_only_consumer",
            f"Only consumer cards meet the workload; cheapest {consumer.total_usd:,.0f} USD.",
            cheapest_usd=f"{consumer.total_usd:,.0f}"))
    elif pro:
        bits.append(Notice(
            "cvp_only_professional",
            f"Only professional cards meet the workload; cheapest {pro.total_usd:,.0f} USD.",
            cheapest_usd=f"{pro.total_usd:,.0f}"))
    if c_ratio and p_ratio:
        bits.append(Notice(
            "cvp_memory_per_kusd",
            f"Memory per 1,000 USD: consumer up to {c_ratio:.1f} GiB, professional up to "
            f"{p_ratio:.1f} GiB.", consumer_gib=f"{c_ratio:.1f}", pro_gib=f"{p_ratio:.1f}"))
    bits.append(Notice(
        "cvp_licence",
        "GeForce cards may not be deployed in a datacenter (driver licence); professional "
        "cards carry ECC and stack with blower coolers."))
    return ConsumerVsPro(
        consumer=_tier(consumer, "budget", budget_usd, reason=Notice(
            "tier_cheapest_consumer", "Cheapest consumer-card build."))
        if consumer else None,
        professional=_tier(pro, "budget", budget_usd, reason=Notice(
            "tier_cheapest_professional", "Cheapest professional-card build."))
        if pro else None,
        best_consumer_gib_per_kusd=c_ratio, best_professional_gib_per_kusd=p_ratio,
        summary=" ".join(bits), summary_notices=[NoticeOut.of(b) for b in bits])


def gpu_value(option: GpuOption, min_count: int | None) -> GpuValue:
    """Comparison row for one purchasable card."""
    g = option.gpu
    terms = DRIVER_TERMS.get((g.vendor, g.segment), DRIVER_TERMS_OTHER)
    return GpuValue(
        gpu_id=g.id, gpu_name=g.name, vendor=g.vendor.value, segment=g.segment.value,
        used=option.used, price_usd=option.unit_usd, memory_gib=g.memory_gib,
        memory_gib_per_kusd=g.memory_gib / option.unit_usd * 1000.0,
        memory_bandwidth_gb_per_s=g.memory_bandwidth_gb_per_s, board_power_w=g.board_power_w,
        ecc=g.ecc, blower=g.cooler is CoolerClass.BLOWER, slot_width=g.slot_width,
        min_gpus_for_workload=min_count, driver_terms=str(terms),
        driver_terms_notice=NoticeOut.of(terms))


def _gpu_values(options: Sequence[GpuOption], min_count: dict[str, int]) -> list[GpuValue]:
    rows = [gpu_value(o, min_count.get(o.gpu.id)) for o in options]
    rows.sort(key=lambda r: (r.min_gpus_for_workload is None, -r.memory_gib_per_kusd))
    return rows


__all__ = ["plan", "PlanResult", "PlanError", "TierBuild", "Build", "Part", "BuildChecks",
           "READING_TOKENS_PER_S", "QUANT_LADDERS", "gpu_options", "platforms", "slot_layout",
           "psu_connectors_ok", "RequestError"]
