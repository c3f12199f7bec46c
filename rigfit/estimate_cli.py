"""``rigfit estimate``: memory, fit, speed, power, heat and load for one scenario.

``--requests FILE.jsonl`` answers one request per line; a bad line (not
UTF-8, not JSON, nested too deeply, not a valid request) gets
``{"error": "line N: ...", "code": "..."}`` (the message in the ``--lang``
language, the code as ``engine.<code>`` names it) and every other line is
still answered. The file is read with a bound
(:data:`sizing.guards.MAX_REQUESTS_BYTES`).

``--bench FILE`` reads the user's own llama-bench (markdown, ``-o json`` or
``-o jsonl``) or ``ollama run --verbose`` output, shows measured against
predicted for its rows and rescales the speeds with it (JSON: a ``bench``
section).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from advisor.region import region_terms
from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from report.text import DEFAULT_LANGUAGE, translate, translate_notice
from report.formats import money_text, number_text, pattern_text
from rigfit.terminal import ERROR_MAX_CHARS, cli_text, json_text, padded, text_width
from sizing.estimate import estimate
from sizing.guards import (MAX_BENCH_BYTES, MAX_REQUESTS_BYTES, load_json,
                           read_bounded_bytes)
from sizing.request import RequestError, file_quant, parse_request, resolve_model
from sizing.units import bytes_to_gib

if TYPE_CHECKING:  # the benchmark parser is imported when --bench gives a file
    from sizing.bench import BenchCalibration

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
    from sizing.remedies import remedies_for  # here, not for the report that borrows the flags

    remedies = [] if answer.memory.fits else remedies_for(request, cat, arch)
    result["remedies"] = [r.model_dump(mode="json") for r in remedies]
    if request.workload == "agent":
        from sizing.agent import agent_task

        request, _ = file_quant(request, arch)
        result["agent"] = agent_task(request, cat, arch, max_context_tokens=answer.fit.max_context_tokens
                                     ).model_dump(mode="json")
    if bench is not None:
        result["bench"] = bench_section(bench)
    return result


def read_bench_file(path: str) -> str:
    """The benchmark file's text, reading at most :data:`MAX_BENCH_BYTES` of it."""
    from sizing.bench import decode_bench_bytes

    data = read_bounded_bytes(path, limit_bytes=MAX_BENCH_BYTES, what="benchmark file")
    return decode_bench_bytes(data, path=path)


def bench_from_args(args: argparse.Namespace, cat: Catalog) -> BenchCalibration:
    """Calibrate on ``--bench``; the scenario flags fill in what the paste leaves out."""
    from sizing.bench import parse_bench
    from sizing.bench_calibrate import calibrate

    run = parse_bench(read_bench_file(args.bench))
    return calibrate(run, cat, gpu=args.gpu, model=args.model, params_b=args.params_b,
                     quant=args.quant)


def bench_section(bench: BenchCalibration) -> dict[str, Any]:
    """The ``bench`` section of the JSON output: factors, link form and every row."""
    return {**bench.model_dump(mode="json"), "decode_clamped": bench.decode_clamped,
            "prefill_clamped": bench.prefill_clamped, "query": bench.to_query()}


def bench_table(bench: BenchCalibration, lang: str = DEFAULT_LANGUAGE) -> str:
    """Measured against predicted for each benchmark row, then the factors."""
    def say(key: str, **values: object) -> str:
        return cli_text(f"bench.{key}", lang, **values)

    lines = [say("title", gpu=bench.gpu)]
    header = tuple(say(f"col_{name}") for name in
                   ("line", "test", "scenario", "measured", "predicted", "ratio"))
    table = [header]
    for r in bench.rows:
        scenario = " ".join(str(x) for x in (r.model or (f"{r.params_b:g}B" if r.params_b else
                                                         r.benchmark_model or "?"),
                                             r.quant or "", r.runtime or "") if x)
        table.append((str(r.line), r.test, scenario[:48], number_text(r.measured_tokens_per_s),
                      number_text(r.predicted_tokens_per_s) if r.predicted_tokens_per_s else "-",
                      number_text(r.ratio, 2) if r.ratio else say("not_used", note=translate_notice(
                          r.reason or r.note or "", lang))))
    widths = [max(text_width(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        lines.append("  ".join(padded(c, w) for c, w in zip(row, widths, strict=False))
                     + "  " + row[-1])
    labels = {metric: say(f"{metric}_factor") for metric in ("decode", "prefill")}
    width = max(text_width(label) for label in (*labels.values(), say("link_form")))
    for metric, label in labels.items():
        factor = number_text(getattr(bench, f"{metric}_factor"), 2)
        raw = getattr(bench, f"{metric}_raw_factor")
        rows = getattr(bench, f"{metric}_rows")
        if raw is None:
            text = say("unchanged", factor=factor, metric=say(metric))
        else:
            clamped = (say("clamped", raw=number_text(raw, 2))
                       if getattr(bench, f"{metric}_clamped") else "")
            text = say("median", factor=factor, rows=rows, clamped=clamped)
        lines.append(f"{padded(label, max(width, 15))} {text}")
    lines.append(f"{padded(say('link_form'), max(width, 15))} bench={bench.to_query()}")
    return "\n".join(lines)


def _estimate_table(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    def say(key: str, **values: object) -> str:
        return cli_text(f"estimate.{key}", lang, **values)

    mem = result["memory"]
    gib = {name: number_text(bytes_to_gib(mem[f"{name}_bytes"]), 2)
           for name in ("weights", "kv_cache", "activations", "overhead", "total", "usable")}
    price = result.get("gpu_price_usd")
    rows = [
        ("model", say("model_value", name=result["model"]["name"],
                      params_b=number_text(result["model"]["params_total"] / 1e9, 2))),
        ("model_shape", model_shape_text(result["model"], lang)),
        ("gpu", say("gpu_value", count=result["gpu_count"], gpu=result["gpu_name"],
                    memory_gib=f"{result['gpu_memory_gib']:g}")
         + (say("gpu_price", price=number_text(price, 0)) if price else "")),
        ("quant_runtime", f"{result['quant']} / {result['runtime']} ({result['api']})"),
        ("context", say("context_value", tokens=number_text(result["context_tokens"], 0),
                        batch=result["batch"])),
        ("verdict", say(f"verdict_{mem['verdict']}")),
        *((name, say("gib", value=gib[name]))
          for name in ("weights", "kv_cache", "activations", "overhead")),
        ("total_usable", say("total_usable_value", total=gib["total"], usable=gib["usable"])),
    ]
    offloaded = number_text(bytes_to_gib(mem["offloaded_bytes"]), 2)
    if not mem["offload_possible"]:
        rows.append(("short", say("short_value", value=number_text(
            bytes_to_gib(max(mem["offloaded_bytes"], 0.0)), 2))))
    elif mem["offloaded_bytes"]:
        rows.append(("offloaded", say("offloaded_layers", value=offloaded,
                                      gpu_layers=mem["gpu_layers"], layers=mem["num_layers"])))
    else:
        rows.append(("offloaded", say("gib", value=offloaded)))
    if mem.get("kv_capacity_tokens") is not None:
        rows.append(("kv_pool", say("kv_pool_value",
                                    tokens=number_text(mem["kv_capacity_tokens"], 0),
                                    sequences=number_text(mem["max_concurrent_sequences"], 0))))
    for section, keys in TABLE_ROWS:
        if result.get(section):
            for key, pattern in keys:
                value = result[section].get(key)
                if key == "max_context_tokens":
                    rows.append((key, max_context_text(result, lang)))
                elif isinstance(value, list):
                    rows.append((key, ", ".join(map(str, value)) or say("none")))
                elif key == "throttle_risk" and value is not None:
                    rows.append((key, say(f"risk_{value}")))
                elif value is not None:
                    text = (str(value) if pattern is None
                            else money_text(value, "USD", digits=2) if "_usd_" in key
                            else pattern_text(value, pattern))
                    rows.append((key, say(f"value.{key}", value=text)))
                elif key == "best_quant":
                    rows.append((key, say("none")))
                elif key == "psu_recommended_w" and any(
                        w.get("code") == "psu_built_in" for w in result["warnings"]):
                    rows.append((key, say("psu_built_in")))
    rows[1:1] = source_rows(result)
    rows += vision_rows(result, lang) + agent_rows(result, lang)
    labelled = [(say(f"label.{key}"), value) for key, value in rows]
    width = max(text_width(label) for label, _ in labelled)
    lines = [f"{padded(label, width)}  {value}" for label, value in labelled]
    lines += [translate("cli.warning", lang, message=translate_notice(w, lang))
              for w in result["warnings"]]
    lines += remedy_lines(result.get("remedies") or [], lang)
    return "\n".join(lines)


def remedy_lines(remedies: list[dict[str, Any]], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """What would make it fit, one numbered line each, with the decode speed after it."""
    if not remedies:
        return []
    lines = [cli_text("estimate.remedies", lang)]
    for number, r in enumerate(remedies, start=1):
        decode = r.get("decode_tokens_per_s")
        lines.append(f"  {number}. {translate_notice(r, lang)}"
                     + (cli_text("estimate.remedy_decode", lang, value=number_text(decode))
                        if decode else ""))
    return lines


def source_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the model came from, unless the catalog."""
    source = result["model"].get("source", "catalog")
    return [] if source == "catalog" else [("model_source", source)]


def vision_rows(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """Images in each request: their tokens and the encoder's cost."""
    v = result.get("vision")
    if not v:
        return []
    encode = v.get("encoder_s_per_image")
    encoder = cli_text("estimate.gib", lang, value=number_text(bytes_to_gib(v["encoder_bytes"]), 2))
    return [("images", cli_text("estimate.images_value", lang, images=v["images"],
                                width=v["image_width_px"], height=v["image_height_px"],
                                resized_width=v["resized_width_px"],
                                resized_height=v["resized_height_px"],
                                tokens=number_text(v["image_tokens_per_image"], 0))),
            ("vision_encoder", encoder + (cli_text("estimate.encoder_s", lang,
                                                   value=number_text(encode, 2))
                                          if encode else ""))]


def agent_rows(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """The phone-agent task: seconds per step, and the context at a few steps."""
    a = result.get("agent")
    if not a:
        return []
    sep = cli_text("estimate.list_sep", lang)
    steps = sep.join(cli_text("estimate.agent_step_context", lang, step=s["step"],
                              tokens=number_text(s["context_tokens"], 0))
                     for s in a["steps"] if s["step"] in (1, 5, 10, 15, 20)
                     or s["step"] == len(a["steps"]))
    return [("agent_step", cli_text("estimate.agent_step_value", lang,
                                    seconds=number_text(a["seconds_per_step"]),
                                    per_minute=number_text(a["steps_per_minute"]),
                                    steps=len(a["steps"]),
                                    task_s=number_text(a["task_seconds"], 0))
             if a["seconds_per_step"] else cli_text("estimate.speed_unknown", lang)),
            ("agent_context", cli_text("estimate.agent_context_value", lang, steps=steps,
                                       image_tokens=number_text(a["image_tokens_per_step"], 0))),
            ("screenshots", cli_text("estimate.screenshots_value", lang,
                                     count=a["screenshots_that_fit"]))]


def model_shape_text(model: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    """What was read of the model: layers, heads, KV heads, head size, context, experts."""
    if model.get("num_layers") is None:
        return "-"
    text = cli_text("estimate.shape", lang, layers=model["num_layers"],
                    heads=model["num_attention_heads"], kv_heads=model["num_kv_heads"],
                    head_dim=model["head_dim"],
                    context=number_text(model["max_context_tokens"], 0))
    if model.get("num_experts"):
        text += cli_text("estimate.shape_experts", lang, experts=model["num_experts"],
                         per_token=model["num_experts_per_token"])
    return text


def max_context_text(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    """The longest context entirely on the GPU(s); when none but offload runs, say so."""
    tokens = result["fit"]["max_context_tokens"]
    if tokens:
        return cli_text("estimate.value.max_context_tokens", lang, value=number_text(tokens, 0))
    if result["memory"]["verdict"] == "fits-with-offload":
        return cli_text("estimate.none_offload", lang)
    return cli_text("estimate.none", lang)


# Rows of the table view after memory: (section, [(key, number pattern, or None for text)]);
# labels under cli.estimate.label, values (with their units) under cli.estimate.value.
TABLE_ROWS: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("fit", [("max_context_tokens", "{:,}"), ("best_quant", None), ("formats_considered", None)]),
    ("speed", [("decode_tokens_per_s", "{:.1f}"), ("decode_tokens_per_s_low", "{:.1f}"),
               ("decode_tokens_per_s_high", "{:.1f}"), ("prefill_tokens_per_s", "{:,.0f}"),
               ("ttft_s", "{:.2f}"), ("total_time_s", "{:.1f}")]),
    ("power", [("gpu_power_w", "{:.0f}"), ("gpu_power_prefill_w", "{:.0f}"),
               ("system_power_w", "{:.0f}"), ("psu_recommended_w", "{:.0f}"),
               ("energy_wh_per_1k_tokens", "{:.2f}"), ("energy_wh_per_1k_prompt_tokens", "{:.2f}"),
               ("cost_usd_per_1m_tokens", "{:.2f}"), ("power_limit_sweet_spot_w", "{:.0f}"),
               ("power_limit_sweet_spot_prefill_w", "{:.0f}")]),
    ("thermal", [("gpu_temp_c", "{:.0f}"), ("throttle_risk", None),
                 ("heat_btu_per_hour", "{:,.0f}")]),
    ("load", [("load_time_s", "{:.1f}")]),
]


def run(args: argparse.Namespace, cat: Catalog) -> int:
    bench = bench_from_args(args, cat) if getattr(args, "bench", None) else None
    if args.requests:
        return _run_requests(args.requests, cat, bench, getattr(args, "ui_lang", DEFAULT_LANGUAGE))
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
            print(bench_table(bench, getattr(args, "ui_lang", DEFAULT_LANGUAGE)) + "\n")
        print(_estimate_table(result, getattr(args, "ui_lang", DEFAULT_LANGUAGE)))
    return 0


def _run_requests(path: str, cat: Catalog, bench: BenchCalibration | None = None,
                  lang: str = DEFAULT_LANGUAGE) -> int:
    """One JSON line out for each non-blank line in, in order."""
    data = read_bounded_bytes(path, limit_bytes=MAX_REQUESTS_BYTES, what="requests file")
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip(b" \t\r"):
            print(json_text(request_line_answer(line, number, cat, bench, lang), indent=None),
                  flush=False)
    return 0


def request_line_answer(line: bytes, number: int, cat: Catalog,
                        bench: BenchCalibration | None = None,
                        lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The answer to one JSONL line (line ``number``), or ``{"error": "line N: ...", "code": ...}``
    with the message in ``lang``."""
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
        message = echo(translate_notice(exc, lang), max_chars=ERROR_MAX_CHARS)
        return {"error": translate("cli.line_error", lang, line=number, message=message),
                "code": exc.code}


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
