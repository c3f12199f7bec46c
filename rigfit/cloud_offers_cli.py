"""``rigfit cloud-offers``: which cloud offers the app prices; ``--refresh`` rebuilds them from gpuhunt."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog.catalog import Catalog
from catalog.cloud_offers import SNAPSHOT_FILE
from catalog.gpuhunt_offers import PROVIDERS, refresh
from catalog.loader import CATALOG_DIR
from report.text import translate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--refresh", action="store_true",
                   help="query gpuhunt (needs a network) and write the dated snapshot")
    p.add_argument("--out", type=Path, default=CATALOG_DIR / SNAPSHOT_FILE,
                   help=f"snapshot to write (default: catalog/{SNAPSHOT_FILE})")
    p.add_argument("--providers", nargs="+", default=list(PROVIDERS), metavar="PROVIDER",
                   help=f"gpuhunt providers to query (default: all of {', '.join(PROVIDERS)})")


def run(args: argparse.Namespace, cat: Catalog) -> int:
    lang = args.ui_lang
    if not args.refresh:
        source = cat.market.offers_source
        if source is not None:
            print(translate(f"cloud_offers.source_{source.kind}", lang, file=source.file,
                            date=source.as_of.isoformat(), version=source.gpuhunt_version or "",
                            count=len(cat.market.instances), spot=len(cat.market.spot_instances)))
        return 0
    content = refresh(args.providers, args.out)
    header = content["snapshot"]
    for provider, counts in header["providers"].items():
        print(translate("cloud_offers.provider", lang, provider=provider,
                        on_demand=counts["on_demand"], spot=counts["spot"],
                        version=counts.get("catalog_version") or "live"))
    for row in header["unmapped"]:
        print(translate("cloud_offers.unmapped", lang, provider=row["provider"],
                        gpu=row["gpu_name"], memory=f"{row.get('gpu_memory_gib') or 0:g}",
                        offers=row["offers"]))
    for row in header["not_loaded"]:
        print(translate("cloud_offers.not_loaded", lang, provider=row["provider"],
                        reason=row["reason"]))
    print(translate("cloud_offers.written", lang, path=str(args.out),
                    date=header["generated_on"], on_demand=len(content["on_demand"]),
                    spot=len(content["spot"])))
    return 0
