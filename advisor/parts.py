"""Parts around the GPUs: platforms, slot layout, PSU, and the cheapest complete machine.

Pure selection over the market catalog (``catalog.market``): which CPU and
motherboard pairs exist, where cards of a given width sit on a board and how
many lanes each gets, which PSU feeds them, and what the cheapest complete
machine around a card costs whatever the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.results import Part
from catalog.catalog import Catalog
from catalog.market import Case, Cpu, CpuCooler, Market, Motherboard, Psu, RamKit, Storage
from catalog.schema import CoolerClass, Gpu
from sizing.power import REST_OF_SYSTEM_W
from sizing.system import NVME_LANES, cpu_guidance, psu_recommended_w, required_power_connectors

# GPU counts a desktop build is searched with.
GPU_COUNTS = (1, 2, 4)
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
# Far above the rounding error of a sum of a few prices, far below a cent. [USD]
ROUNDING_MARGIN_USD = 1e-6
# PSU answers a shop keeps (a shop lives with its catalog; the voltage is the user's).
MAX_KEPT_PSU_ANSWERS = 4096

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
    base_usd: float  # CPU + board + cooler, what :func:`platforms` sorts by [USD]


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
                out.append(Platform(cpu, board, coolers[0], cpu.price.usd + board.price.usd
                                    + coolers[0].price.usd))
    out.sort(key=lambda p: p.base_usd)
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


def part_of(kind, record, *, name: str | None = None) -> Part:
    return Part(kind=kind, id=record.id, name=name or record.name, quantity=1,
                unit_usd=record.price.usd, total_usd=record.price.usd, used=False,
                source=record.price.source)


def cheapest_storage(drives: Sequence[Storage], need_gb: float) -> Storage | None:
    fits = [d for d in drives if d.storage_class.value.startswith("nvme") and d.capacity_gb >= need_gb]
    return min(fits, key=lambda d: d.price.usd, default=None)


def cheapest_case(cases: Sequence[Case], board: Motherboard, slots: int) -> Case | None:
    fits = [c for c in cases if board.form_factor in c.form_factors and c.expansion_slots >= slots]
    return min(fits, key=lambda c: c.price.usd, default=None)


def cheapest_ram(kits: Sequence[RamKit], board: Motherboard, need_gib: float | None) -> RamKit | None:
    fits = [k for k in kits if k.memory_type == board.memory_type and k.dimm_type == board.dimm_type
            and k.modules <= board.dimm_slots and k.capacity_gib <= board.max_memory_gib]
    if not fits:
        return None
    enough = [k for k in fits if need_gib is not None and k.capacity_gib >= need_gib]
    if enough:
        return min(enough, key=lambda k: k.price.usd)
    return max(fits, key=lambda k: (k.capacity_gib, -k.price.usd))  # page cache partial


def cheapest_psu(psus: Sequence[Psu], need_w: float, volts: float, pcie_8pin: int,
                  connector_12v_2x6: int) -> Psu | None:
    fits = [p for p in psus if psu_rating_w(p, volts=volts) >= need_w
            and psu_connectors_ok(p, pcie_8pin=pcie_8pin, connector_12v_2x6=connector_12v_2x6)]
    return min(fits, key=lambda p: p.price.usd, default=None)


def parts_floor_usd(market: Market) -> float:
    """The least a case, a RAM kit and a PSU can cost, each the catalog's cheapest. [USD]"""
    return sum(min((r.price.usd for r in records), default=0.0)
               for records in (market.cases, market.ram_kits, market.psus))


def cannot_beat(lower_usd: float, best_usd: float) -> bool:
    """Whether a machine that costs at least ``lower_usd`` cannot undercut ``best_usd``. [USD]

    The bound sums the same prices in another order, so it can exceed the total by a
    rounding error; the margin keeps a total that ties or undercuts ``best_usd`` by
    more than that from being skipped. Platforms come sorted by ``base_usd``, so once
    one cannot beat the best machine, none after it can: the searches stop there.
    """
    return lower_usd - best_usd >= ROUNDING_MARGIN_USD


class Shop:
    """The market's part choices, each worked out once per distinct question.

    A plan assembles a machine around every GPU and count it can use; most of
    them ask for the same slot layouts, cases, RAM kits and PSUs, which this
    answers from memory (the answers of :func:`slot_layout` and the
    ``cheapest_*`` functions, unchanged).
    """

    @classmethod
    def kept(cls, catalog: Catalog) -> Shop:
        """The catalog's shop, kept with it: its answers depend on the market alone, so
        every plan on the catalog shares them (other prices make another catalog)."""
        kept = catalog.derived("shop")
        if "shop" not in kept:
            kept["shop"] = cls(catalog.market)
        return kept["shop"]

    def __init__(self, market: Market) -> None:
        self.market = market
        self.parts_floor_usd = parts_floor_usd(market)
        self._layouts: dict[tuple, Layout | None] = {}
        self._cases: dict[tuple, Case | None] = {}
        self._ram: dict[tuple, RamKit | None] = {}
        self._psus: dict[tuple, Psu | None] = {}
        self._parts: dict[tuple[str, str], Part] = {}

    def layout(self, p: Platform, *, gpu_count: int, slot_width: float, gpu_lanes: int,
               min_lanes: int) -> Layout | None:
        key = (p.board.id, p.cpu.id, gpu_count, slot_width, gpu_lanes, min_lanes)
        if key not in self._layouts:
            self._layouts[key] = slot_layout(p.board, p.cpu, gpu_count=gpu_count,
                                             slot_width=slot_width, gpu_lanes=gpu_lanes,
                                             min_lanes=min_lanes)
        return self._layouts[key]

    def case(self, board: Motherboard, slots: int) -> Case | None:
        key = (board.id, slots)
        if key not in self._cases:
            self._cases[key] = cheapest_case(self.market.cases, board, slots)
        return self._cases[key]

    def ram(self, board: Motherboard, need_gib: float | None) -> RamKit | None:
        key = (board.id, need_gib)
        if key not in self._ram:
            self._ram[key] = cheapest_ram(self.market.ram_kits, board, need_gib)
        return self._ram[key]

    def part(self, kind: str, record, *, name: str | None = None) -> Part:
        """The bill-of-materials line of one catalog part (:func:`part_of`), made once."""
        key = (kind, record.id)
        if key not in self._parts:
            self._parts[key] = part_of(kind, record, name=name)
        return self._parts[key]

    def psu(self, need_w: float, volts: float, pcie_8pin: int, connector_12v_2x6: int) -> Psu | None:
        key = (need_w, volts, pcie_8pin, connector_12v_2x6)
        if key not in self._psus:
            if len(self._psus) >= MAX_KEPT_PSU_ANSWERS:  # each mains voltage asks anew
                self._psus.clear()
            self._psus[key] = cheapest_psu(self.market.psus, need_w, volts, pcie_8pin,
                                           connector_12v_2x6)
        return self._psus[key]


def machine_usd(option: GpuOption, n: int, plats: Sequence[Platform], shop: Shop,
                volts: float) -> float | None:
    """Cheapest complete machine around ``n`` of these cards, whatever the model. [USD]"""
    gpu = option.gpu
    conn = required_power_connectors(gpu_connectors=[gpu.power_connectors] * n)
    need_8pin = conn.pcie_8pin_count + conn.pcie_6pin_count + PCIE_8PIN_PER_EPS * conn.eps_8pin_count
    storage = cheapest_storage(shop.market.storage, STORAGE_SPARE_GB)
    if storage is None:
        return None
    min_cores = cpu_guidance(gpu_count=n).min_physical_cores
    best = None
    for p in plats:
        if best is not None and cannot_beat(option.unit_usd * n + p.base_usd + storage.price.usd
                                            + shop.parts_floor_usd, best):
            break  # min() below would keep best, here and on every later platform
        if p.cpu.cores < min_cores:
            continue
        layout = shop.layout(p, gpu_count=n, slot_width=gpu.slot_width or DEFAULT_SLOT_WIDTH,
                             gpu_lanes=gpu.pcie_lanes or 16, min_lanes=MIN_LANES_LAYER)
        if layout is None:
            continue
        case = shop.case(p.board, layout.case_slots_needed)
        ram = shop.ram(p.board, 0.0)
        sustained = gpu.board_power_w * n + p.cpu.tdp_w + REST_OF_SYSTEM_W
        need = psu_recommended_w(sustained_system_w=sustained,
                                 gpu_board_power_w_total=gpu.board_power_w * n).needed_w
        psu = shop.psu(need, volts, need_8pin, conn.pcie_12v_2x6_count)
        if case is None or ram is None or psu is None:
            continue
        total = (option.unit_usd * n + p.cpu.price.usd + p.board.price.usd + p.cooler.price.usd
                 + case.price.usd + ram.price.usd + storage.price.usd + psu.price.usd)
        best = total if best is None else min(best, total)
    return best


def machine_floor(options: Sequence[GpuOption], plats: Sequence[Platform], shop: Shop, *,
                  volts: float = 120.0) -> tuple[float, GpuOption] | None:
    """The cheapest complete machine in the catalog, any model. [USD]"""
    priced = [(c, o) for o in options
              if (c := machine_usd(o, 1, plats, shop, volts)) is not None]
    return min(priced, key=lambda t: t[0], default=None)


def biggest_machine_within(options: Sequence[GpuOption], plats: Sequence[Platform],
                           shop: Shop, budget_usd: float, *,
                           volts: float = 120.0) -> tuple[float, GpuOption, int] | None:
    """The most GPU memory a budget buys: (cost [USD], card, count)."""
    best = None
    for o in options:
        for n in GPU_COUNTS:
            if o.unit_usd * n > budget_usd:
                break
            cost = machine_usd(o, n, plats, shop, volts)
            if cost is not None and cost <= budget_usd:
                key = (o.gpu.memory_gib * n, -cost)
                if best is None or key > best[0]:
                    best = (key, (cost, o, n))
    return None if best is None else best[1]
