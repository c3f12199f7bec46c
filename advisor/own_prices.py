"""The user's own prices: a GPU or a part bought for a price the catalog does not list.

``rtx-3090:700`` (the app's link) or ``rtx-3090=700`` (the command line)
names a catalog GPU or PC part (CPU, motherboard, RAM kit, drive, PSU, case,
CPU cooler) and what it costs the user. :func:`with_own_prices` gives a
catalog where those prices replace the listed ones, so the builds, tiers,
tokens per dollar and break-even a plan finds follow from them. An own price
for a GPU is its only price: it replaces both the new and the used listing.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping

from advisor.errors import PlanError
from catalog.catalog import Catalog, unknown
from catalog.errors import echo
from catalog.market import Market
from catalog.schema import Price

# Part.source of a part priced by the user, instead of a price page's address.
OWN_PRICE_SOURCE = "own price"
# The most items a link or a command line prices.
MAX_OWN_PRICES = 24
_PART_KINDS = ("cpus", "motherboards", "ram_kits", "storage", "psus", "cases", "cpu_coolers")
_ITEM = re.compile(r"^\s*([a-z0-9][a-z0-9._-]*)\s*[:=]\s*([0-9.eE+-]+)\s*$")


def priceable_ids(catalog: Catalog) -> list[str]:
    """Every id an own price may name: GPUs, then parts."""
    ids = [g.id for g in catalog.gpus]
    for kind in _PART_KINDS:
        ids += [r.id for r in getattr(catalog.market, kind)]
    return ids


def parse_own_prices(items: list[str] | str, catalog: Catalog) -> dict[str, float]:
    """``ID:AMOUNT`` or ``ID=AMOUNT`` items (or one comma-separated string), checked
    against the catalog. Amounts stay in the currency they were typed in."""
    if isinstance(items, str):
        items = [i for i in items.split(",") if i.strip()]
    if len(items) > MAX_OWN_PRICES:
        raise PlanError(f"at most {MAX_OWN_PRICES} own prices (got {len(items)})",
                        code="own_prices_too_many", params={"most": MAX_OWN_PRICES, "got": len(items)})
    valid = set(priceable_ids(catalog))
    out: dict[str, float] = {}
    for item in items:
        match = _ITEM.match(item)
        if match is None:
            raise PlanError(f"an own price is written ID=AMOUNT, e.g. rtx-3090=700 (got '{echo(item)}')",
                            code="own_price_form", params={"got": echo(item)})
        item_id, text = match.groups()
        if item_id not in valid:
            wrong = unknown("GPU or part", item_id, sorted(valid))
            raise PlanError(str(wrong), code=wrong.code, params=wrong.params)
        try:
            amount = float(text)
        except ValueError:
            amount = math.nan
        if not (math.isfinite(amount) and amount > 0):
            raise PlanError(f"the own price of {item_id} must be a number above 0 (got '{text}')",
                            code="own_price_not_positive", params={"id": item_id, "got": echo(text)})
        out[item_id] = amount
    return out


def with_own_prices(catalog: Catalog, prices_usd: Mapping[str, float]) -> Catalog:
    """The catalog with ``prices_usd`` (id -> US dollars) replacing the listed prices."""
    if not prices_usd:
        return catalog

    def priced(record):
        usd = prices_usd.get(record.id)
        if usd is None:
            return record
        return record.model_copy(update={"price": record.price.model_copy(
            update={"usd": usd, "source": OWN_PRICE_SOURCE})})

    gpus = []
    for gpu in catalog.gpus:
        usd = prices_usd.get(gpu.id)
        if usd is not None:
            listed = gpu.street_price or gpu.used_price
            own = Price.model_construct(usd=usd, source=OWN_PRICE_SOURCE,
                                        as_of=listed.as_of if listed else catalog.reviewed_on)
            gpu = gpu.model_copy(update={"street_price": own, "used_price": None})
        gpus.append(gpu)
    market: Market = dataclasses.replace(
        catalog.market, **{kind: tuple(priced(r) for r in getattr(catalog.market, kind))
                           for kind in _PART_KINDS})
    return dataclasses.replace(catalog, gpus=tuple(gpus), market=market, _index={})
