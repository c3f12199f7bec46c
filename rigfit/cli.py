"""``python -m sizing``: the project's stable command-line interface.

User errors (unknown ids, bad numbers, unreadable files) print one line on
stderr and exit with status 2; no tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from catalog.catalog import Catalog, load_catalog
from catalog.loader import CatalogError
from sizing.request import EstimateRequest, RequestError, parse_request

EXIT_USAGE = 2


class UserError(Exception):
    """Anything the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like other user errors
        raise UserError(f"{self.prog}: {message}")


# --- listings ---------------------------------------------------------------------

def _gpu_rows(cat: Catalog) -> list[dict[str, Any]]:
    from sizing.units import gib_to_bytes
    return [{
        "id": g.id, "name": g.name, "vendor": g.vendor.value, "segment": g.segment.value,
        "architecture": g.architecture,
        "memory_bytes": int(gib_to_bytes(g.memory_gib)),
        "memory_bandwidth_gb_per_s": g.memory_bandwidth_gb_per_s,
        "dense_fp16_tflops": g.dense_fp16_tflops,
        "board_power_w": g.board_power_w,
        "street_price_usd": g.street_price.usd if g.street_price else None,
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


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Plain aligned columns for a terminal."""
    if not rows:
        return "(none)"
    columns = list(rows[0])
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


# --- estimate ---------------------------------------------------------------------

ESTIMATE_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--model", str, "catalog model id"),
    ("--hf-config", str, "path to a Hugging Face config.json"),
    ("--params-b", float, "bare parameter count in billions (assumes a typical architecture)"),
    ("--quant", str, "weight format id (e.g. q4_k_m, f16, awq-int4, exl2-4.65)"),
    ("--gpu", str, "GPU id"),
    ("--gpu-count", int, "number of identical GPUs"),
    ("--runtime", str, "runtime id (llama.cpp, ollama, vllm, ...)"),
    ("--prompt-tokens", int, "prompt length"),
    ("--new-tokens", int, "tokens to generate"),
    ("--context-tokens", int, "context the runtime allocates (default: prompt + new)"),
    ("--batch", int, "concurrent sequences"),
    ("--kv-cache", str, "KV-cache element type (f16, q8_0, q4_0, fp8)"),
    ("--split", str, "multi-GPU split: layer or tensor"),
    ("--ram", str, "system RAM for offload, e.g. ddr5-6000x2"),
    ("--interconnect", str, "GPU link: pcie4-x16, pcie4-x8, nvlink, ..."),
    ("--ambient-c", float, "inlet air temperature [C]"),
    ("--cooler", str, "cooler class id"),
    ("--storage", str, "storage class id for load time"),
    ("--power-limit-w", float, "GPU power cap [W]"),
    ("--electricity-usd-per-kwh", float, "electricity price [USD/kWh]"),
)


def _request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    data = {}
    for flag, _type, _help in ESTIMATE_FLAGS:
        key = flag[2:].replace("-", "_")
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    return data


def _estimate_one(data: dict[str, Any], cat: Catalog) -> dict[str, Any]:
    from sizing.estimate import estimate
    request = parse_request(data)
    return estimate(request, cat).model_dump(mode="json")


def _estimate_table(result: dict[str, Any]) -> str:
    from sizing.units import bytes_to_gib
    mem = result["memory"]
    rows = [
        ("model", f"{result['model']['name']} ({result['model']['params_total'] / 1e9:.2f}B)"),
        ("gpu", f"{result['gpu_count']} x {result['gpu_name']}"),
        ("quant / runtime", f"{result['quant']} / {result['runtime']} ({result['api']})"),
        ("context", f"{result['context_tokens']:,} tokens x {result['batch']} sequence(s)"),
        ("verdict", mem["verdict"]),
        ("weights", f"{bytes_to_gib(mem['weights_bytes']):.2f} GiB"),
        ("kv cache", f"{bytes_to_gib(mem['kv_cache_bytes']):.2f} GiB"),
        ("activations", f"{bytes_to_gib(mem['activations_bytes']):.2f} GiB"),
        ("overhead", f"{bytes_to_gib(mem['overhead_bytes']):.2f} GiB"),
        ("total / usable", f"{bytes_to_gib(mem['total_bytes']):.2f} / "
                           f"{bytes_to_gib(mem['usable_bytes']):.2f} GiB"),
        ("offloaded", f"{bytes_to_gib(mem['offloaded_bytes']):.2f} GiB"
                      + (f" ({mem['gpu_layers']} of {mem['num_layers']} layers on GPU)"
                         if mem["offloaded_bytes"] else "")),
    ]
    if mem.get("kv_capacity_tokens") is not None:
        rows.append(("KV pool", f"{mem['kv_capacity_tokens']:,} tokens = "
                                f"{mem['max_concurrent_sequences']:,} full-length sequences"))
    for section, keys in EXTRA_TABLE_ROWS:
        if result.get(section):
            for key, label, fmt in keys:
                value = result[section].get(key)
                if value is not None:
                    rows.append((label, fmt.format(value)))
    width = max(len(r[0]) for r in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


# Sections later features add to the table view: (section, [(key, label, format)]).
EXTRA_TABLE_ROWS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("fit", [("max_context_tokens", "max context that fits", "{:,} tokens"),
             ("best_quant", "best quant that fits", "{}")]),
    ("speed", [("decode_tokens_per_s", "decode", "{:.1f} tokens/s"),
               ("decode_tokens_per_s_low", "decode low", "{:.1f} tokens/s"),
               ("decode_tokens_per_s_high", "decode high", "{:.1f} tokens/s"),
               ("prefill_tokens_per_s", "prefill", "{:,.0f} tokens/s"),
               ("ttft_s", "time to first token", "{:.2f} s"),
               ("total_time_s", "total time", "{:.1f} s")]),
    ("power", [("gpu_power_w", "GPU power (decode)", "{:.0f} W"),
               ("system_power_w", "system power", "{:.0f} W"),
               ("psu_recommended_w", "PSU", "{:.0f} W"),
               ("energy_wh_per_1k_tokens", "energy", "{:.2f} Wh per 1k tokens"),
               ("cost_usd_per_1m_tokens", "electricity", "${:.2f} per 1M tokens")]),
    ("thermal", [("gpu_temp_c", "GPU temperature", "{:.0f} C"),
                 ("throttle_risk", "throttle risk", "{}"),
                 ("heat_btu_per_hour", "heat into room", "{:,.0f} BTU/h")]),
    ("load", [("load_time_s", "load time", "{:.1f} s")]),
]


def _cmd_estimate(args: argparse.Namespace, cat: Catalog) -> int:
    if args.requests:
        return _run_requests(args.requests, cat)
    result = _estimate_one(_request_from_args(args), cat)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    elif args.format == "jsonl":
        print(json.dumps(result))
    else:
        print(_estimate_table(result))
    return 0


def _run_requests(path: str, cat: Catalog) -> int:
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read requests file '{path}': {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise RequestError("each line must be a JSON object")
                out = _estimate_one(data, cat)
            except json.JSONDecodeError as exc:
                out = {"error": f"line {number}: not JSON ({exc.msg})"}
            except (RequestError, ValueError) as exc:
                out = {"error": f"line {number}: {exc}"}
            print(json.dumps(out), flush=False)
    return 0


# --- entry point ------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Catalog], int]


def _listing(rows: Callable[[Catalog], list[dict[str, Any]]]) -> Command:
    def run(args: argparse.Namespace, cat: Catalog) -> int:
        data = rows(cat)
        print(json.dumps(data, indent=2) if args.format == "json" else format_table(data))
        return 0
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sizing",
                     description="RigFit: will an LLM fit your GPU, and how fast will it run?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, rows, text in (("gpus", _gpu_rows, "list GPUs"), ("models", _model_rows, "list models"),
                             ("quants", _quant_rows, "list weight formats"),
                             ("runtimes", _runtime_rows, "list runtimes")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--format", choices=("json", "table"), default="table")
        p.set_defaults(run=_listing(rows))
    p = sub.add_parser("estimate", help="memory (and more) for one scenario")
    for flag, kind, text in ESTIMATE_FLAGS:
        p.add_argument(flag, type=kind, help=text)
    p.add_argument("--requests", help="JSONL file: one request object per line")
    p.add_argument("--format", choices=("json", "table", "jsonl"), default="table")
    p.set_defaults(run=_cmd_estimate)
    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


# Later features register subcommands here: functions taking the subparsers object.
EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args, load_catalog())
    except (UserError, RequestError, CatalogError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


__all__ = ["main", "build_parser", "EstimateRequest", "format_table"]

import sizing.report_cli  # noqa: E402,F401  registers the report subcommand
