"""Money: cost per token when renting, monthly costs, break-even, currencies and electricity.

Pure arithmetic first, then the lookups of the market catalog's currencies and
electricity prices. Money is US dollars inside. A month is 730 hours
(8,760 / 12), so 730 / 24 days.
"""

from __future__ import annotations

import math

from advisor.errors import PlanError
from catalog.errors import echo
from catalog.market import Market
from sizing.units import HOURS_PER_MONTH, SECONDS_PER_HOUR

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0  # 30.42 days
# The dearest electricity a plan takes, far above any residential tariff. [USD/kWh]
MAX_ELECTRICITY_USD_PER_KWH = 5.0



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


def check_hours(hours_per_day: float) -> None:
    if not 0 <= hours_per_day <= 24:
        raise ValueError(f"hours_per_day must be between 0 and 24 (got {hours_per_day})")


def cloud_usd_per_month(*, usd_per_hour: float, hours_per_day: float) -> float:
    """Rental for ``hours_per_day`` every day of an average month. [USD]

    >>> round(cloud_usd_per_month(usd_per_hour=1.0, hours_per_day=24), 6)
    730.0
    """
    check_hours(hours_per_day)
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
    check_hours(hours_per_day)
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


def units_per_usd(market: Market, code: str) -> float:
    """Units of the currency ``code`` (ISO 4217) per US dollar."""
    try:
        return market.currency(code.upper()).units_per_usd
    except KeyError:
        known = ", ".join(c.code for c in market.currencies)
        raise PlanError(f"unknown currency '{echo(code)}'; known: {known}", code="unknown_currency",
                        params={"got": echo(code), "known": known}) from None


def electricity_usd_per_kwh(market: Market, *, override: float | None, region: str | None,
                            requested: float | None) -> float:
    """The electricity price to use: an explicit price, else a region's, else the
    request's, else the US average. [USD/kWh]"""
    if override is not None:
        if not 0 <= override <= MAX_ELECTRICITY_USD_PER_KWH:
            raise PlanError(f"electricity price must be between 0 and "
                            f"{MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh (got {override:g})",
                            code="electricity_price_range",
                            params={"high": f"{MAX_ELECTRICITY_USD_PER_KWH:g}", "got": f"{override:g}"})
        return override
    if region is not None:
        for price in market.electricity:
            if price.id == region:
                return price.usd_per_kwh
        known = ", ".join(p.id for p in market.electricity)
        raise PlanError(f"unknown electricity region '{echo(region)}'; known: {known}",
                        code="unknown_electricity_region", params={"got": echo(region), "known": known})
    if requested is not None:
        return requested
    return next(p.usd_per_kwh for p in market.electricity if p.id == "us-average")
