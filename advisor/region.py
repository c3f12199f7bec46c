"""Money and region in the user's own terms: currency, electricity and wall circuit.

A region (``catalog/regions.yaml``) gives a currency, a household electricity
price and a wall circuit; the app picks it from the language unless the user
names one, and every preset can be overridden. Amounts the user types (budget,
electricity price, own prices) are in the chosen currency and are converted
to US dollars once, here, at the catalog's rate; the engine works in dollars.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import math
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from advisor.errors import PlanError
from advisor.prices import MAX_ELECTRICITY_USD_PER_KWH, units_per_usd
from catalog.errors import UserError, echo
from catalog.market import Market, Region
from sizing.system import check_circuit

# The region a language no region names starts from (and the command line's default).
DEFAULT_REGION = "us"


class RegionTerms(BaseModel):
    """The currency, electricity price and wall circuit a plan uses, with where each came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region_id: str
    currency: str  # ISO 4217 code of every money figure shown
    units_per_usd: float
    rate_as_of: str  # ISO date of the exchange rate
    rate_source: str
    electricity_usd_per_kwh: float
    electricity_in_currency_per_kwh: float
    electricity_preset: bool  # False: the user's own price
    electricity_local_price_per_kwh: float  # the preset as published
    electricity_local_currency: str
    electricity_as_of: str
    electricity_source: str
    circuit_volts: float
    circuit_amps: float
    circuit_preset: bool  # False: the user's own circuit
    circuit_source: str

    def to_usd(self, amount: float) -> float:
        """An amount in the chosen currency, in US dollars. [USD]"""
        return amount / self.units_per_usd


def region_for(market: Market, *, region_id: str | None = None, lang: str | None = None) -> Region:
    """The named region, else the one the language picks, else :data:`DEFAULT_REGION`."""
    if region_id:
        for region in market.regions:
            if region.id == region_id:
                return region
        known = ", ".join(r.id for r in market.regions)
        raise PlanError(f"unknown region '{echo(region_id)}'; known: {known}", code="unknown_region",
                        params={"got": echo(region_id), "known": known})
    if lang:
        for region in market.regions:
            if lang in region.languages:
                return region
    return next(r for r in market.regions if r.id == DEFAULT_REGION)


def region_terms(market: Market, *, region_id: str | None = None, lang: str | None = None,
                 currency: str | None = None, kwh_price: float | None = None,
                 electricity_usd_per_kwh: float | None = None,
                 circuit_volts: float | None = None,
                 circuit_amps: float | None = None) -> RegionTerms:
    """The region's presets with the user's overrides.

    Parameters
    ----------
    currency : str, optional
        ISO code; default the region's currency.
    kwh_price : float, optional
        The user's electricity price, in ``currency`` per kWh; wins over
        ``electricity_usd_per_kwh`` [USD/kWh]. Neither: the region's price.
    circuit_volts, circuit_amps : float, optional
        The user's wall circuit [V], [A]; each left out is the region's.
    """
    region = region_for(market, region_id=region_id, lang=lang)
    code = (currency or region.currency).upper()
    units = units_per_usd(market, code)
    rate = market.currency(code)
    preset = market.electricity_price(region.electricity)
    if kwh_price is not None:
        usd_per_kwh = _money_in_range(kwh_price, units, MAX_ELECTRICITY_USD_PER_KWH, code) / units
    elif electricity_usd_per_kwh is not None:
        usd_per_kwh = _money_in_range(electricity_usd_per_kwh, 1.0, MAX_ELECTRICITY_USD_PER_KWH,
                                      "USD")
    else:
        usd_per_kwh = preset.local_price_per_kwh / units_per_usd(market, preset.currency)
    volts = region.circuit_volts if circuit_volts is None else circuit_volts
    amps = region.circuit_amps if circuit_amps is None else circuit_amps
    try:
        check_circuit(volts, amps)
    except UserError as exc:
        raise PlanError(str(exc), code=exc.code, params=exc.params) from None
    return RegionTerms(
        region_id=region.id, currency=code, units_per_usd=units,
        rate_as_of=rate.as_of.isoformat(), rate_source=rate.source,
        electricity_usd_per_kwh=usd_per_kwh, electricity_in_currency_per_kwh=usd_per_kwh * units,
        electricity_preset=kwh_price is None and electricity_usd_per_kwh is None,
        electricity_local_price_per_kwh=preset.local_price_per_kwh,
        electricity_local_currency=preset.currency, electricity_as_of=preset.as_of.isoformat(),
        electricity_source=preset.source, circuit_volts=volts, circuit_amps=amps,
        circuit_preset=circuit_volts is None and circuit_amps is None,
        circuit_source=region.circuit_source)


def _money_in_range(amount: float, units: float, max_usd: float, currency: str) -> float:
    """An electricity price in ``currency`` (``units`` per dollar) per kWh, refused outside 0..max_usd."""
    if not (math.isfinite(amount) and 0 <= amount <= max_usd * units * (1 + 1e-9)):  # rounding
        high = f"{max_usd * units:,.4g}"
        raise PlanError(f"electricity price ({currency}/kWh) must be between 0 and {high} "
                        f"(got {amount:g})", code="electricity_price_currency_range",
                        params={"currency": currency, "high": high, "got": f"{amount:g}"})
    return amount


def budget_usd_from(budget: float | None, terms: RegionTerms) -> float | None:
    """A budget typed in the chosen currency, in US dollars (None: no limit). [USD]"""
    if budget is None:
        return None
    if not (math.isfinite(budget) and budget > 0):
        raise PlanError(f"budget must be above 0 {terms.currency} (got {budget:g})",
                        code="budget_not_positive", params={"currency": terms.currency,
                                                            "got": f"{budget:g}"})
    from advisor.plan import MAX_BUDGET_USD  # the one limit, said in the budget's own currency
    if terms.to_usd(budget) > MAX_BUDGET_USD:
        high = f"{MAX_BUDGET_USD * terms.units_per_usd:,.0f}"
        raise PlanError(f"budget must be at most {high} {terms.currency} (got {budget:g})",
                        code="budget_above_max", params={"high": high, "currency": terms.currency,
                                                         "got": f"{budget:g}"})
    return terms.to_usd(budget)


def circuit_form_error(text: str) -> PlanError:
    """The error for a circuit not written VOLTSxAMPS."""
    return PlanError(f"a circuit is written VOLTSxAMPS, e.g. 230x16 (got '{echo(text)}')",
                     code="circuit_form", params={"got": echo(text)})


def parse_circuit(text: str) -> tuple[float, float]:
    """A wall circuit written VOLTSxAMPS ("230x16"). [V], [A]"""
    volts, sep, amps = text.strip().lower().partition("x")
    try:
        pair = float(volts), float(amps)
    except ValueError:
        raise circuit_form_error(text) from None
    if not sep:
        raise circuit_form_error(text)
    try:
        check_circuit(*pair)
    except UserError as exc:
        raise PlanError(str(exc), code=exc.code, params=exc.params) from None
    return pair


def prices_in_usd(prices: Mapping[str, float], terms: RegionTerms) -> dict[str, float]:
    """Own prices typed in the chosen currency, in US dollars. [USD]"""
    return {item: terms.to_usd(amount) for item, amount in prices.items()}
