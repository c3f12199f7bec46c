"""Renting instead of buying: cloud cost per token and break-even against a build.

Pure arithmetic first (cost per million tokens, monthly cost, break-even
months), then :func:`cloud_options`, which runs the engine on every catalog
instance's GPU and count, and :func:`compare`, the front ends' entry point
(it runs the purchase advisor, :func:`sizing.plan.plan`, and returns its cloud
half).

Money is US dollars inside; ``*_in_currency`` fields carry the user's currency.
A month is 730 hours (8,760 / 12), so 730 / 24 days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from catalog.market import CloudInstance
from sizing.notices import NoticeOut
from sizing.units import HOURS_PER_MONTH, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from catalog.catalog import Catalog
    from sizing.plan import Candidate, PlanResult
    from sizing.request import EstimateRequest

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0  # 30.42 days


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --------------------------------------------------------------------------- arithmetic


def usd_per_1m_tokens(*, usd_per_hour: float, tokens_per_s: float) -> float:
    """Rental cost of one million generated tokens at full use. [USD]

    ``usd_per_hour / (3600 x tokens_per_s) x 1e6``.

    >>> usd_per_1m_tokens(usd_per_hour=3.6, tokens_per_s=100)
    10.0
    """
    if not usd_per_hour >= 0:
        raise ValueError(f"usd_per_hour must be 0 or more (got {usd_per_hour})")
    if not (tokens_per_s > 0 and math.isfinite(tokens_per_s)):
        raise ValueError(f"tokens_per_s must be above 0 (got {tokens_per_s})")
    return usd_per_hour / (SECONDS_PER_HOUR * tokens_per_s) * 1e6


def _check_hours(hours_per_day: float) -> None:
    if not 0 <= hours_per_day <= 24:
        raise ValueError(f"hours_per_day must be between 0 and 24 (got {hours_per_day})")


def cloud_usd_per_month(*, usd_per_hour: float, hours_per_day: float) -> float:
    """Rental for ``hours_per_day`` every day of an average month. [USD]

    >>> round(cloud_usd_per_month(usd_per_hour=1.0, hours_per_day=24), 6)
    730.0
    """
    _check_hours(hours_per_day)
    if not usd_per_hour >= 0:
        raise ValueError(f"usd_per_hour must be 0 or more (got {usd_per_hour})")
    return usd_per_hour * hours_per_day * DAYS_PER_MONTH


def electricity_usd_per_month(*, wall_power_w: float, hours_per_day: float,
                              usd_per_kwh: float) -> float:
    """Electricity for running a machine ``hours_per_day`` every day of a month. [USD]

    The machine is assumed off outside those hours.

    >>> round(electricity_usd_per_month(wall_power_w=1000, hours_per_day=24, usd_per_kwh=0.1), 6)
    73.0
    """
    _check_hours(hours_per_day)
    if not wall_power_w >= 0:
        raise ValueError(f"wall_power_w must be 0 or more (got {wall_power_w})")
    if not usd_per_kwh >= 0:
        raise ValueError(f"usd_per_kwh must be 0 or more (got {usd_per_kwh})")
    return wall_power_w / 1000.0 * hours_per_day * DAYS_PER_MONTH * usd_per_kwh


def break_even_months(*, build_usd: float, cloud_usd_per_month: float,
                      local_electricity_usd_per_month: float) -> float | None:
    """Months of use after which buying has cost less than renting. [month]

    ``build / (cloud per month - local electricity per month)``; None ("never")
    when renting costs no more per month than the electricity alone.

    >>> break_even_months(build_usd=3000, cloud_usd_per_month=300,
    ...                   local_electricity_usd_per_month=50)
    12.0
    >>> break_even_months(build_usd=3000, cloud_usd_per_month=40,
    ...                   local_electricity_usd_per_month=50) is None
    True
    """
    if not build_usd >= 0:
        raise ValueError(f"build_usd must be 0 or more (got {build_usd})")
    saving = cloud_usd_per_month - local_electricity_usd_per_month
    if saving <= 0:
        return None
    return build_usd / saving


# --------------------------------------------------------------------------- results


class BreakEven(_Out):
    """Buying one tier instead of renting this instance."""

    tier: str
    build_usd: float
    cloud_usd_per_month: float
    local_electricity_usd_per_month: float
    months: float | None  # None: renting is cheaper to run, buying never pays back


class CloudOption(_Out):
    """One cloud instance running the workload."""

    instance_id: str
    provider: str
    instance_type: str
    region: str
    gpu_id: str
    gpu_count: int
    quant: str
    runtime: str
    usd_per_hour: float
    usd_per_hour_in_currency: float
    decode_tokens_per_s: float  # aggregate over all users
    decode_tokens_per_s_per_user: float
    prefill_tokens_per_s: float | None
    meets_workload: bool
    memory_headroom_bytes: float
    usd_per_1m_tokens: float
    usd_per_1m_tokens_in_currency: float
    cloud_usd_per_month: float
    break_even_months: dict[str, float | None]  # tier -> months (None: never)
    break_even: list[BreakEven]
    as_of: str
    source: str


class TierCost(_Out):
    tier: str
    total_usd: float
    within_budget: bool
    decode_tokens_per_s: float | None


class CloudComparison(_Out):
    """The cloud half of a plan, for pages that show only that."""

    model_id: str
    currency: str
    units_per_usd: float
    hours_per_day: float
    electricity_usd_per_kwh: float
    lead_with_cloud: bool
    message: str  # English: message_notices' texts joined by spaces
    message_notices: list[NoticeOut] = []  # one per sentence, for translation
    cloud: list[CloudOption]
    tiers: list[TierCost]


# --------------------------------------------------------------------------- search


Evaluate = Callable[[str, int], "Candidate | None"]


def cloud_options(instances: Sequence[CloudInstance], evaluate: Evaluate, *,
                  tiers: Sequence[tuple[str, float, float]], hours_per_day: float,
                  usd_per_kwh: float, units_per_usd: float) -> list[CloudOption]:
    """Instances whose GPUs hold the workload, cheapest per token first.

    ``evaluate(gpu_id, gpu_count)`` returns the engine's best configuration
    (quant, runtime, speed) on that hardware, or None when nothing fits.
    ``tiers`` holds (tier name, build cost [USD], wall power while generating
    [W]) for the break-even columns. Instances that fit but miss the speed
    target are kept, marked ``meets_workload=False``, after those that meet it.
    """
    _check_hours(hours_per_day)
    options: list[CloudOption] = []
    for inst in instances:
        found = evaluate(inst.gpu_id, inst.gpu_count)
        if found is None or not found.decode_tokens_per_s:
            continue
        monthly = cloud_usd_per_month(usd_per_hour=inst.usd_per_hour, hours_per_day=hours_per_day)
        rows = []
        for name, build_usd, wall_w in tiers:
            local = electricity_usd_per_month(wall_power_w=wall_w, hours_per_day=hours_per_day,
                                              usd_per_kwh=usd_per_kwh)
            rows.append(BreakEven(
                tier=name, build_usd=build_usd, cloud_usd_per_month=monthly,
                local_electricity_usd_per_month=local,
                months=break_even_months(build_usd=build_usd, cloud_usd_per_month=monthly,
                                         local_electricity_usd_per_month=local)))
        per_1m = usd_per_1m_tokens(usd_per_hour=inst.usd_per_hour,
                                   tokens_per_s=found.decode_tokens_per_s)
        options.append(CloudOption(
            instance_id=inst.id, provider=inst.provider.value, instance_type=inst.instance_type,
            region=inst.region, gpu_id=inst.gpu_id, gpu_count=inst.gpu_count,
            quant=found.quant, runtime=found.runtime, usd_per_hour=inst.usd_per_hour,
            usd_per_hour_in_currency=inst.usd_per_hour * units_per_usd,
            decode_tokens_per_s=found.decode_tokens_per_s,
            decode_tokens_per_s_per_user=found.decode_tokens_per_s_per_user,
            prefill_tokens_per_s=found.prefill_tokens_per_s,
            meets_workload=found.meets_workload,
            memory_headroom_bytes=found.memory_headroom_bytes,
            usd_per_1m_tokens=per_1m, usd_per_1m_tokens_in_currency=per_1m * units_per_usd,
            cloud_usd_per_month=monthly,
            break_even_months={r.tier: r.months for r in rows}, break_even=rows,
            as_of=inst.as_of.isoformat(), source=inst.source))
    options.sort(key=lambda o: (not o.meets_workload, o.usd_per_1m_tokens, o.usd_per_hour))
    return options


def comparison_of(result: PlanResult) -> CloudComparison:
    """The cloud half of a plan result."""
    return CloudComparison(
        model_id=result.model_id, currency=result.currency, units_per_usd=result.units_per_usd,
        hours_per_day=result.hours_per_day,
        electricity_usd_per_kwh=result.electricity_usd_per_kwh,
        lead_with_cloud=result.lead_with_cloud, message=result.message,
        message_notices=result.message_notices, cloud=result.cloud,
        tiers=[TierCost(tier=t.tier, total_usd=t.total_usd, within_budget=t.within_budget,
                        decode_tokens_per_s=t.decode_tokens_per_s) for t in result.tiers])


def compare(request: EstimateRequest, catalog: Catalog, *, budget_usd: float | None = None,
            users: int = 1, hours_per_day: float = 8.0, currency: str = "USD",
            **options) -> CloudComparison:
    """Cloud instances for the request's workload, with break-even against the
    purchase advisor's tiers (see :func:`sizing.plan.plan` for ``options``)."""
    from sizing.plan import plan  # plan imports this module; import late

    result = plan(request, catalog, budget_usd=budget_usd, users=users,
                  hours_per_day=hours_per_day, currency=currency, **options)
    return comparison_of(result)
