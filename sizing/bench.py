"""Your own benchmark: read llama-bench and Ollama output, and rescale speeds with it.

A user pastes what ``llama-bench`` printed (its markdown table, ``-o json`` or
``-o jsonl``) or what ``ollama run --verbose`` printed after an answer.
:func:`parse_bench` reads that text into typed :class:`BenchRow` records
(model description, size, parameters, backend, GPU layers, test, tokens/s);
:func:`scenario_for` maps a row to the scenario RigFit can predict (catalog
model or bare size, quant, runtime, prompt and new tokens). Comparing the
predictions with the measurements (:mod:`sizing.bench_calibrate`) gives a
:class:`BenchCalibration`: one factor for decode and one for prefill on the
GPU the benchmark ran on. :func:`rescale_speed` applies it to any other
scenario on that GPU, never above the bandwidth speed-of-light bound.

Everything here is pure: it takes text (or bytes) and returns records. Errors
in a paste raise :class:`BenchError`, a :class:`~catalog.errors.UserError`
whose message names the line that could not be read.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import bisect
import json
import math
import re
from typing import Literal, TypeVar

from pydantic import ConfigDict, Field

from catalog.errors import UserError, echo
from sizing.architecture import ModelInputError, arch_from_param_count
from sizing.guards import MAX_BENCH_BYTES
from sizing.notices import Notice, count_text
from sizing.results import Result

FACTOR_MIN = 0.2  # the range of factors RigFit trusts: outside it the benchmark
FACTOR_MAX = 3.0  # more likely ran something else than what the scenario says
MIN_PREFILL_TOKENS = 64  # shorter prompts time launch overheads, not prompt processing
MAX_BENCH_TOKENS = 10_000_000
_QUERY_MAX_CHARS = 120

Metric = Literal["prefill", "decode", "combined"]


class BenchError(UserError):
    """A benchmark paste or file that cannot be read; the message names the line."""


class BenchRow(Result):
    """One measurement as the benchmark printed it."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    line: int  # 1-based line of the paste it was read from
    source: Literal["llama-bench", "llama-bench-json", "ollama"]
    model: str | None  # "llama 7B Q4_0" (llama-bench) or "llama3.1:8b" (Ollama)
    size_bytes: float | None = None
    params: float | None = None  # parameter count
    backend: str | None = None  # CUDA, Vulkan, ROCm, Metal,BLAS, ...
    gpu_layers: int | None = None  # llama-bench -ngl (99 or -1: all)
    kv_cache: str | None = None  # type_k when the benchmark printed it
    test: str  # pp512, tg128, pp512+tg128, tg128 @ d4096; Ollama: prompt eval, eval
    metric: Metric
    prompt_tokens: int  # tokens processed as the prompt (pp) or already in context (tg)
    new_tokens: int
    depth_tokens: int = 0  # llama-bench -d: context filled before the test
    tokens_per_s: float = Field(gt=0)
    stddev_tokens_per_s: float | None = None


class BenchRun(Result):
    """Everything read from one paste."""

    formats: list[str]  # which outputs were found, e.g. ["llama-bench markdown"]
    rows: list[BenchRow]
    gpu_name: str | None = None  # as the runtime named it, e.g. "NVIDIA GeForce RTX 4090"
    gpu_count: int = 1  # devices of that name the runtime listed


class BenchComparison(Result):
    """One benchmark row next to RigFit's prediction for the same scenario."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    line: int
    test: str
    benchmark_model: str | None
    metric: Metric
    measured_tokens_per_s: float
    model: str | None = None  # catalog model id, or None for a bare size
    params_b: float | None = None
    quant: str | None = None
    runtime: str | None = None
    prompt_tokens: int = 0
    new_tokens: int = 0
    predicted_tokens_per_s: float | None = None
    ratio: float | None = None  # measured / predicted
    used: bool = False
    note: str | None = None  # why the row was not used, in English
    reason: Notice | None = None  # the same, with a code and parameters for translation


class BenchCalibration(Result):
    """Speed factors for one GPU, from a user's own benchmark.

    ``decode_factor`` and ``prefill_factor`` are the medians of measured /
    predicted over the rows of each metric, clamped to 0.2-3 (the raw medians
    stay in ``*_raw_factor``). Only the GPU and the two factors travel in a
    link (:meth:`to_query`); the rows are for showing the comparison.
    """

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    gpu: str  # catalog GPU id the benchmark ran on
    decode_factor: float = Field(default=1.0, ge=FACTOR_MIN, le=FACTOR_MAX)
    prefill_factor: float = Field(default=1.0, ge=FACTOR_MIN, le=FACTOR_MAX)
    decode_rows: int = Field(default=0, ge=0)
    prefill_rows: int = Field(default=0, ge=0)
    decode_raw_factor: float | None = Field(default=None, gt=0)
    prefill_raw_factor: float | None = Field(default=None, gt=0)
    rows: list[BenchComparison] = []

    @property
    def decode_clamped(self) -> bool:
        return self.decode_raw_factor is not None and self.decode_raw_factor != self.decode_factor

    @property
    def prefill_clamped(self) -> bool:
        return (self.prefill_raw_factor is not None
                and self.prefill_raw_factor != self.prefill_factor)

    def to_query(self) -> str:
        """The compact form for a URL: ``d1.12,p1.35,rtx-4090``."""
        return f"d{self.decode_factor:.3g},p{self.prefill_factor:.3g},{self.gpu}"

    @classmethod
    def from_query(cls, value: str, *, gpu: str | None = None) -> "BenchCalibration":
        """Read :meth:`to_query`'s form back; ``gpu`` is used when the value names none.

        Raises :class:`BenchError` for anything else: unknown parts, numbers
        that are not finite or outside 0.2-3, a GPU id of the wrong shape, or
        a value that names a different GPU than ``gpu``.
        """
        if not isinstance(value, str) or not value or len(value) > _QUERY_MAX_CHARS:
            raise BenchError(f"bench must look like d1.12,p1.35,<gpu id> (at most "
                             f"{_QUERY_MAX_CHARS} characters)", code="bench_query_form",
                             params={"max_chars": _QUERY_MAX_CHARS})
        factors: dict[str, float] = {}
        named_gpu = None
        for part in value.split(","):
            part = part.strip()
            match = _QUERY_FACTOR.fullmatch(part)
            if match:
                key = "decode_factor" if match.group(1).lower() == "d" else "prefill_factor"
                number = float(match.group(2))
                if key in factors:
                    raise BenchError(f"bench gives the {key.split('_')[0]} factor twice",
                                     code="bench_query_twice",
                                     params={"metric_term": key.split("_")[0]})
                if not FACTOR_MIN <= number <= FACTOR_MAX:
                    raise BenchError(f"bench factor {part} is outside {FACTOR_MIN:g}-{FACTOR_MAX:g}",
                                     code="bench_query_factor_range",
                                     params={"factor": part, "low": f"{FACTOR_MIN:g}",
                                             "high": f"{FACTOR_MAX:g}"})
                factors[key] = number
            elif _GPU_ID.fullmatch(part) and named_gpu is None:
                named_gpu = part
            else:
                raise BenchError(f"bench part '{part[:40]}' is not dN, pN or a GPU id",
                                 code="bench_query_part", params={"part": echo(part[:40])})
        if named_gpu and gpu and named_gpu != gpu:
            raise BenchError(f"bench was measured on {named_gpu}, not {gpu}",
                             code="bench_query_other_gpu",
                             params={"bench_gpu": named_gpu, "gpu": echo(gpu)})
        if not (named_gpu or gpu):
            raise BenchError("bench names no GPU", code="bench_query_no_gpu")
        if not factors:
            raise BenchError("bench gives neither a decode (dN) nor a prefill (pN) factor",
                             code="bench_query_no_factor")
        return cls(gpu=named_gpu or gpu, **factors)


_QUERY_FACTOR = re.compile(r"([dpDP])(\d{1,2}(?:\.\d{1,6})?)")
_GPU_ID = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")


# --------------------------------------------------------------------------- reading


def decode_bench_bytes(data: bytes, *, path: str | None = None) -> str:
    """UTF-8 text of an uploaded or read file (read from ``path``), refusing more than 1 MiB."""
    shown = "" if path is None else echo(path, tail=True)
    name = "benchmark file" + (f" '{shown}'" if path is not None else "")
    if len(data) > MAX_BENCH_BYTES:
        raise BenchError(f"{name} is larger than {MAX_BENCH_BYTES // 2**20} MiB; "
                         "give only what llama-bench or ollama printed", code="bench_file_too_large",
                         params={"limit_mib": MAX_BENCH_BYTES // 2**20})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if path is None:
            raise BenchError(f"line {line}: {name} is not UTF-8 text", code="bench_not_utf8",
                             params={"line": line}) from None
        raise BenchError(f"line {line}: {name} is not UTF-8 text", code="bench_file_not_utf8",
                         params={"line": line, "path": shown}) from None


def parse_bench(text: str) -> BenchRun:
    """Read llama-bench markdown, ``-o json``/``-o jsonl`` or Ollama ``--verbose`` timings.

    Other lines (build logs, device banners, prose) are skipped; a line that
    looks like part of a benchmark but cannot be read raises
    :class:`BenchError` naming it.
    """
    if not isinstance(text, str):
        raise BenchError("the benchmark must be text", code="bench_not_text")
    if len(text) > MAX_BENCH_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BENCH_BYTES:
        raise BenchError(f"the benchmark is larger than {MAX_BENCH_BYTES // 2**20} MiB; "
                         "give only what llama-bench or ollama printed", code="bench_too_large",
                         params={"limit_mib": MAX_BENCH_BYTES // 2**20})
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    devices = _devices(lines)
    rows: list[BenchRow] = []
    formats: list[str] = []
    covered: set[int] = set()  # 0-based lines a JSON array spans
    json_rows, json_gpu, covered = _json_rows(lines)
    md_rows = _markdown_rows(lines, covered)
    ollama_rows = _ollama_rows(lines, covered)
    for name, found in (("llama-bench markdown", md_rows), ("llama-bench JSON", json_rows),
                        ("Ollama --verbose", ollama_rows)):
        if found:
            formats.append(name)
            rows += found
    if not rows:
        first = next(((i + 1, line.strip()) for i, line in enumerate(lines) if line.strip()),
                     None)
        if first is None:
            raise BenchError("the benchmark is empty: paste what llama-bench or "
                             "ollama run --verbose printed", code="bench_empty")
        number, content = first
        raise BenchError(
            f"line {number} ('{_clip(content)}'): no llama-bench table, llama-bench JSON or "
            "Ollama --verbose timings found", code="bench_nothing_found",
            params={"line": number, "text": _clip(content)})
    rows.sort(key=lambda r: r.line)
    # llama-bench's own gpu_info names the GPU of its rows; else a device banner does.
    gpu_name, gpu_count = json_gpu or (devices if devices[0] else (None, 1))
    return BenchRun(formats=formats, rows=rows, gpu_name=gpu_name, gpu_count=gpu_count)


def _clip(text: str, limit: int = 60) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Device banners: CUDA and ROCm ("Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9"),
# Vulkan ("ggml_vulkan: 0 = AMD Radeon RX 7900 XT (RADV NAVI31) (radv) | uma: 0 ...") and Metal.
_DEVICE_PATTERNS = (
    re.compile(r"\bDevice\s+(\d{1,3}):\s*([^,]{2,100}?),\s*(?:compute capability|gfx)"),
    re.compile(r"ggml_vulkan:\s*(\d{1,3})\s*=\s*([^(|]{2,100}?)\s*[(|]"),
    re.compile(r"ggml_metal\w*:\s*(?:found device|GPU name):\s*()(.{2,100}?)\s*$"),
)


def _devices(lines: list[str]) -> tuple[str | None, int]:
    """The first GPU a device banner names, and how many devices share its name."""
    seen: dict[str, str] = {}
    for line in lines:
        for pattern in _DEVICE_PATTERNS:
            match = pattern.search(line)
            if match:
                seen.setdefault(match.group(1) or str(len(seen)), match.group(2).strip())
                break
    if not seen:
        return None, 1
    first = next(iter(seen.values()))
    return first, max(1, sum(1 for name in seen.values() if name == first))


# --- llama-bench markdown -------------------------------------------------------------------

_TS = re.compile(r"(\d{1,12}(?:\.\d{1,12})?)\s*(?:(?:±|\+/-|\+-|Â±)\s*(\d{1,12}(?:\.\d{1,12})?))?")
_TEST = re.compile(r"(?:(pp)\s*(\d{1,8})\s*\+\s*tg\s*(\d{1,8})|(pp|tg)\s*(\d{1,8}))"
                   r"(?:\s*@\s*d\s*(\d{1,8}))?", re.IGNORECASE)
_QUANTITY = re.compile(r"(\d{1,9}(?:\.\d{1,9})?)\s*([KMGT]i?B|[KMBT])", re.IGNORECASE)
_SEPARATOR = re.compile(r":?-{1,}:?")
_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_BYTE_UNITS = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
               "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}


def _cells(line: str) -> list[str] | None:
    s = line.strip()
    if not s.startswith("|"):
        return None
    s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in s.split("|")]


def _markdown_rows(lines: list[str], covered: set[int]) -> list[BenchRow]:
    rows: list[BenchRow] = []
    i = 0
    while i < len(lines):
        header = None if i in covered else _cells(lines[i])
        names = [c.lower() for c in header] if header else []
        if not ({"model", "test", "t/s"} <= set(names)):
            i += 1
            continue
        sep = _cells(lines[i + 1]) if i + 1 < len(lines) else None
        if sep is None or len(sep) != len(names) or not all(_SEPARATOR.fullmatch(c) for c in sep):
            raise BenchError(f"line {i + 2}: expected the |---|---| line under the llama-bench "
                             f"table header on line {i + 1}", code="bench_table_separator",
                             params={"line": i + 2, "header_line": i + 1})
        j = i + 2
        while j < len(lines):
            cells = _cells(lines[j])
            if cells is None or {"model", "test", "t/s"} <= {c.lower() for c in cells}:
                break  # the table ended, or another one starts right under it
            if len(cells) != len(names):
                raise BenchError(f"line {j + 1}: {len(cells)} columns where the header on line "
                                 f"{i + 1} has {len(names)}", code="bench_table_columns",
                                 params={"line": j + 1, "columns": len(cells),
                                         "header_line": i + 1, "header_columns": len(names)})
            rows.append(_markdown_row(j + 1, dict(zip(names, cells, strict=True))))
            j += 1
        i = j
    return rows


def _markdown_row(number: int, cell: dict[str, str]) -> BenchRow:
    match = _TS.fullmatch(cell["t/s"])
    if not match:
        raise BenchError(f"line {number}: cannot read t/s '{_clip(cell['t/s'], 30)}' "
                         "(expected e.g. 131.42 ± 0.59)", code="bench_bad_rate",
                         params={"line": number, "text": _clip(cell["t/s"], 30)})
    tokens_per_s = float(match.group(1))
    if not tokens_per_s > 0:
        raise BenchError(f"line {number}: t/s must be more than 0", code="bench_rate_zero",
                         params={"line": number, "key": "t/s"})
    test = _test(number, cell["test"])
    ngl = cell.get("ngl", cell.get("n_gpu_layers"))
    return BenchRow(
        line=number, source="llama-bench", model=cell["model"][:200] or None,
        size_bytes=_quantity(cell.get("size"), _BYTE_UNITS),
        params=_quantity(cell.get("params"), _UNITS),
        backend=cell.get("backend", "")[:60] or None,
        gpu_layers=int(ngl) if ngl and re.fullmatch(r"-?\d{1,6}", ngl) else None,
        kv_cache=(cell.get("type_k") or None), **test, tokens_per_s=tokens_per_s,
        stddev_tokens_per_s=float(match.group(2)) if match.group(2) else None)


def _test(number: int, text: str) -> dict:
    match = _TEST.fullmatch(text.strip())
    if not match:
        raise BenchError(f"line {number}: cannot read the test '{_clip(text, 30)}' "
                         "(expected e.g. pp512, tg128, pp512+tg128 or tg128 @ d4096)",
                         code="bench_bad_test", params={"line": number, "text": _clip(text, 30)})
    depth = int(match.group(6) or 0)
    if match.group(1):  # pp + tg
        prompt, new, metric = int(match.group(2)), int(match.group(3)), "combined"
    elif match.group(4).lower() == "pp":
        prompt, new, metric = int(match.group(5)), 0, "prefill"
    else:
        prompt, new, metric = 0, int(match.group(5)), "decode"
    name = (f"pp{prompt}+tg{new}" if metric == "combined" else
            f"pp{prompt}" if metric == "prefill" else f"tg{new}")
    return _tokens(number, name + (f" @ d{depth}" if depth else ""), metric, prompt, new, depth)


def _tokens(number: int, name: str, metric: str, prompt: int, new: int, depth: int) -> dict:
    if prompt + new <= 0:
        raise BenchError(f"line {number}: the test '{name}' runs no tokens", code="bench_test_empty",
                         params={"line": number, "test": name})
    if max(prompt + depth, new) > MAX_BENCH_TOKENS:
        raise BenchError(f"line {number}: the test '{name}' is longer than "
                         f"{MAX_BENCH_TOKENS:,} tokens", code="bench_test_too_long",
                         params={"line": number, "test": name, "max_tokens": f"{MAX_BENCH_TOKENS:,}"})
    return {"test": name, "metric": metric, "prompt_tokens": prompt, "new_tokens": new,
            "depth_tokens": depth}


def _quantity(text: str | None, units: dict[str, float]) -> float | None:
    match = _QUANTITY.fullmatch((text or "").strip())
    if not match or match.group(2).lower() not in units:
        return None
    value = float(match.group(1)) * units[match.group(2).lower()]
    return value if value > 0 else None


# --- llama-bench JSON and JSONL -------------------------------------------------------------


def _json_rows(lines: list[str]) -> tuple[list[BenchRow], tuple[str, int] | None, set[int]]:
    """Rows of every JSON array (``-o json``) or object line (``-o jsonl``) with avg_ts."""
    text = "\n".join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    marks = [m.start() for m in re.finditer('"avg_ts"', text)]
    rows: list[BenchRow] = []
    gpu: tuple[str, int] | None = None
    covered: set[int] = set()
    failures = 0  # each failed attempt costs up to the text's length: stop after a few
    i = 0
    while i < len(lines) and failures < _JSON_ATTEMPTS:
        stripped = lines[i].lstrip()
        offset = starts[i] + len(lines[i]) - len(stripped)
        # llama-bench prints "[" then objects ({"build_commit": ...), or one object a line.
        after = _SPACE.match(text, offset + 1).end()
        if not (stripped.startswith("[") and text.startswith(("{", "]"), after)
                or stripped.startswith("{") and text.startswith('"', after)):
            i += 1
            continue
        try:
            items, end = (_decode_array(text, offset) if stripped.startswith("[")
                          else _decode_value(text, offset))
        except (ValueError, RecursionError) as exc:
            failures += 1
            where = min(getattr(exc, "pos", offset), len(text))
            # The decoder read past an "avg_ts" before failing: this is llama-bench JSON.
            if bisect.bisect_left(marks, offset) < bisect.bisect_right(marks, where):
                reason = getattr(exc, "msg", "nested too deeply")
                raise BenchError(f"line {_line_of(starts, where)}: llama-bench JSON could not be "
                                 f"read ({reason})", code="bench_json_unreadable",
                                 params={"line": _line_of(starts, where), "reason": reason}) from None
            i += 1
            continue
        last = _line_of(starts, max(end - 1, offset)) - 1
        if not any(isinstance(o, dict) and "avg_ts" in o for _, o in items):
            i = last + 1  # some other JSON: nothing of llama-bench's is inside it
            continue
        for position, obj in items:
            row, name = _json_row(_line_of(starts, position), obj)
            rows.append(row)
            if name and gpu is None:
                gpu = name
        covered.update(range(i, last + 1))
        i = last + 1
    if not rows and marks:
        raise BenchError(f"line {_line_of(starts, marks[0])}: llama-bench JSON could not be read "
                         "(no complete [ ... ] array or {...} line around it)",
                         code="bench_json_incomplete", params={"line": _line_of(starts, marks[0])})
    return rows, gpu, covered


_SPACE = re.compile(r"\s*")
_JSON_ATTEMPTS = 20
_DECODER = json.JSONDecoder()


def _decode_value(text: str, offset: int) -> tuple[list[tuple[int, object]], int]:
    value, end = _DECODER.raw_decode(text, offset)
    return [(offset, value)], end


def _decode_array(text: str, offset: int) -> tuple[list[tuple[int, object]], int]:
    """Elements of the JSON array at ``offset`` with the position each starts at."""
    items: list[tuple[int, object]] = []
    pos = _SPACE.match(text, offset + 1).end()
    if text.startswith("]", pos):
        return items, pos + 1
    while True:
        value, after = _DECODER.raw_decode(text, pos)
        items.append((pos, value))
        pos = _SPACE.match(text, after).end()
        if text.startswith(",", pos):
            pos = _SPACE.match(text, pos + 1).end()
        elif text.startswith("]", pos):
            return items, pos + 1
        else:
            raise json.JSONDecodeError("expecting ',' or ']'", text, pos)


def _line_of(starts: list[int], position: int) -> int:
    return bisect.bisect_right(starts, position)


def _json_row(number: int, obj: object) -> tuple[BenchRow, tuple[str, int] | None]:
    if not isinstance(obj, dict):
        raise BenchError(f"line {number}: each llama-bench JSON result must be an object",
                         code="bench_json_not_object", params={"line": number})

    def number_of(key: str, *, required: bool = True) -> float | None:
        value = obj.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BenchError(f"line {number}: '{key}' must be a number, got {_clip(repr(value), 30)}",
                             code="bench_json_not_number",
                             params={"line": number, "key": key, "got": _clip(repr(value), 30)})
        return float(value)

    tokens_per_s = number_of("avg_ts")
    if not tokens_per_s > 0:
        raise BenchError(f"line {number}: avg_ts must be more than 0", code="bench_rate_zero",
                         params={"line": number, "key": "avg_ts"})
    counts = []
    for key in ("n_prompt", "n_gen", "n_depth"):
        value = number_of(key, required=key != "n_depth") or 0.0
        if value < 0 or value != int(value):
            raise BenchError(f"line {number}: '{key}' must be a whole number of tokens ≥ 0",
                             code="bench_json_not_count", params={"line": number, "key": key})
        counts.append(int(value))
    prompt, new, depth = counts
    metric = "combined" if prompt and new else "prefill" if prompt else "decode"
    name = (f"pp{prompt}+tg{new}" if metric == "combined" else
            f"pp{prompt}" if metric == "prefill" else f"tg{new}")
    test = _tokens(number, name + (f" @ d{depth}" if depth else ""), metric, prompt, new, depth)
    stddev = number_of("stddev_ts", required=False)
    size, params, ngl = (number_of(k, required=False)
                         for k in ("model_size", "model_n_params", "n_gpu_layers"))
    text_of = {k: obj.get(k) if isinstance(obj.get(k), str) else None
               for k in ("model_type", "backends", "type_k", "gpu_info")}
    gpu = None
    if text_of["gpu_info"]:
        names = [n.strip() for n in text_of["gpu_info"].split(",") if n.strip()]
        if names:
            gpu = (names[0][:100], max(1, sum(1 for n in names if n == names[0])))
    row = BenchRow(
        line=number, source="llama-bench-json", model=(text_of["model_type"] or "")[:200] or None,
        size_bytes=size if size and size > 0 else None,
        params=params if params and params > 0 else None,
        backend=(text_of["backends"] or "")[:60] or None,
        gpu_layers=int(ngl) if ngl is not None and abs(ngl) < 1e6 else None,
        kv_cache=(text_of["type_k"] or "")[:20] or None, **test, tokens_per_s=tokens_per_s,
        stddev_tokens_per_s=stddev if stddev is not None and stddev >= 0 else None)
    return row, gpu


# --- Ollama --verbose -----------------------------------------------------------------------

_OLLAMA_LINE = re.compile(r"^\s*(total duration|load duration|prompt eval count|"
                          r"prompt eval duration|prompt eval rate|eval count|eval duration|"
                          r"eval rate)\s*:\s*(.*?)\s*$")
_OLLAMA_RUN = re.compile(r"\bollama\s+run\b((?:\s+\S+){1,8})")
_COUNT = re.compile(r"(\d{1,9})\s*token\(?s?\)?")
_RATE = re.compile(r"(\d{1,12}(?:\.\d{1,12})?|[+-]?Inf|NaN)\s*tokens/s", re.IGNORECASE)


def _ollama_rows(lines: list[str], covered: set[int]) -> list[BenchRow]:
    rows: list[BenchRow] = []
    model: str | None = None
    block: dict[str, tuple[str, int]] = {}

    def finish() -> None:
        if "eval rate" in block or "prompt eval rate" in block:
            rows.extend(_ollama_block(block, model))
        block.clear()

    for index, line in enumerate(lines):
        if index in covered:
            continue
        run = _OLLAMA_RUN.search(line)
        if run:
            finish()
            names = [w for w in run.group(1).split() if not w.startswith("-")]
            model = names[0][:100] if names else model
            continue
        match = _OLLAMA_LINE.match(line)
        if not match:
            continue
        key = match.group(1)
        if key == "total duration" or key in block:
            finish()
        block[key] = (match.group(2), index + 1)
        if key == "eval rate":
            finish()
    finish()
    return rows


def _ollama_block(block: dict[str, tuple[str, int]], model: str | None) -> list[BenchRow]:
    def count(key: str) -> int | None:
        if key not in block:
            return None
        text, number = block[key]
        match = _COUNT.fullmatch(text)
        if not match:
            raise BenchError(f"line {number}: cannot read {key} '{_clip(text, 30)}' "
                             "(expected e.g. 120 tokens)", code="bench_ollama_count",
                             params={"line": number, "key": key, "text": _clip(text, 30)})
        return int(match.group(1))

    def rate(key: str) -> tuple[float, int] | None:
        if key not in block:
            return None
        text, number = block[key]
        match = _RATE.fullmatch(text)
        if not match:
            raise BenchError(f"line {number}: cannot read {key} '{_clip(text, 30)}' "
                             "(expected e.g. 24.61 tokens/s)", code="bench_ollama_rate",
                             params={"line": number, "key": key, "text": _clip(text, 30)})
        value = float(match.group(1))
        return (value, number) if math.isfinite(value) and value > 0 else None

    prompt = count("prompt eval count") or 0
    new = count("eval count")
    rows = []
    prefill = rate("prompt eval rate")
    if prefill and prompt > 0:
        test = _tokens(prefill[1], "prompt eval", "prefill", prompt, 0, 0)
        rows.append(BenchRow(line=prefill[1], source="ollama", model=model, backend="ollama",
                             **test, tokens_per_s=prefill[0]))
    decode = rate("eval rate")
    if decode:
        test = _tokens(decode[1], "eval", "decode", prompt, max(new or 1, 1), 0)
        rows.append(BenchRow(line=decode[1], source="ollama", model=model, backend="ollama",
                             **test, tokens_per_s=decode[0]))
    return rows


# --------------------------------------------------------------------------- mapping


def _words(name: str) -> frozenset[str]:
    name = re.sub(r"\(.*?\)", " ", name.lower())
    words = re.findall(r"[a-z0-9]+", name)
    drop = {"nvidia", "geforce", "amd", "intel", "apple", "graphics", "gpu", "generation",
            "corporation", "edition"}
    return frozenset(w for w in words if w not in drop and not re.fullmatch(r"\d+gb", w))


def match_gpus(name: str, gpus) -> list[str]:
    """Catalog GPU ids whose name is the runtime's device name, vendor words aside."""
    want = _words(name)
    if not want:
        return []
    return [g.id for g in gpus if _words(g.name) == want]


# GGUF architecture names (the first word of llama-bench's model column) -> catalog families.
_FAMILIES = {
    "llama": ("llama", "mistral", "mixtral"), "qwen2": ("qwen2",), "qwen3": ("qwen3",),
    "qwen3moe": ("qwen3-moe",), "qwen3next": ("qwen3-next",), "gemma2": ("gemma2",),
    "gemma3": ("gemma3",), "phi3": ("phi3",), "glm4": ("glm4",), "gpt-oss": ("gpt-oss",),
    "deepseek2": ("deepseek-v2", "deepseek-v3"),
}
# llama.cpp's file-type names (llama_model_ftype_name) -> catalog quant ids.
_QUANT_SUFFIX = {"small": "s", "medium": "m", "large": "l", "extra small": "xs"}
_QUANT_SPECIAL = {"all f32": "f32", "q2_k - medium": "q2_k", "iq3_s mix": "iq3_m",
                  "iq2_xss": "iq2_xxs", "mxfp4 moe": "mxfp4"}
# Ollama library names whose "latest" tag is one catalog model.
_OLLAMA_LATEST = {
    "llama2": "llama-2-7b", "llama3": "llama-3-8b", "llama3.1": "llama-3.1-8b",
    "llama3.2": "llama-3.2-3b", "mistral": "mistral-7b-v0.3", "qwen2.5": "qwen2.5-7b",
    "qwen3": "qwen3-8b", "gemma2": "gemma-2-9b", "gemma3": "gemma-3-4b", "phi3": "phi-3-mini-4k",
    "phi4": "phi-4", "mixtral": "mixtral-8x7b", "gpt-oss": "gpt-oss-20b",
    "mistral-nemo": "mistral-nemo-12b",
}
OLLAMA_DEFAULT_QUANT = "q4_k_m"  # what an Ollama library tag without a quant downloads


def quant_of_description(description: str) -> str | None:
    """Catalog quant id from llama-bench's model column ("llama 7B Q4_K - Medium" -> q4_k_m)."""
    text = description.lower().replace("(guessed)", "").strip()
    match = re.search(r"\b(?:mostly\s+)?((?:all\s+)?(?:[a-z]*\d?[a-z]*_[a-z0-9_]+|f16|bf16|f32|"
                      r"mxfp4)(?:\s*-\s*(?:extra small|small|medium|large))?(?:\s+mix)?"
                      r"(?:\s+moe)?)", text)
    if not match:
        return None
    name = re.sub(r"\s*-\s*[\d.]+\s*bpw$", "", match.group(1)).strip()
    if name in _QUANT_SPECIAL:
        return _QUANT_SPECIAL[name]
    parts = re.fullmatch(r"([a-z0-9_]+)\s*-\s*(extra small|small|medium|large)", name)
    if parts:
        return f"{parts.group(1)}_{_QUANT_SUFFIX[parts.group(2)]}"
    return _QUANT_SPECIAL.get(name, name.split()[0] if name else None)


def _is_moe(description: str) -> bool:
    return bool(re.search(r"\d+x\d|\.a\d|\bmoe\b", description.lower()))


def model_for_row(row: BenchRow, catalog) -> tuple[str | None, float | None, Notice | None]:
    """(catalog model id, bare size in B, why neither) for a benchmark row."""
    if row.source == "ollama":
        return _ollama_model(row.model, catalog)
    description = row.model or ""
    arch = description.split()[0].lower() if description.split() else ""
    if row.params:
        near = [m for m in catalog.models
                if abs(m.params_total - row.params) <= 0.02 * row.params]
        if arch in _FAMILIES:
            near = [m for m in near if m.family in _FAMILIES[arch]]
        else:  # an architecture RigFit does not name: at least the same kind (dense or MoE)
            near = [m for m in near if (m.num_experts is not None) == _is_moe(description)]
        if near:
            return near[0].id, None, None
        if _is_moe(description):
            model = _clip(description, 40)
            return None, None, Notice("bench_row_moe_unknown",
                                      f"MoE model '{model}' is not in the catalog", model=model)
        return None, round(row.params / 1e9, 3), None
    return None, None, Notice("bench_row_no_size", "the benchmark does not say the model's size")


def _ollama_model(tag: str | None, catalog) -> tuple[str | None, float | None, Notice | None]:
    if not tag:
        return None, None, Notice("bench_row_no_model", "the paste does not say which model ran")
    name, _, variant = tag.lower().rpartition("/")[2].partition(":")
    size = re.match(r"(\d{1,4}(?:\.\d{1,3})?)b\b", variant)
    ids = [m.id for m in catalog.models]
    if size:
        wanted = re.sub(r"[^a-z0-9.]", "", name + size.group(1) + "b")
        squeezed = {i: re.sub(r"[^a-z0-9.]", "", i) for i in ids}
        found = ([i for i, s in squeezed.items() if s == wanted]
                 or [i for i, s in squeezed.items() if s.startswith(wanted)
                     and not s[len(wanted)].isdigit() and s[len(wanted)] != "."])
        if found:
            return found[0], None, None
        if not re.search(r"\d+x\d|a\d+b", variant):
            return None, float(size.group(1)), None
    elif variant in ("", "latest") and _OLLAMA_LATEST.get(name) in ids:
        return _OLLAMA_LATEST[name], None, None
    model = _clip(tag, 40)
    return None, None, Notice("bench_row_ollama_unknown",
                              f"Ollama model '{model}' is not in the catalog", model=model)


def quant_for_row(row: BenchRow, catalog, *, fallback: str | None = None) -> str | None:
    if row.source == "ollama":
        variant = (row.model or "").lower().partition(":")[2]
        match = re.search(r"(iq\d_[a-z]+|q\d_k_[sml]|q\d_k|q\d_\d|fp16|bf16|f16)", variant)
        wanted = (match.group(1).replace("fp16", "f16") if match
                  else fallback or OLLAMA_DEFAULT_QUANT)
    else:
        wanted = quant_of_description(row.model or "")
    known = {q.id for q in catalog.quants}
    return wanted if wanted in known else None


_BACKENDS = {"cuda": "llama.cpp", "rocm": "llama.cpp", "hip": "llama.cpp", "metal": "llama.cpp",
             "sycl": "llama.cpp", "vulkan": "llama.cpp-vulkan", "ollama": "ollama"}


def runtime_for_row(row: BenchRow) -> tuple[str | None, Notice | None]:
    """(catalog runtime id, why none) from the row's backend column."""
    names = [b.strip().lower() for b in (row.backend or "").split(",") if b.strip()]
    for name in names:
        if name in _BACKENDS:
            return _BACKENDS[name], None
    if not names or set(names) <= {"cpu", "blas", "rpc"}:
        return None, Notice("bench_row_cpu", "ran on the CPU")
    backend = _clip(row.backend or "", 20)
    return None, Notice("bench_row_backend", f"backend '{backend}' is not modelled",
                        backend=backend)


def scenario_for(row: BenchRow, catalog, *, gpu: str, gpu_count: int = 1,
                 model: str | None = None, params_b: float | None = None,
                 quant: str | None = None) -> tuple[dict | None, Notice | None]:
    """The request fields that predict this row, or None and the reason it cannot be.

    ``model``/``params_b``/``quant`` fill in what an Ollama paste leaves out.
    """
    if row.metric == "combined":
        return None, Notice("bench_row_combined", "prompt + generation test: not one speed")
    if row.metric == "prefill" and row.depth_tokens:
        return None, Notice("bench_row_depth", "prefill after a filled context is not modelled")
    if row.metric == "prefill" and row.prompt_tokens < MIN_PREFILL_TOKENS:
        return None, Notice("bench_row_short_prompt", f"prompt of {row.prompt_tokens} tokens is too "
                            "short to time prefill", tokens=row.prompt_tokens)
    runtime, why = runtime_for_row(row)
    if runtime is None:
        return None, why
    model_id, size_b, why = model_for_row(row, catalog)
    if model_id is None and size_b is None:
        if row.source != "ollama" or row.model is not None or (model is None and params_b is None):
            return None, why
        model_id, size_b = model, params_b
    layers = _layers(catalog, model_id, size_b)
    if row.gpu_layers is not None and 0 <= row.gpu_layers < (layers or 0):
        return None, Notice("bench_row_partial", f"only {row.gpu_layers} of {layers} layers on the "
                            "GPU (-ngl)", gpu_layers=row.gpu_layers, layers=layers)
    wanted = quant_for_row(row, catalog, fallback=quant)
    if wanted is None:
        model = _clip(row.model or "", 40)
        return None, Notice("bench_row_quant_unknown", f"quant of '{model}' is not in the catalog",
                            model=model)
    kv = row.kv_cache if row.kv_cache in {k.id for k in catalog.kv_cache_types} else "f16"
    data = {"gpu": gpu, "gpu_count": gpu_count, "runtime": runtime, "quant": wanted,
            "kv_cache": kv, "prompt_tokens": row.prompt_tokens + row.depth_tokens,
            "new_tokens": row.new_tokens}
    data.update({"model": model_id} if model_id else {"params_b": size_b})
    return data, None


def _layers(catalog, model_id: str | None, size_b: float | None) -> int | None:
    """Repeating layers of the model a row maps to (llama-bench's -ngl counts these)."""
    if model_id is not None:
        return catalog.model(model_id).num_layers
    try:
        return arch_from_param_count(size_b * 1e9).num_layers if size_b else None
    except ModelInputError:
        return None


# --------------------------------------------------------------------------- applying

S = TypeVar("S", bound=Result)


def clamp_factor(raw: float) -> float:
    return min(max(raw, FACTOR_MIN), FACTOR_MAX)


def rescale_speed(speed: S, calibration: BenchCalibration, *, gpu_id: str, gpu_name: str,
                  prompt_tokens: int, batch: int) -> tuple[S, list[Notice]]:
    """``speed`` (a speed section) rescaled by ``calibration``, and the notices saying so.

    Decode speeds (and their band) scale by the decode factor but never pass
    the bandwidth speed-of-light bound; prefill speeds scale by the prefill
    factor; the times follow. A calibration for another GPU is not applied.
    """
    if calibration.gpu != gpu_id:
        return speed, [Notice(
            "bench_other_gpu",
            f"Your benchmark ran on {calibration.gpu}, not {gpu_name}: its calibration is not "
            "applied.", bench_gpu=calibration.gpu, gpu=gpu_name)]
    d, p = calibration.decode_factor, calibration.prefill_factor
    get = speed.__getattribute__
    update: dict[str, float | str] = {}
    notices = [Notice(
        "bench_calibrated",
        f"Rescaled with your benchmark on {gpu_name}: decode x{d:.2f} (from "
        f"{count_text(calibration.decode_rows, 'row', 'rows')}), prefill x{p:.2f} (from "
        f"{count_text(calibration.prefill_rows, 'row', 'rows')}).", gpu=gpu_name,
        decode_factor=f"{d:.2f}", prefill_factor=f"{p:.2f}",
        decode_rows=calibration.decode_rows, prefill_rows=calibration.prefill_rows)]
    for metric, raw, used in (("decode", calibration.decode_raw_factor, d),
                              ("prefill", calibration.prefill_raw_factor, p)):
        if raw is not None and raw != used:
            notices.append(Notice(
                "bench_clamped",
                f"Your benchmark's {metric} speeds are {raw:.2f}x RigFit's prediction, outside the "
                f"{FACTOR_MIN:g}-{FACTOR_MAX:g}x it trusts: used {used:.2f}x. Check that the "
                "benchmark's GPU, model and quant match.",
                metric_term=metric, raw=f"{raw:.2f}", used=f"{used:.2f}",
                low=f"{FACTOR_MIN:g}", high=f"{FACTOR_MAX:g}"))
    decode, sol = get("decode_tokens_per_s"), get("decode_speed_of_light_tokens_per_s")
    ratio = 1.0
    if decode:
        cap = sol if sol else math.inf
        scaled = min(decode * d, cap)
        ratio = scaled / decode
        update["decode_tokens_per_s"] = scaled
        update["decode_tokens_per_s_per_sequence"] = get("decode_tokens_per_s_per_sequence") * ratio
        for key in ("decode_tokens_per_s_low", "decode_tokens_per_s_high"):
            if get(key) is not None:
                update[key] = min(get(key) * d, cap)
        if decode * d > cap * (1 + 1e-9):
            notices.append(Notice(
                "bench_speed_of_light",
                f"Calibrated decode capped at the memory-bandwidth limit of {sol:,.1f} tokens/s.",
                sol=f"{sol:,.1f}"))
    prefill = get("prefill_tokens_per_s")
    prefill_s = 0.0
    if prefill:
        prefill_s = prompt_tokens * batch / prefill
        for key in ("prefill_tokens_per_s", "prefill_tokens_per_s_low",
                    "prefill_tokens_per_s_high"):
            if get(key) is not None:
                update[key] = get(key) * p
    update["ttft_s"] = prefill_s / p + max(get("ttft_s") - prefill_s, 0.0) / ratio
    update["total_time_s"] = prefill_s / p + max(get("total_time_s") - prefill_s, 0.0) / ratio
    # Shares of peak throughput, or of the phase's time, in use: a faster phase uses more of
    # its hardware (the power estimate reads these).
    for key in type(speed).model_fields:
        if key.endswith(("_util_frac", "_time_frac")) and isinstance(get(key), (int, float)):
            if key.startswith("decode_"):
                update[key] = min(1.0, get(key) * ratio)
            elif key.startswith("prefill_"):
                update[key] = min(1.0, get(key) * p)
    update["basis"] = (f"{get('basis')}; rescaled by your benchmark (decode x{d:.2f}, "
                       f"prefill x{p:.2f})")
    return speed.model_copy(update=update), notices


__all__ = ["BenchCalibration", "BenchComparison", "BenchError", "BenchRow", "BenchRun",
           "FACTOR_MAX", "FACTOR_MIN", "MAX_BENCH_BYTES", "clamp_factor", "decode_bench_bytes",
           "match_gpus", "model_for_row", "parse_bench", "quant_for_row", "quant_of_description",
           "rescale_speed", "runtime_for_row", "scenario_for"]
