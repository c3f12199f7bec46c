"""``rigfit gpus|models|quants|runtimes``: the catalog as a table or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from catalog.catalog import Catalog
from report.text import DEFAULT_LANGUAGE, catalog_name
from rigfit.terminal import cli_text, format_table, json_text
from sizing.units import gib_to_bytes


def _gpu_rows(cat: Catalog) -> list[dict[str, Any]]:
    return [{
        "id": g.id, "name": g.name, "vendor": g.vendor.value, "segment": g.segment.value,
        "architecture": g.architecture,
        "memory_bytes": int(gib_to_bytes(g.memory_gib)),
        "memory_bandwidth_gb_per_s": g.memory_bandwidth_gb_per_s,
        "dense_fp16_tflops": g.dense_fp16_tflops,
        "board_power_w": g.board_power_w,
        "street_price_usd": g.street_price.usd if g.street_price else None,
        # The memory sizes it is sold in (several for Macs and other unified-memory
        # machines: --memory-gib); street_price_usd is the price of the default size.
        "memory_options_gib": [int(m) if m == int(m) else m for m in g.memory_sizes_gib],
    } for g in cat.gpus]


def _model_rows(cat: Catalog) -> list[dict[str, Any]]:
    return [{
        "id": m.id, "name": m.name, "family": m.family,
        "params_total": m.params_total, "params_active": m.params_active,
        "num_layers": m.num_layers, "num_kv_heads": m.num_kv_heads, "head_dim": m.head_dim,
        "max_context_tokens": m.max_context_tokens,
    } for m in cat.models]


def _quant_rows(cat: Catalog) -> list[dict[str, Any]]:
    return [{"id": q.id, "name": q.name, "format": q.format.value,
             "body_bits_per_weight": q.body_bits_per_weight, "runtimes": list(q.runtimes)}
            for q in cat.quants]


def _runtime_rows(cat: Catalog) -> list[dict[str, Any]]:
    return [{"id": r.id, "name": r.name, "apis": [a.value for a in r.apis],
             "memory_policy": r.memory_policy} for r in cat.runtimes]


LISTINGS: dict[str, tuple[str, Callable[[Catalog], list[dict[str, Any]]]]] = {
    "gpus": ("list GPUs", _gpu_rows),
    "models": ("list models", _model_rows),
    "quants": ("list weight formats", _quant_rows),
    "runtimes": ("list runtimes", _runtime_rows),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("json", "table"), default="table")


def run(args: argparse.Namespace, cat: Catalog) -> int:
    data = LISTINGS[args.command][1](cat)
    print(json_text(data) if args.format == "json"
          else listing_table(args.command, data, args.ui_lang))
    return 0


def listing_table(command: str, rows: list[dict[str, Any]], lang: str = DEFAULT_LANGUAGE) -> str:
    """The rows as columns headed in ``lang``; a name with words (a quant's) in ``lang`` too."""
    kind = NAMED_KINDS.get(command)

    def cell(key: str, value: Any, record_id: str) -> Any:
        if kind and key == "name":
            return catalog_name(kind, record_id, value, lang)
        return cli_text(f"listing.{key}_{value}", lang) if key in WORDED_COLUMNS else value

    return format_table([{cli_text(f"listing.{key}", lang): cell(key, value, row["id"])
                          for key, value in row.items()} for row in rows])


# Listings whose names may hold words, and their kind under names.<kind> in the locale files.
NAMED_KINDS = {"quants": "quant"}
# Columns whose values are words, said in the language under cli.listing.<column>_<value>.
WORDED_COLUMNS = frozenset({"segment", "memory_policy"})
