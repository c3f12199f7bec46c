"""``rigfit fits``: every model that runs on one machine, ranked.

The reverse of ``estimate``: give the GPU (count, memory size), the system
RAM and the runtimes; every catalog model (and any added by ``--hf-id`` or
``--gguf``) comes back with the format chosen for it, its speeds, the
longest context that fits, whether it needs offload and its published
quality score (:mod:`sizing.fits` states the rules).
"""

from __future__ import annotations

import argparse
from typing import Any

from catalog.catalog import Catalog
from catalog.quality import load_quality
from report.fits import board_name, images_text
from report.formats import number_text
from report.text import DEFAULT_LANGUAGE, translate
from rigfit.terminal import cli_text, format_table, json_text
from sizing.fits import USE_SHAPES, USES, FitTable, fits, parse_fits_request, ranking_quality
from sizing.request import parse_request, resolve_model

# The JSON contract: one object per row, these keys in this order.
JSON_KEYS = ("model", "quant", "runtime", "decode_tokens_per_s", "prefill_tokens_per_s",
             "max_context_tokens", "offload", "quality", "quality_source", "second_quality",
             "second_quality_source")


def _images_help(use: str) -> str:
    """The images of one use's request, in the help's words: "1 image of 1024 x 1024 px"."""
    shape = USE_SHAPES[use]
    return (f"{shape.images} image{'s' if shape.images > 1 else ''} of "
            f"{shape.image_width_px} x {shape.image_height_px} px")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gpu", required=True, help="GPU id (rigfit gpus)")
    p.add_argument("--gpu-count", type=int, help="number of identical GPUs")
    p.add_argument("--memory-gib", type=float, help="memory size of a machine sold in several [GiB]")
    p.add_argument("--ram-gib", type=float, help="system RAM for offload [GiB] (default 32)")
    p.add_argument("--ram", help="RAM type for offload speed, e.g. ddr5-6000x2")
    p.add_argument("--runtime", action="append", dest="runtimes",
                   help="runtime id; repeat for several (default: every runtime the GPU runs)")
    p.add_argument("--use", choices=USES,
                   help="what the model is for (default chat); vision and agent list only "
                   f"vision-language models: vision adds {_images_help('vision')} to each request, "
                   f"agent {_images_help('agent')} (a phone screenshot) to each step, counted as "
                   "each model's own image tokens")
    p.add_argument("--min-decode-tokens-per-s", type=float, help="slowest decode accepted [tokens/s]")
    p.add_argument("--min-context-tokens", type=int, help="shortest context accepted [tokens]")
    p.add_argument("--all-quants", action="store_true",
                   help="every weight format that runs, not only the one chosen per model")
    p.add_argument("--hf-id", action="append", default=[],
                   help="also rank this Hugging Face model (ORG/NAME); repeat for several")
    p.add_argument("--gguf", action="append", default=[],
                   help="also rank the model in this GGUF file; repeat for several")
    p.add_argument("--format", choices=("json", "table"), default="table")


def _request_data(args: argparse.Namespace) -> dict[str, Any]:
    data = {name: getattr(args, name) for name in (
        "gpu", "gpu_count", "memory_gib", "ram_gib", "ram", "use", "min_decode_tokens_per_s",
        "min_context_tokens") if getattr(args, name) is not None}
    if args.runtimes:
        data["runtimes"] = tuple(args.runtimes)
    if args.all_quants:
        data["all_quants"] = True
    return data


def added_models(args: argparse.Namespace, cat: Catalog) -> list:
    """Models named by ``--hf-id`` and ``--gguf``, read as ``estimate`` reads them."""
    sources = [{"hf_id": h} for h in args.hf_id] + [{"gguf": g} for g in args.gguf]
    return [resolve_model(parse_request(s), cat)[0] for s in sources]


def json_rows(table: FitTable) -> list[dict[str, Any]]:
    return [{k: getattr(row, k) for k in JSON_KEYS} for row in table.rows]


def _speed_text(value: float | None) -> str:
    """A speed as the page shows it: one decimal below 100 tokens/s, whole above."""
    return number_text(value, 1 if value is not None and value < 100 else 0)


def table_text(table: FitTable, lang: str = DEFAULT_LANGUAGE) -> str:
    def say(key: str, **values: object) -> str:
        return cli_text(f"fits.{key}", lang, **values)

    head = say("head", count=table.gpu_count, gpu=table.gpu_name,
               memory_gib=f"{table.gpu_memory_gib:g}", ram_gib=f"{table.ram_gib:g}",
               use=table.use if lang == DEFAULT_LANGUAGE else translate(f"fits.use_{table.use}", lang),
               prompt=number_text(table.prompt_tokens, 0),
               new=number_text(table.new_tokens, 0))
    unknown = say("unknown")
    rows = [{say("col_model"): r.model, say("col_quant"): r.quant, say("col_runtime"): r.runtime,
             say("col_decode"): _speed_text(r.decode_tokens_per_s),
             say("col_prefill"): _speed_text(r.prefill_tokens_per_s),
             say("col_max_context"): number_text(r.max_context_tokens, 0),
             **({say("col_image_tokens"): number_text(r.image_tokens, 0)} if table.images else {}),
             say("col_offload"): say("yes" if r.offload else "no"),
             say("col_quality"): r.quality if r.quality is not None else unknown,
             say("col_board"): board_name(r.quality_board, lang),
             say("col_aa_index"): r.second_quality if r.second_quality is not None else unknown,
             say("col_meets"): say("yes" if r.meets_floors else "no")} for r in table.rows]
    tail = say("not_running", models=", ".join(table.not_running) or say("none"))
    images_note = images_text(table, lang)
    return "\n".join([head, *([images_note] if images_note else []), format_table(rows), tail])


def run(args: argparse.Namespace, cat: Catalog) -> int:
    request = parse_fits_request(_request_data(args))
    table = fits(request, cat, quality=ranking_quality(load_quality()),
                 extra_models=added_models(args, cat))
    print(json_text(json_rows(table)) if args.format == "json"
          else table_text(table, args.ui_lang))
    return 0
