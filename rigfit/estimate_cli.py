"""``rigfit estimate``: memory, fit, speed, power, heat and load for one scenario.

``--requests FILE.jsonl`` answers one request per line; a bad line (not
UTF-8, not JSON, nested too deeply, not a valid request) gets
``{"error": "line N: ..."}`` and every other line is still answered. The file
is read with a bound (:data:`sizing.guards.MAX_REQUESTS_BYTES`).

``--bench FILE`` reads the user's own llama-bench (markdown, ``-o json`` or
``-o jsonl``) or ``ollama run --verbose`` output, shows measured against
predicted for its rows and rescales the speeds with it (JSON: a ``bench``
section).
"""

from __future__ import annotations

import argparse
from typing import Any

from advisor.region import region_terms
from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from report.text import DEFAULT_LANGUAGE, translate, translate_notice
from rigfit.terminal import ERROR_MAX_CHARS, json_text
from sizing.bench import BenchCalibration, decode_bench_bytes, parse_bench
from sizing.bench_calibrate import calibrate
from sizing.estimate import estimate
from sizing.remedies import remedies_for
from sizing.agent import agent_task
from sizing.guards import (MAX_BENCH_BYTES, MAX_REQUESTS_BYTES, load_json,
                           read_bounded_bytes)
from sizing.notices import count_text
from sizing.request import RequestError, file_quant, parse_request, resolve_model
from sizing.units import bytes_to_gib

ESTIMATE_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--model", str, "catalog model id"),
    ("--hf-config", str, "path to a Hugging Face config.json"),
    ("--params-b", float, "bare parameter count in billions (assumes a typical architecture)"),
    ("--hf-id", str, "Hugging Face repository ORG/NAME: reads its config.json or GGUF header "
                     "(honours HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE; cached)"),
    ("--revision", str, "with --hf-id: branch, tag or commit (default main)"),
    ("--hf-file", str, "with --hf-id: the GGUF file or quant to read (default a Q4_K_M file)"),
    ("--gguf", str, "path to a GGUF file: exact tensor sizes from its header"),
    ("--mmproj", str, "with --gguf: path to its vision projector GGUF"),
    ("--safetensors", str, "path to a .safetensors file, its index.json or a model folder"),
    ("--workload", str, "preset filling prompt, new and context tokens (and images for a "
                        "vision model): chat, code, rag or agent"),
    ("--images", int, "images in each request (vision-language models)"),
    ("--image-width", int, "image width [px] (default 1024)"),
    ("--image-height", int, "image height [px] (default 1024)"),
    ("--quant", str, "weight format id (e.g. q4_k_m, f16, awq-int4, exl2-4.65)"),
    ("--gpu", str, "GPU id"),
    ("--gpu-count", int, "number of identical GPUs"),
    ("--memory-gib", float, "memory size of a machine sold in several (Apple, DGX Spark, Ryzen AI "
                             "Max), e.g. 8 for an 8 GB M1 [GiB]"),
    ("--runtime", str, "runtime id (llama.cpp, ollama, vllm, ...)"),
    ("--prompt-tokens", int, "prompt length"),
    ("--new-tokens", int, "tokens to generate"),
    ("--context-tokens", int, "context the runtime allocates (default: prompt + new)"),
    ("--batch", int, "concurrent sequences"),
    ("--kv-cache", str, "KV-cache element type (f16, q8_0, q4_0, fp8)"),
    ("--split", str, "multi-GPU split: layer or tensor"),
    ("--flash-attn", str, "llama.cpp flash attention: on, off or auto (default auto, on where supported)"),
    ("--ubatch-tokens", int, "llama.cpp prompt micro-batch, -ub (default 512)"),
    ("--ram", str, "system RAM for offload, e.g. ddr5-6000x2"),
    ("--interconnect", str, "GPU link: pcie4-x16, pcie4-x8, nvlink, ..."),
    ("--ambient-c", float, "inlet air temperature [C]"),
    ("--cooler", str, "cooler class id"),
    ("--storage", str, "storage class id for load time"),
    ("--power-limit-w", float, "GPU power cap [W]"),
    ("--electricity-usd-per-kwh", float, "electricity price [USD/kWh]"),
)


# Flags named as llama.cpp names them, with another request field behind them.
REQUEST_FIELDS = {"--flash-attn": "flash_attention"}


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    data = {}
    for flag, _type, _help in ESTIMATE_FLAGS:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            data[REQUEST_FIELDS.get(flag, flag[2:].replace("-", "_"))] = value
    return data


def _estimate_one(data: dict[str, Any], cat: Catalog,
                  bench: BenchCalibration | None = None) -> dict[str, Any]:
    request = parse_request(data)
    answer = estimate(request, cat, bench=bench)
    result = answer.model_dump(mode="json")
    arch = resolve_model(request, cat)[0] if not answer.memory.fits or request.workload == "agent" \
        else None
    remedies = [] if answer.memory.fits else remedies_for(request, cat, arch)
    result["remedies"] = [r.model_dump(mode="json") for r in remedies]
    if request.workload == "agent":
        request, _ = file_quant(request, arch)
        result["agent"] = agent_task(request, cat, arch, max_context_tokens=answer.fit.max_context_tokens
                                     ).model_dump(mode="json")
    if bench is not None:
        result["bench"] = bench_section(bench)
    return result


def read_bench_file(path: str) -> str:
    """The benchmark file's text, reading at most :data:`MAX_BENCH_BYTES` of it."""
    data = read_bounded_bytes(path, limit_bytes=MAX_BENCH_BYTES, what="benchmark file")
    return decode_bench_bytes(data, path=path)


def bench_from_args(args: argparse.Namespace, cat: Catalog) -> BenchCalibration:
    """Calibrate on ``--bench``; the scenario flags fill in what the paste leaves out."""
    run = parse_bench(read_bench_file(args.bench))
    return calibrate(run, cat, gpu=args.gpu, model=args.model, params_b=args.params_b,
                     quant=args.quant)


def bench_section(bench: BenchCalibration) -> dict[str, Any]:
    """The ``bench`` section of the JSON output: factors, link form and every row."""
    return {**bench.model_dump(mode="json"), "decode_clamped": bench.decode_clamped,
            "prefill_clamped": bench.prefill_clamped, "query": bench.to_query()}


def bench_table(bench: BenchCalibration) -> str:
    """Measured against predicted for each benchmark row, then the factors."""
    lines = [f"benchmark on {bench.gpu}: measured vs predicted tokens/s"]
    header = ("line", "test", "scenario", "measured", "predicted", "ratio")
    table = [header]
    for r in bench.rows:
        scenario = " ".join(str(x) for x in (r.model or (f"{r.params_b:g}B" if r.params_b else
                                                         r.benchmark_model or "?"),
                                             r.quant or "", r.runtime or "") if x)
        table.append((str(r.line), r.test, scenario[:48], f"{r.measured_tokens_per_s:,.1f}",
                      f"{r.predicted_tokens_per_s:,.1f}" if r.predicted_tokens_per_s else "-",
                      f"{r.ratio:.2f}" if r.ratio else f"not used: {r.note}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                     + "  " + row[-1])
    for metric in ("decode", "prefill"):
        factor = getattr(bench, f"{metric}_factor")
        raw = getattr(bench, f"{metric}_raw_factor")
        rows = getattr(bench, f"{metric}_rows")
        if raw is None:
            lines.append(f"{metric + ' factor':<15} x{factor:.2f} (no {metric} rows: unchanged)")
        else:
            clamped = (f", clamped from x{raw:.2f}" if getattr(bench, f"{metric}_clamped")
                       else "")
            median = f"median of {count_text(rows, 'row', 'rows')}"
            lines.append(f"{metric + ' factor':<15} x{factor:.2f} ({median}{clamped})")
    lines.append(f"{'link form':<15} bench={bench.to_query()}")
    return "\n".join(lines)


def _estimate_table(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    mem = result["memory"]
    rows = [
        ("model", f"{result['model']['name']} ({result['model']['params_total'] / 1e9:.2f}B)"),
        ("model shape", model_shape_text(result["model"])),
        ("gpu", f"{result['gpu_count']} x {result['gpu_name']}, {result['gpu_memory_gib']:g} GiB"
                + (f", {result['gpu_price_usd']:,.0f} USD" if result.get("gpu_price_usd") else "")),
        ("quant / runtime", f"{result['quant']} / {result['runtime']} ({result['api']})"),
        ("context", f"{result['context_tokens']:,} tokens x "
                    f"{count_text(result['batch'], 'sequence', 'sequences')}"),
        ("verdict", mem["verdict"]),
        ("weights", f"{bytes_to_gib(mem['weights_bytes']):.2f} GiB"),
        ("kv cache", f"{bytes_to_gib(mem['kv_cache_bytes']):.2f} GiB"),
        ("activations", f"{bytes_to_gib(mem['activations_bytes']):.2f} GiB"),
        ("overhead", f"{bytes_to_gib(mem['overhead_bytes']):.2f} GiB"),
        ("total / usable", f"{bytes_to_gib(mem['total_bytes']):.2f} / "
                           f"{bytes_to_gib(mem['usable_bytes']):.2f} GiB"),
        ("offloaded", f"{bytes_to_gib(mem['offloaded_bytes']):.2f} GiB"
                      + (f" ({mem['gpu_layers']} of {mem['num_layers']} layers on GPU)"
                         if mem["offloaded_bytes"] else "")) if mem["offload_possible"] else
        ("short", f"{bytes_to_gib(max(mem['offloaded_bytes'], 0.0)):.2f} GiB over usable memory; "
                  "this runtime cannot offload to system RAM"),
    ]
    if mem.get("kv_capacity_tokens") is not None:
        rows.append(("KV pool", f"{mem['kv_capacity_tokens']:,} tokens = "
                                f"{mem['max_concurrent_sequences']:,} full-length sequences"))
    for section, keys in TABLE_ROWS:
        if result.get(section):
            for key, label, fmt in keys:
                value = result[section].get(key)
                if isinstance(value, list):
                    rows.append((label, ", ".join(map(str, value)) or "none"))
                elif value is not None:
                    rows.append((label, fmt.format(value)))
                elif key == "best_quant":
                    rows.append((label, "none"))
                elif key == "psu_recommended_w" and any(
                        w.get("code") == "psu_built_in" for w in result["warnings"]):
                    rows.append((label, "built into the machine"))
    rows = [(k, max_context_text(result) if k == "max context that fits" else v) for k, v in rows]
    rows[1:1] = source_rows(result)
    rows += vision_rows(result) + agent_rows(result)
    width = max(len(r[0]) for r in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines += [translate("cli.warning", lang, message=translate_notice(w, lang))
              for w in result["warnings"]]
    lines += remedy_lines(result.get("remedies") or [])
    return "\n".join(lines)


def remedy_lines(remedies: list[dict[str, Any]]) -> list[str]:
    """What would make it fit, one numbered line each, with the decode speed after it."""
    if not remedies:
        return []
    lines = ["what would make it fit (least given up first):"]
    for number, r in enumerate(remedies, start=1):
        decode = r.get("decode_tokens_per_s")
        lines.append(f"  {number}. {r['text']}"
                     + (f" Decode about {decode:,.1f} tokens/s." if decode else ""))
    return lines


def source_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the model came from, unless the catalog."""
    source = result["model"].get("source", "catalog")
    return [] if source == "catalog" else [("model source", source)]


def vision_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Images in each request: their tokens and the encoder's cost."""
    v = result.get("vision")
    if not v:
        return []
    encode = v.get("encoder_s_per_image")
    return [("images", f"{v['images']} x {v['image_width_px']}x{v['image_height_px']} px "
                       f"(resized {v['resized_width_px']}x{v['resized_height_px']}) = "
                       f"{v['image_tokens_per_image']:,} tokens each"),
            ("vision encoder", f"{bytes_to_gib(v['encoder_bytes']):.2f} GiB"
                               + (f", {encode:.2f} s per image" if encode else ""))]


def agent_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The phone-agent task: seconds per step, and the context at a few steps."""
    a = result.get("agent")
    if not a:
        return []
    rows = [("agent step", f"{a['seconds_per_step']:.1f} s per step, "
                           f"{a['steps_per_minute']:.1f} steps per minute, "
                           f"{len(a['steps'])}-step task {a['task_seconds']:.0f} s"
             if a["seconds_per_step"] else "speed unknown"),
            ("agent context", ", ".join(f"step {s['step']}: {s['context_tokens']:,}"
                                        for s in a["steps"] if s["step"] in (1, 5, 10, 15, 20)
                                        or s["step"] == len(a["steps"]))
             + f" tokens ({a['image_tokens_per_step']:,} of them the screenshot)"),
            ("screenshots that fit", f"{a['screenshots_that_fit']} in the longest context that "
                                     "fits, beside the text history")]
    return rows


def model_shape_text(model: dict[str, Any]) -> str:
    """What was read of the model: layers, heads, KV heads, head size, context, experts."""
    if model.get("num_layers") is None:
        return "-"
    text = (f"{model['num_layers']} layers, {model['num_attention_heads']} heads, "
            f"{model['num_kv_heads']} KV heads of {model['head_dim']}, "
            f"max context {model['max_context_tokens']:,}")
    if model.get("num_experts"):
        text += f", {model['num_experts']} experts ({model['num_experts_per_token']} per token)"
    return text


def max_context_text(result: dict[str, Any]) -> str:
    """The longest context entirely on the GPU(s); when none but offload runs, say so."""
    tokens = result["fit"]["max_context_tokens"]
    if tokens:
        return f"{tokens:,} tokens"
    if result["memory"]["verdict"] == "fits-with-offload":
        return "none entirely on the GPU; runs with offload"
    return "none"


# Rows of the table view after memory: (section, [(key, label, format)]).
TABLE_ROWS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("fit", [("max_context_tokens", "max context that fits", "{:,} tokens"),
             ("best_quant", "best quant that fits", "{}"),
             ("formats_considered", "formats considered", "{}")]),
    ("speed", [("decode_tokens_per_s", "decode", "{:.1f} tokens/s"),
               ("decode_tokens_per_s_low", "decode low", "{:.1f} tokens/s"),
               ("decode_tokens_per_s_high", "decode high", "{:.1f} tokens/s"),
               ("prefill_tokens_per_s", "prefill", "{:,.0f} tokens/s"),
               ("ttft_s", "time to first token", "{:.2f} s"),
               ("total_time_s", "total time", "{:.1f} s")]),
    ("power", [("gpu_power_w", "GPU power (decode)", "{:.0f} W"),
               ("gpu_power_prefill_w", "GPU power (prefill)", "{:.0f} W"),
               ("system_power_w", "system power", "{:.0f} W"),
               ("psu_recommended_w", "PSU", "{:.0f} W"),
               ("energy_wh_per_1k_tokens", "energy", "{:.2f} Wh per 1k tokens"),
               ("energy_wh_per_1k_prompt_tokens", "energy (prompt)",
                "{:.2f} Wh per 1k prompt tokens"),
               ("cost_usd_per_1m_tokens", "electricity", "${:.2f} per 1M tokens"),
               ("power_limit_sweet_spot_w", "power-limit sweet spot (decode)", "{:.0f} W"),
               ("power_limit_sweet_spot_prefill_w", "power-limit sweet spot (prefill)",
                "{:.0f} W")]),
    ("thermal", [("gpu_temp_c", "GPU temperature", "{:.0f} C"),
                 ("throttle_risk", "throttle risk", "{}"),
                 ("heat_btu_per_hour", "heat into room", "{:,.0f} BTU/h")]),
    ("load", [("load_time_s", "load time", "{:.1f} s")]),
]


def run(args: argparse.Namespace, cat: Catalog) -> int:
    bench = bench_from_args(args, cat) if getattr(args, "bench", None) else None
    if args.requests:
        return _run_requests(args.requests, cat, bench)
    data = request_from_args(args)
    if args.region and "electricity_usd_per_kwh" not in data:  # the region's household price
        data["electricity_usd_per_kwh"] = region_terms(
            cat.market, region_id=args.region).electricity_usd_per_kwh
    if bench is not None:
        data.setdefault("gpu", bench.gpu)
    result = _estimate_one(data, cat, bench)
    if args.format == "json":
        print(json_text(result))
    elif args.format == "jsonl":
        print(json_text(result, indent=None))
    else:
        if bench is not None:
            print(bench_table(bench) + "\n")
        print(_estimate_table(result, getattr(args, "ui_lang", DEFAULT_LANGUAGE)))
    return 0


def _run_requests(path: str, cat: Catalog, bench: BenchCalibration | None = None) -> int:
    """One JSON line out for each non-blank line in, in order."""
    data = read_bounded_bytes(path, limit_bytes=MAX_REQUESTS_BYTES, what="requests file")
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip(b" \t\r"):
            print(json_text(request_line_answer(line, number, cat, bench), indent=None),
                  flush=False)
    return 0


def request_line_answer(line: bytes, number: int, cat: Catalog,
                        bench: BenchCalibration | None = None) -> dict[str, Any]:
    """The answer to one JSONL line (line ``number``), or ``{"error": "line N: ..."}``."""
    try:
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise RequestError(f"not UTF-8 text (byte {exc.start + 1})", code="not_utf8",
                               params={"byte": exc.start + 1}) from None
        data = load_json(text, what="request", error=RequestError)
        if not isinstance(data, dict):
            raise RequestError("each line must be a JSON object", code="line_not_object")
        return _estimate_one(data, cat, bench)
    except UserError as exc:
        return {"error": f"line {number}: {echo(str(exc), max_chars=ERROR_MAX_CHARS)}"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scenario_flags(p)
    p.add_argument("--requests", help="JSONL file: one request object per line")
    p.add_argument("--region", help="region id whose household electricity price the cost uses "
                                    "(us, china, germany, uk, japan; catalog/regions.yaml)")
    p.add_argument("--bench", metavar="FILE",
                   help="your llama-bench output (markdown, -o json or -o jsonl) or "
                        "'ollama run --verbose' timings: compare and rescale speeds with it")
    p.add_argument("--format", choices=("json", "table", "jsonl"), default="table")


def add_scenario_flags(p: argparse.ArgumentParser) -> None:
    """The flags that describe one scenario (shared with ``report``)."""
    for flag, kind, text in ESTIMATE_FLAGS:
        p.add_argument(flag, type=kind, help=text)
