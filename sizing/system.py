"""The rest of the box: power supply, connectors, wall circuit, RAM, CPU, loading.

Pure functions over numbers and catalog records; loading the catalog is the
caller's job. ``resolve_record_id`` turns a user-chosen id into its record
with an error that lists the valid ids. Formulas and sources: docs/model.md,
Power (PSU and wall circuit) and Load time and system.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from catalog.errors import UserError
from sizing.power import wall_power_w
from sizing.units import BYTES_PER_GIB, gb_per_s_to_bytes_per_s, gib_to_bytes

# Standard ATX/server PSU ratings, ascending. [W]
STANDARD_PSU_SIZES_W = (550.0, 650.0, 750.0, 850.0, 1000.0, 1200.0, 1300.0, 1600.0, 2000.0, 2400.0)

# PSU rating over sustained DC load (the usual 1.25-1.5x; docs/model.md, Power). 1.3 turns
# an RTX 4090 system (450 W GPU + 125 W CPU + 75 W rest = 650 W) into 845 W ->
# 850 W, NVIDIA's recommended PSU for that card.
PSU_MARGIN_FRAC = 1.3
PSU_MARGIN_MIN_FRAC = 1.0
PSU_MARGIN_MAX_FRAC = 2.0

# GPU power excursions over ~100-200 us, as a multiple of board power: an RTX
# A6000 (300 W) peaks at 654 W over 200 us (2.18x), a Quadro RTX 4000 (160 W)
# at 352.8 W (2.2x) (Lenovo ThinkSystem ST650 V2 setup guide, technical rules
# for GPU, https://www.easymanua.ls/lenovo/thinksystem-st650-v2/manual/379474?p=69).
GPU_TRANSIENT_FACTOR = 2.2

# ATX 3.x supplies must carry 200 % of their rating for 100 us (Intel ATX 3.0
# Multi Rail Desktop Platform Power Supply Design Guide, power excursion).
# Older units trip over-current protection nearer 1.2-1.4x; pass 1.3 for them.
PSU_PEAK_FRAC_ATX3 = 2.0

# Continuous loads may use 80 % of a branch circuit's breaker rating
# (NFPA 70, NEC 210.19(A)(1) and 210.20(A): continuous load x 125 % <= rating).
# 120 V x 15 A x 0.8 = 1,440 W. Applied to 230 V circuits too, as a prudent margin.
CONTINUOUS_LOAD_FRAC = 0.8
# Wall circuits a desktop plugs into: 100 V (Japan) to 250 V (230/240 V mains),
# breakers from 5 A to 63 A (15 or 20 A US, 16 A EU, 10 A AU, 13 A UK plug).
MIN_CIRCUIT_VOLTS, MAX_CIRCUIT_VOLTS = 100.0, 250.0
MIN_CIRCUIT_AMPS, MAX_CIRCUIT_AMPS = 5.0, 63.0

# Purchasable system RAM totals (desktop kits up to 256 GiB, then server). [GiB]
PURCHASABLE_RAM_GIB = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)

# OS, desktop session and runtime process outside the model. Assumption: Ubuntu
# Desktop asks for 4 GB minimum (https://ubuntu.com/download/desktop); a
# working desktop with a browser sits at 6-8 GiB.
OS_RESERVE_GIB = 8.0

# Reading a checkpoint already in the page cache: memcpy out of the cache plus
# the host-to-device copy. Assumption: ~10 GB/s, below one PCIe 4.0 x16 link
# (~25 GB/s achieved) because loaders copy tensor by tensor from one thread.
PAGE_CACHE_READ_GB_PER_S = 10.0

# CPU PCIe lanes a consumer desktop gives to graphics slots: one x16, or x8/x8
# (Intel LGA1700: 16 Gen5 + 4 Gen4; AMD AM5: 24 usable = 16 + 4 + 4). Further
# slots hang off the chipset at x4.
CONSUMER_GPU_LANES = 16
NVME_LANES = 4

# Cores. Assumption: each GPU's runtime thread keeps one core busy feeding
# kernels, plus headroom for OS, tokenizer and server: 2 + 2 per GPU, at least
# 4. With layers offloaded to the CPU, decode of those layers is bound by RAM
# bandwidth, which llama.cpp saturates with about 8 threads on a desktop.
MIN_CORES = 4
CORES_PER_GPU = 2
CORES_BASE = 2
MIN_CORES_OFFLOAD = 8

# Connector names in catalog/gpus.yaml -> canonical kind.
_CONNECTOR_KINDS = {
    "8-pin": "pcie_8pin",
    "6+2-pin": "pcie_8pin",
    "pcie-8-pin": "pcie_8pin",
    "6-pin": "pcie_6pin",
    "pcie-6-pin": "pcie_6pin",
    "12v-2x6": "pcie_12v_2x6",
    "12vhpwr": "pcie_12v_2x6",
    "16-pin": "pcie_12v_2x6",
    "eps-8-pin": "eps_8pin",
    "cpu-8-pin": "eps_8pin",
    "8-pin-eps": "eps_8pin",
    "8-pin-cpu": "eps_8pin",
}
# A 12V-2x6 plug carries up to 600 W; NVIDIA's adapter for PSUs without one
# takes four PCIe 8-pin cables (150 W each).
PCIE_8PIN_PER_12V_2X6 = 4


@dataclass(frozen=True)
class PsuRecommendation:
    """Power supply sizing."""

    sustained_w: float  # sustained DC load [W]
    transient_peak_w: float  # load during GPU excursions (~100 us) [W]
    needed_w: float  # smallest rating that covers margin and transients [W]
    recommended_w: float | None  # next standard size; None above the largest
    exceeds_standard_sizes: bool  # needs several supplies or a server PSU


@dataclass(frozen=True)
class PowerConnectors:
    """GPU power plugs the PSU must provide, summed over all GPUs."""

    pcie_8pin_count: int
    pcie_6pin_count: int
    pcie_12v_2x6_count: int
    eps_8pin_count: int  # CPU-style 8-pin on some workstation/datacenter cards
    pcie_8pin_count_without_12v_2x6: int  # 8-pin cables if 12V-2x6 goes through adapters


@dataclass(frozen=True)
class WallCircuitCheck:
    """Whether one branch circuit can feed the box continuously."""

    wall_w: float  # drawn from the socket, PSU losses included [W]
    circuit_w: float  # volts x amps [W]
    continuous_limit_w: float  # 80 % of the circuit [W]
    headroom_w: float  # continuous limit - wall draw (negative: over) [W]
    ok: bool


@dataclass(frozen=True)
class RamRecommendation:
    """System RAM sizing."""

    needed_bytes: float  # offloaded + OS reserve + page cache [B]
    recommended_bytes: float | None  # next purchasable size; None above the largest [B]
    recommended_gib: float | None  # the same in GiB [GiB]


@dataclass(frozen=True)
class CpuGuidance:
    """Minimum CPU and platform for a GPU count."""

    min_physical_cores: int
    pcie_lanes_needed: int  # GPUs at full width + one NVMe drive
    gpu_lanes_each_on_consumer: int  # what each GPU gets on a consumer desktop
    consumer_platform_full_lanes: bool  # every GPU at its full width on a desktop


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def resolve_record_id(*, records: Sequence[R], record_id: str, kind: str = "record") -> R:
    """The record with this id; ValueError listing the valid ids otherwise.

    ``kind`` names the catalog in the message ("storage class", "cooler").
    """
    for record in records:
        if str(record.id) == record_id:
            return record
    valid = ", ".join(str(r.id) for r in records)
    raise ValueError(f"unknown {kind} id {record_id!r}; valid ids: {valid}")


def psu_recommended_w(
    *,
    sustained_system_w: float,
    gpu_board_power_w_total: float,
    margin_frac: float = PSU_MARGIN_FRAC,
    transient_factor: float = GPU_TRANSIENT_FACTOR,
    psu_peak_frac: float = PSU_PEAK_FRAC_ATX3,
) -> PsuRecommendation:
    """Power supply rating for the box, rounded up to a standard size.

    ``needed = max(sustained x margin, transient_peak / psu_peak_frac)`` with
    ``transient_peak = sustained + gpu_board_total x (transient_factor - 1)``
    (conservative: as if the GPUs spiked from their board power).

    Parameters
    ----------
    sustained_system_w : float
        Sustained DC load of the whole box (``sizing.power.system_power_w``). [W]
    gpu_board_power_w_total : float
        Sum of the GPUs' rated board power. [W]
    margin_frac : float
        Rating over sustained load. [-] 1.0-2.0, default 1.3.
    transient_factor : float
        GPU excursion peak over board power. [-] 1.0-4.0, default 2.2.
    psu_peak_frac : float
        Short overload the PSU carries, over its rating. [-] 1.0-3.0;
        2.0 for ATX 3.x, about 1.3 for older units.

    >>> psu_recommended_w(sustained_system_w=650, gpu_board_power_w_total=450).recommended_w
    850.0
    """
    if sustained_system_w <= 0:
        raise ValueError(f"sustained_system_w must be above 0 (got {sustained_system_w})")
    if not 0 <= gpu_board_power_w_total <= sustained_system_w * 10:
        raise ValueError("gpu_board_power_w_total must be 0 or more (and plausible for the box)")
    if not PSU_MARGIN_MIN_FRAC <= margin_frac <= PSU_MARGIN_MAX_FRAC:
        raise ValueError(
            f"margin_frac must be between {PSU_MARGIN_MIN_FRAC} and {PSU_MARGIN_MAX_FRAC} (got {margin_frac})"
        )
    if not 1.0 <= transient_factor <= 4.0:
        raise ValueError(f"transient_factor must be between 1 and 4 (got {transient_factor})")
    if not 1.0 <= psu_peak_frac <= 3.0:
        raise ValueError(f"psu_peak_frac must be between 1 and 3 (got {psu_peak_frac})")
    peak_w = sustained_system_w + gpu_board_power_w_total * (transient_factor - 1.0)
    needed_w = max(sustained_system_w * margin_frac, peak_w / psu_peak_frac)
    recommended = next((s for s in STANDARD_PSU_SIZES_W if s >= needed_w), None)
    return PsuRecommendation(
        sustained_w=float(sustained_system_w),
        transient_peak_w=peak_w,
        needed_w=needed_w,
        recommended_w=recommended,
        exceeds_standard_sizes=recommended is None,
    )


def required_power_connectors(*, gpu_connectors: Sequence[Sequence[str]]) -> PowerConnectors:
    """GPU power plugs needed, from each GPU's connector list (``Gpu.power_connectors``).

    >>> required_power_connectors(gpu_connectors=[("12v-2x6",), ("8-pin", "8-pin")])
    PowerConnectors(pcie_8pin_count=2, pcie_6pin_count=0, pcie_12v_2x6_count=1,
                    eps_8pin_count=0, pcie_8pin_count_without_12v_2x6=6)
    """
    counts = {"pcie_8pin": 0, "pcie_6pin": 0, "pcie_12v_2x6": 0, "eps_8pin": 0}
    for connectors in gpu_connectors:
        if isinstance(connectors, str):
            raise ValueError("gpu_connectors must hold one list of connector names per GPU")
        for name in connectors:
            kind = _CONNECTOR_KINDS.get(name.strip().lower())
            if kind is None:
                allowed = ", ".join(sorted(_CONNECTOR_KINDS))
                raise ValueError(f"unknown power connector {name!r}; allowed: {allowed}")
            counts[kind] += 1
    return PowerConnectors(
        pcie_8pin_count=counts["pcie_8pin"],
        pcie_6pin_count=counts["pcie_6pin"],
        pcie_12v_2x6_count=counts["pcie_12v_2x6"],
        eps_8pin_count=counts["eps_8pin"],
        pcie_8pin_count_without_12v_2x6=counts["pcie_8pin"]
        + PCIE_8PIN_PER_12V_2X6 * counts["pcie_12v_2x6"],
    )


def check_circuit(volts: float, amps: float) -> None:
    """Refuse a wall circuit no building has, naming the range. [V, A]"""
    if not MIN_CIRCUIT_VOLTS <= volts <= MAX_CIRCUIT_VOLTS:
        raise UserError(f"circuit voltage must be between {MIN_CIRCUIT_VOLTS:g} and "
                        f"{MAX_CIRCUIT_VOLTS:g} V (got {volts:g} V)", code="circuit_volts_range",
                        params={"low": f"{MIN_CIRCUIT_VOLTS:g}", "high": f"{MAX_CIRCUIT_VOLTS:g}",
                                "got": f"{volts:g}"})
    if not MIN_CIRCUIT_AMPS <= amps <= MAX_CIRCUIT_AMPS:
        raise UserError(f"circuit breaker must be between {MIN_CIRCUIT_AMPS:g} and "
                        f"{MAX_CIRCUIT_AMPS:g} A (got {amps:g} A)", code="circuit_amps_range",
                        params={"low": f"{MIN_CIRCUIT_AMPS:g}", "high": f"{MAX_CIRCUIT_AMPS:g}",
                                "got": f"{amps:g}"})


def wall_circuit_check(
    *,
    system_power_w: float,
    volts: float = 120.0,
    amps: float = 15.0,
    psu_efficiency_frac: float = 0.9,
    continuous_frac: float = CONTINUOUS_LOAD_FRAC,
) -> WallCircuitCheck:
    """Whether one branch circuit feeds the box continuously (80 % rule).

    Parameters
    ----------
    system_power_w : float
        Sustained DC load of the box. [W]
    volts : float
        Mains voltage. [V] 100-250 (120 North America, 230 Europe).
    amps : float
        Breaker rating. [A] 5-63 (15 or 20 US, 16 EU, 10 AU, 13 UK plug).
    psu_efficiency_frac : float
        PSU efficiency at this load. [0.5-1]
    continuous_frac : float
        Share of the rating usable continuously. [0.5-1]

    >>> c = wall_circuit_check(system_power_w=1250)
    >>> c.continuous_limit_w, round(c.wall_w), c.ok
    (1440.0, 1389, True)
    """
    check_circuit(volts, amps)
    if not 0.5 <= continuous_frac <= 1.0:
        raise ValueError(f"continuous_frac must be between 0.5 and 1 (got {continuous_frac})")
    wall_w = wall_power_w(system_power_w=system_power_w, psu_efficiency_frac=psu_efficiency_frac)
    circuit_w = float(volts * amps)
    limit_w = circuit_w * continuous_frac
    return WallCircuitCheck(
        wall_w=wall_w,
        circuit_w=circuit_w,
        continuous_limit_w=limit_w,
        headroom_w=limit_w - wall_w,
        ok=wall_w <= limit_w,
    )


def ram_recommended_bytes(
    *,
    offloaded_bytes: float,
    model_file_bytes: float,
    os_reserve_bytes: float = OS_RESERVE_GIB * BYTES_PER_GIB,
    cache_model_file: bool = True,
) -> RamRecommendation:
    """System RAM for the OS, what is offloaded to the CPU and the mapped model file. [B]

    ``needed = os_reserve + offloaded + max(file - offloaded, 0)`` with the
    page cache on (the offloaded weights are themselves pages of the mapped
    file, so they are not counted twice; the rest of the file stays cached so
    a reload reads RAM, not disk), or ``os_reserve + offloaded`` without it.
    Rounded up to a purchasable size: 16/32/64/96/128/192/256 GiB, then server sizes.

    Parameters
    ----------
    offloaded_bytes : float
        Weights and cache kept in system RAM by the runtime. [B]
    model_file_bytes : float
        Size of the checkpoint file(s). [B]
    os_reserve_bytes : float
        OS, desktop and runtime process. [B] Default 8 GiB.
    cache_model_file : bool
        Keep the whole model file in the page cache.

    >>> r = ram_recommended_bytes(offloaded_bytes=0, model_file_bytes=40e9)
    >>> r.recommended_gib
    64.0
    """
    for name, value in (
        ("offloaded_bytes", offloaded_bytes),
        ("model_file_bytes", model_file_bytes),
        ("os_reserve_bytes", os_reserve_bytes),
    ):
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number, 0 or more (got {value})")
    # offloaded + max(file - offloaded, 0), written so rounding keeps it monotonic.
    cached_bytes = max(offloaded_bytes, model_file_bytes) if cache_model_file else offloaded_bytes
    needed = os_reserve_bytes + cached_bytes
    size_gib = next((float(g) for g in PURCHASABLE_RAM_GIB if gib_to_bytes(g) >= needed), None)
    return RamRecommendation(
        needed_bytes=needed,
        recommended_bytes=None if size_gib is None else gib_to_bytes(size_gib),
        recommended_gib=size_gib,
    )


def cpu_guidance(*, gpu_count: int, gpu_pcie_lanes_each: int = 16, offload: bool = False) -> CpuGuidance:
    """Minimum physical cores and PCIe lanes for a number of GPUs.

    Layer-split (pipeline) inference moves little data over PCIe, so x4 per
    GPU works; tensor parallelism wants x8 or more per GPU.

    >>> cpu_guidance(gpu_count=2)
    CpuGuidance(min_physical_cores=6, pcie_lanes_needed=36, gpu_lanes_each_on_consumer=8,
                consumer_platform_full_lanes=False)
    """
    if not 0 <= gpu_count <= 16:
        raise ValueError(f"gpu_count must be between 0 and 16 (got {gpu_count})")
    if gpu_pcie_lanes_each not in (1, 2, 4, 8, 16):
        raise ValueError(f"gpu_pcie_lanes_each must be one of 1, 2, 4, 8, 16 (got {gpu_pcie_lanes_each})")
    cores = max(MIN_CORES, CORES_BASE + CORES_PER_GPU * gpu_count)
    if offload:
        cores = max(cores, MIN_CORES_OFFLOAD)
    if gpu_count == 0:
        consumer_each = 0
    elif gpu_count == 1:
        consumer_each = min(gpu_pcie_lanes_each, CONSUMER_GPU_LANES)
    elif gpu_count == 2:
        consumer_each = min(gpu_pcie_lanes_each, CONSUMER_GPU_LANES // 2)
    else:
        consumer_each = min(gpu_pcie_lanes_each, 4)  # chipset slots
    return CpuGuidance(
        min_physical_cores=cores,
        pcie_lanes_needed=gpu_count * gpu_pcie_lanes_each + NVME_LANES,
        gpu_lanes_each_on_consumer=consumer_each,
        consumer_platform_full_lanes=gpu_count * gpu_pcie_lanes_each <= CONSUMER_GPU_LANES,
    )


def load_time_s(
    *,
    file_bytes: float,
    read_gb_per_s: float,
    cached_in_ram: bool = False,
    cache_read_gb_per_s: float = PAGE_CACHE_READ_GB_PER_S,
) -> float:
    """Time to read a model checkpoint into the runtime. [s]

    ``file_bytes / read speed``, from storage or, when the file is already in
    the page cache, from RAM (the faster of the two).

    >>> round(load_time_s(file_bytes=130e9, read_gb_per_s=3.4), 1)
    38.2
    """
    if not (file_bytes >= 0 and math.isfinite(file_bytes)):
        raise ValueError(f"file_bytes must be a finite number, 0 or more (got {file_bytes})")
    if not read_gb_per_s > 0:
        raise ValueError(f"read_gb_per_s must be above 0 (got {read_gb_per_s})")
    if not cache_read_gb_per_s > 0:
        raise ValueError(f"cache_read_gb_per_s must be above 0 (got {cache_read_gb_per_s})")
    speed_gb_per_s = max(read_gb_per_s, cache_read_gb_per_s) if cached_in_ram else read_gb_per_s
    return file_bytes / gb_per_s_to_bytes_per_s(speed_gb_per_s)
