"""``--region``, ``--currency`` and ``--electricity-price`` for the commands that cost one machine.

The names and meanings of ``rigfit plan``'s and ``rigfit cloud``'s money flags
(:func:`rigfit.plan_cli.add_region_flags`), without the circuit and own-price
flags a single machine's running cost does not use.
"""

from __future__ import annotations

import argparse
from typing import Any

from advisor.region import RegionTerms, region_terms
from catalog.catalog import Catalog


def add_cost_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", help="region id whose household electricity price the cost uses "
                                    "(us, china, germany, uk, japan; catalog/regions.yaml)")
    p.add_argument("--currency", help="currency code the cost is shown in (USD, EUR, CNY, ...; "
                                      "default the region's)")
    p.add_argument("--electricity-price", type=float,
                   help="electricity price in --currency per kWh (default the region's)")


def cost_terms(args: argparse.Namespace, cat: Catalog, data: dict[str, Any]) -> RegionTerms:
    """The terms the flags ask for; sets ``data``'s electricity price [USD/kWh] when a
    region or a price was given (else the engine's default stays)."""
    terms = region_terms(cat.market, region_id=args.region, currency=args.currency,
                         kwh_price=args.electricity_price,
                         electricity_usd_per_kwh=data.get("electricity_usd_per_kwh"))
    if args.region or args.electricity_price is not None:
        data["electricity_usd_per_kwh"] = terms.electricity_usd_per_kwh
    return terms
