"""What the purchase advisor returns: builds, tiers, cloud options and break-even.

Money is US dollars inside (``*_usd``); ``*_in_currency`` fields carry the
user's currency. Every sentence is a :class:`~sizing.notices.Notice`, which
front ends translate.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from typing import Literal

from sizing.service_level import ServeSettings
from sizing.notices import Notice
from sizing.results import Result

Tier = Literal["budget", "balanced", "workstation"]

class BreakEven(Result):
    """Buying one tier instead of renting this instance."""

    tier: str
    build_usd: float
    cloud_usd_per_month: float
    local_electricity_usd_per_month: float
    months: float | None  # None: renting is cheaper to run, buying never pays back


class CloudOption(Result):
    """One cloud instance running the workload."""

    instance_id: str
    name: str  # what pages show (CloudInstance.display_name)
    provider: str
    instance_type: str
    region: str
    gpu_id: str
    gpu_count: int
    quant: str
    runtime: str
    usd_per_hour: float
    usd_per_hour_in_currency: float
    decode_tokens_per_s: float | None  # aggregate over all users (None: an encoder)
    decode_tokens_per_s_per_user: float | None
    prefill_tokens_per_s: float | None
    meets_workload: bool
    memory_headroom_bytes: float
    usd_per_1m_tokens: float  # generated tokens; an encoder's input tokens
    usd_per_1m_tokens_in_currency: float
    cloud_usd_per_month: float
    break_even_months: dict[str, float | None]  # tier -> months (None: never)
    break_even: list[BreakEven]
    as_of: str
    source: str


class TierCost(Result):
    tier: str
    total_usd: float
    within_budget: bool
    decode_tokens_per_s: float | None


class CloudComparison(Result):
    """The cloud half of a plan, for pages that show only that."""

    model_id: str
    currency: str
    units_per_usd: float
    hours_per_day: float
    electricity_usd_per_kwh: float
    lead_with_cloud: bool
    message: list[Notice]  # the headline, one per sentence
    cloud: list[CloudOption]
    tiers: list[TierCost]
    task: str = "generate"  # the model's: "embed" and "rerank" are priced per input token


class Part(Result):
    kind: Literal["gpu", "cpu", "motherboard", "ram", "storage", "psu", "case", "cpu-cooler"]
    id: str
    name: str
    quantity: int
    unit_usd: float
    total_usd: float
    used: bool  # second-hand price
    source: str


class BuildChecks(Result):
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
    notes: list[Notice]


class Build(Result):
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
    tokens_per_s_per_kusd: float | None  # aggregate decode (an encoder: prefill) per 1,000 USD
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
    warnings: list[Notice]  # the engine's estimate warnings
    speculative: str | None = None  # "draft" or "mtp": it meets the service level with it
    # The model's task: "embed" and "rerank" (an encoder) generate nothing, so their
    # speed is the prefill: input tokens encoded per second.
    task: str = "generate"


class TierBuild(Build):
    tier: Tier
    within_budget: bool
    stretch: bool  # above the budget, shown because nothing faster fits in it
    reason: Notice  # why this build holds the tier


class GpuValue(Result):
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
    driver_terms: Notice


class ConsumerVsPro(Result):
    consumer: TierBuild | None  # cheapest consumer-card build meeting the workload
    professional: TierBuild | None  # cheapest workstation-card build meeting it
    best_consumer_gib_per_kusd: float | None
    best_professional_gib_per_kusd: float | None
    summary: list[Notice]  # one per sentence


class PlanResult(Result):
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
    message: list[Notice]  # the headline, one per sentence
    tiers: list[TierBuild]
    within_budget_best: TierBuild | None  # when nothing meets the workload in budget
    cloud: list[CloudOption]
    consumer_vs_pro: ConsumerVsPro
    gpu_values: list[GpuValue]
    builds_evaluated: int
    skipped: list[str]
    warnings: list[Notice]  # about how the model was obtained
    # The service level builds were sized by (None: the per-user speed), and whether
    # speculative decoding was allowed to meet it.
    service: ServeSettings | None = None
    speculative_allowed: bool = False
    task: str = "generate"  # the model's: "embed" and "rerank" are sized by prefill
