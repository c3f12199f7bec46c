"""Typed records for what can be rented or bought: cloud GPU instances, PC
parts, currencies and electricity prices.

Files (all under ``catalog/``):

- ``cloud.yaml``, key ``instances``: one whole cloud instance per entry,
  reviewed by hand; ``cloud_offers.yaml`` (:mod:`catalog.cloud_offers`), the
  dated snapshot generated from gpuhunt's catalog, replaces it when present.
- ``parts.yaml``, one key per kind: ``cpus``, ``motherboards``, ``ram_kits``,
  ``storage``, ``psus``, ``cases``, ``cpu_coolers``.
- ``currencies.yaml``, two keys: ``currencies`` (units per US dollar) and
  ``electricity`` (residential prices per kWh by region). Electricity sits in
  the same file because each price names the currency it was published in.
- ``regions.yaml``, key ``regions``: a region's currency, electricity price
  (an ``electricity`` entry) and household wall circuit.

``as_of`` is the date a figure was observed on its ``source`` page. Where a
provider's page carries no date of its own, ``as_of`` is the date the page
was read, and ``notes`` says so; ``notes`` also marks figures taken from the
provider's page as published without a second, archived copy to check them.

Units: memory in GiB (``_gib``), storage in decimal GB (``_gb``), bandwidth in
10^9 B/s (``_gb_per_s``), memory transfer rate in MT/s (``_mt_per_s``), power
in W, money in US dollars.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from catalog.cloud_offers import REVIEWED_FILE, SNAPSHOT_FILE, OffersSource, read_snapshot_header
from catalog.loader import CatalogError, check_references, load_records
from catalog.schema import Id, Positive, Price, Record, Url

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
MemoryType = Literal["ddr4", "ddr5"]
DimmType = Literal["udimm", "rdimm"]  # unbuffered (desktop) or registered (workstation/server)


# --------------------------------------------------------------------------- cloud


class Provider(StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    LAMBDA = "lambda"
    RUNPOD = "runpod"
    VASTAI = "vastai"
    NEBIUS = "nebius"
    OCI = "oci"
    VERDA = "verda"
    CLOUDRIFT = "cloudrift"


class InstanceLink(StrEnum):
    """How the GPUs of one instance talk to each other."""

    PCIE = "pcie"
    NVLINK = "nvlink"  # SXM boards with NVSwitch, or NVLink-bridged pairs
    INFINITY_FABRIC = "infinity-fabric"  # AMD OAM boards (MI300X)


PROVIDER_NAMES = {Provider.AWS: "AWS", Provider.GCP: "Google Cloud", Provider.AZURE: "Azure",
                  Provider.LAMBDA: "Lambda", Provider.RUNPOD: "RunPod", Provider.VASTAI: "Vast.ai",
                  Provider.NEBIUS: "Nebius", Provider.OCI: "Oracle Cloud", Provider.VERDA: "Verda",
                  Provider.CLOUDRIFT: "CloudRift"}
# Providers whose instance type is an API key (gpu_1x_a10, 1x_A40_SECURE) rather
# than a name their own pages show: their instances are named by their GPUs.
PROVIDERS_NAMED_BY_GPUS = frozenset({Provider.LAMBDA, Provider.RUNPOD, Provider.VASTAI})


class CloudInstance(Record):
    """One cloud instance type in one region, priced whole (on-demand unless listed as spot)."""

    id: Id
    provider: Provider
    instance_type: str = Field(min_length=2)  # the provider's own name
    gpu_id: Id
    gpu_count: int = Field(ge=1, le=16)
    gpu_memory_gib: Positive  # per GPU, nominal capacity as the GPU is sold
    vcpus: int = Field(gt=0)
    ram_gib: Positive
    usd_per_hour: Positive  # whole instance, Linux; on-demand (spot only in a snapshot's spot list)
    region: str = Field(min_length=2)
    interconnect: InstanceLink
    as_of: dt.date
    source: Url
    notes: str | None = None

    @property
    def total_gpu_memory_gib(self) -> float:
        return self.gpu_memory_gib * self.gpu_count

    @property
    def usd_per_gpu_hour(self) -> float:
        return self.usd_per_hour / self.gpu_count

    def display_name(self, gpu_name: str) -> str:
        """The instance as pages name it: "AWS g5.xlarge (1 × NVIDIA A10G)", "RunPod 1 × NVIDIA A40"."""
        gpus = f"{self.gpu_count} × {gpu_name}"
        provider = PROVIDER_NAMES[self.provider]
        if self.provider in PROVIDERS_NAMED_BY_GPUS:
            return f"{provider} {gpus}"
        return f"{provider} {self.instance_type} ({gpus})"


# --------------------------------------------------------------------------- parts


class FormFactor(StrEnum):
    MINI_ITX = "mini-itx"
    MICRO_ATX = "micro-atx"
    ATX = "atx"
    E_ATX = "e-atx"
    SSI_EEB = "ssi-eeb"


class Cpu(Record):
    id: Id
    name: str = Field(min_length=3)
    vendor: Literal["amd", "intel"]
    socket: Id  # am5, lga1700, lga1851, str5, sp5, lga4677
    cores: int = Field(gt=0)
    threads: int = Field(gt=0)
    pcie_lanes: int = Field(gt=0)  # usable from the CPU, chipset link excluded
    pcie_gen: int = Field(ge=3, le=6)
    memory_types: tuple[MemoryType, ...] = Field(min_length=1)
    dimm_type: DimmType
    memory_channels: int = Field(gt=0)  # 64-bit DDR channels
    max_memory_mt_per_s: Positive  # rated speed of the newest memory type, 1 DIMM per channel
    tdp_w: Positive  # base/default TDP as rated by the vendor
    price: Price
    source: Url
    notes: str | None = None

    @model_validator(mode="after")
    def _threads_cover_cores(self) -> "Cpu":
        if self.threads < self.cores:
            raise ValueError("threads is below cores")
        return self

    @property
    def memory_type(self) -> MemoryType:
        """The newest memory type the CPU takes."""
        return max(self.memory_types)


class PcieSlot(Record):
    """One x16-size slot. ``lanes`` is its electrical width when every
    x16-size slot on the board is populated; ``lanes_alone`` when it is the
    only one (boards split x16 into x8/x8)."""

    lanes: int = Field(ge=1, le=16)
    gen: int = Field(ge=3, le=6)
    lanes_alone: int | None = Field(default=None, ge=1, le=16)
    from_chipset: bool = False

    @model_validator(mode="after")
    def _alone_is_wider(self) -> "PcieSlot":
        if self.lanes_alone is not None and self.lanes_alone < self.lanes:
            raise ValueError("lanes_alone is below lanes")
        return self


class Motherboard(Record):
    """A board class, named after one real example board."""

    id: Id
    name: str = Field(min_length=3)  # the class
    example: str = Field(min_length=3)  # a real board of the class
    socket: Id
    chipset: str
    form_factor: FormFactor
    memory_type: MemoryType
    dimm_type: DimmType
    memory_channels: int = Field(gt=0)
    dimm_slots: int = Field(gt=0)
    max_memory_gib: Positive
    gpu_slots: tuple[PcieSlot, ...] = Field(min_length=1)
    # Slot positions from one x16-size slot to the next: 2 fits dual-slot
    # cards side by side, 3 fits 2.5/3-slot cards, 1 means adjacent slots.
    slot_spacing: int = Field(ge=1, le=4)
    m2_slots: int = Field(ge=0)
    price: Price
    source: Url
    notes: str | None = None

    @model_validator(mode="after")
    def _slots_fit_memory(self) -> "Motherboard":
        if self.dimm_slots < self.memory_channels:
            raise ValueError("fewer DIMM slots than memory channels")
        return self


class RamKit(Record):
    id: Id
    name: str = Field(min_length=3)
    capacity_gib: Positive  # whole kit
    modules: int = Field(gt=0)
    memory_type: MemoryType
    dimm_type: DimmType
    mt_per_s: Positive
    price: Price
    source: Url
    notes: str | None = None

    @property
    def module_gib(self) -> float:
        return self.capacity_gib / self.modules


class DriveKind(StrEnum):
    NVME_GEN5 = "nvme-gen5"
    NVME_GEN4 = "nvme-gen4"
    NVME_GEN3 = "nvme-gen3"
    SATA_SSD = "sata-ssd"
    HDD = "hdd"


class Storage(Record):
    id: Id
    name: str = Field(min_length=3)
    storage_class: DriveKind
    capacity_gb: Positive  # decimal, as sold
    read_gb_per_s: Positive  # sequential read, datasheet
    price: Price
    source: Url
    notes: str | None = None


class Psu(Record):
    id: Id
    name: str = Field(min_length=3)
    wattage_w: Positive  # continuous DC output at the rated input
    wattage_115v_w: Positive | None = None  # where lower on a 115 V circuit
    efficiency: Literal[
        "80plus-white", "80plus-bronze", "80plus-gold", "80plus-platinum", "80plus-titanium"
    ]
    pcie_8pin_count: int = Field(ge=0)
    connector_12v_2x6_count: int = Field(ge=0)  # 16-pin 12V-2x6 / 12VHPWR
    atx_version: Literal["2.x", "3.0", "3.1"]
    price: Price
    source: Url
    notes: str | None = None


class Case(Record):
    id: Id
    name: str = Field(min_length=3)
    form_factors: tuple[FormFactor, ...] = Field(min_length=1)  # boards it takes
    expansion_slots: int = Field(gt=0)
    max_gpu_length_mm: Positive
    price: Price
    source: Url
    notes: str | None = None


class CpuCooler(Record):
    id: Id
    name: str = Field(min_length=3)
    kind: Literal["air", "liquid"]
    tdp_rating_w: Positive  # heat load the maker or reviews rate it for
    sockets: tuple[Id, ...] = Field(min_length=1)
    price: Price
    source: Url
    notes: str | None = None


# --------------------------------------------------------------------------- money


class Currency(Record):
    code: CurrencyCode
    name: str = Field(min_length=3)
    units_per_usd: Positive
    as_of: dt.date
    source: Url
    notes: str | None = None


class ElectricityPrice(Record):
    """Typical residential price of one kWh, taxes included."""

    id: Id
    name: str = Field(min_length=2)
    usd_per_kwh: Positive  # converted with the rate in currencies.yaml
    local_price_per_kwh: Positive  # as published
    currency: CurrencyCode
    as_of: dt.date  # end of the period the price describes, or its publication date
    source: Url
    notes: str | None = None


class Region(Record):
    """Where the user is: the presets a plan starts from there."""

    id: Id
    name: str = Field(min_length=2)
    languages: tuple[str, ...] = ()  # app languages that pick this region by default
    currency: CurrencyCode
    electricity: Id  # an ElectricityPrice id
    circuit_volts: Positive  # nominal mains voltage [V]
    circuit_amps: Positive  # rating of the household socket (UK: the plug's fuse) [A]
    circuit_source: Url
    circuit_notes: str | None = None


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Market:
    instances: tuple[CloudInstance, ...]
    cpus: tuple[Cpu, ...]
    motherboards: tuple[Motherboard, ...]
    ram_kits: tuple[RamKit, ...]
    storage: tuple[Storage, ...]
    psus: tuple[Psu, ...]
    cases: tuple[Case, ...]
    cpu_coolers: tuple[CpuCooler, ...]
    currencies: tuple[Currency, ...]
    electricity: tuple[ElectricityPrice, ...]
    regions: tuple[Region, ...] = ()
    spot_instances: tuple[CloudInstance, ...] = ()  # kept apart: a spot price can be withdrawn
    offers_source: OffersSource | None = None  # which file ``instances`` came from, and its date

    def currency(self, code: str) -> Currency:
        for currency in self.currencies:
            if currency.code == code:
                return currency
        raise KeyError(code)

    def electricity_price(self, price_id: str) -> ElectricityPrice:
        for price in self.electricity:
            if price.id == price_id:
                return price
        raise KeyError(price_id)


def load_market(catalog_dir: Path, *, gpu_ids: Collection[str]) -> Market:
    """Load and cross-check cloud.yaml, parts.yaml, currencies.yaml and regions.yaml.

    ``gpu_ids`` are the ids of the GPU catalog, which every cloud instance's
    ``gpu_id`` must name; :func:`catalog.catalog.load_catalog_from` passes them.
    """
    instances, spot, source = load_cloud_offers(catalog_dir)
    parts = catalog_dir / "parts.yaml"
    money = catalog_dir / "currencies.yaml"
    market = Market(
        instances=instances,
        cpus=load_records(parts, "cpus", Cpu),
        motherboards=load_records(parts, "motherboards", Motherboard),
        ram_kits=load_records(parts, "ram_kits", RamKit),
        storage=load_records(parts, "storage", Storage),
        psus=load_records(parts, "psus", Psu),
        cases=load_records(parts, "cases", Case),
        cpu_coolers=load_records(parts, "cpu_coolers", CpuCooler),
        currencies=load_records(money, "currencies", Currency, id_field="code"),
        electricity=load_records(money, "electricity", ElectricityPrice),
        regions=load_records(catalog_dir / "regions.yaml", "regions", Region),
        spot_instances=spot, offers_source=source,
    )
    _check_market(market, set(gpu_ids))
    return market


def load_cloud_offers(catalog_dir: Path) -> tuple[tuple[CloudInstance, ...],
                                                  tuple[CloudInstance, ...], OffersSource]:
    """On-demand offers, spot offers and their source: the gpuhunt snapshot when present.

    Without ``cloud_offers.yaml`` the hand-reviewed ``cloud.yaml`` is used (no spot offers).
    """
    snapshot = catalog_dir / SNAPSHOT_FILE
    if snapshot.exists():
        header = read_snapshot_header(snapshot)
        on_demand = load_records(snapshot, "on_demand", CloudInstance)
        spot = load_records(snapshot, "spot", CloudInstance)
        clash = {i.id for i in on_demand} & {i.id for i in spot}
        if clash:
            raise CatalogError(f"{SNAPSHOT_FILE}: entry '{min(clash)}': listed as on-demand and spot")
        return on_demand, spot, OffersSource("gpuhunt", SNAPSHOT_FILE, header.generated_on,
                                             header.gpuhunt_version)
    reviewed = load_records(catalog_dir / REVIEWED_FILE, "instances", CloudInstance)
    newest = max((i.as_of for i in reviewed), default=dt.date.min)
    return reviewed, (), OffersSource("reviewed", REVIEWED_FILE, newest)


def _check_market(market: Market, gpu_ids: set[str]) -> None:
    cloud_file = market.offers_source.file if market.offers_source else REVIEWED_FILE
    for inst in (*market.instances, *market.spot_instances):
        check_references(cloud_file, inst.id, "gpu_id", [inst.gpu_id], gpu_ids)

    cpu_sockets = {cpu.socket for cpu in market.cpus}
    board_sockets = {board.socket for board in market.motherboards}
    kit_kinds = {f"{kit.memory_type}-{kit.dimm_type}" for kit in market.ram_kits}
    for board in market.motherboards:
        check_references("parts.yaml", board.id, "socket", [board.socket], cpu_sockets)
        kind = f"{board.memory_type}-{board.dimm_type}"
        check_references("parts.yaml", board.id, "memory_type", [kind], kit_kinds)
        takers = {
            cpu.dimm_type
            for cpu in market.cpus
            if cpu.socket == board.socket and board.memory_type in cpu.memory_types
        }
        check_references("parts.yaml", board.id, "dimm_type", [board.dimm_type], takers)
    for cpu in market.cpus:
        check_references("parts.yaml", cpu.id, "socket", [cpu.socket], board_sockets)
    for cooler in market.cpu_coolers:
        check_references("parts.yaml", cooler.id, "sockets", cooler.sockets, cpu_sockets)

    codes = {currency.code for currency in market.currencies}
    for price in market.electricity:
        check_references("currencies.yaml", price.id, "currency", [price.currency], codes)
    prices = {price.id for price in market.electricity}
    languages: set[str] = set()
    for region in market.regions:
        check_references("regions.yaml", region.id, "currency", [region.currency], codes)
        check_references("regions.yaml", region.id, "electricity", [region.electricity], prices)
        for language in region.languages:
            if language in languages:
                raise CatalogError(f"regions.yaml: entry '{region.id}': field 'languages': "
                                   f"'{language}' already picks another region")
            languages.add(language)
