"""Shared state, widgets and charts for the pages.

Every input lives in one dict in ``st.session_state`` (the *configuration*),
mirrored into ``st.query_params`` at the end of each run by ``app.py`` so a
link reopens the same scenario on any page. Widgets are initialised from the
configuration and write back into it; values read from the URL are checked
against the catalog and the request limits first, and what is ignored is
listed as a notice.
"""

from __future__ import annotations

import math
import os
import re
import runpy
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from catalog.catalog import Catalog, UnknownIdError, load_catalog, load_catalog_from
from catalog.schema import Gpu, ModelArch, Segment
from i18n import LANGUAGES, join_notices, language_from, translate, translate_notice
from sizing.architecture import MAX_PARAMS, MIN_PARAMS, ModelInputError, parse_hf_config_text
from sizing.estimate import Estimate, estimate, fit_for
from sizing.request import (MAX_BATCH, MAX_GPUS, MAX_TOKENS, EstimateRequest, RequestError,
                            parse_request, resolve_model)
from sizing.units import bytes_to_gib

ENGINE_ERRORS = (RequestError, UnknownIdError, ModelInputError, ValueError)
# Chinese glyphs need a CJK font in charts; browsers fall through the list.
CHART_FONT = "Source Sans Pro, Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
FALLBACK_GPU = "rtx-4090"
STATE_KEY = "_rigfit_cfg"
NOTICES_KEY = "_rigfit_notices"
UPLOAD_KEY = "_rigfit_upload"
SOURCE_BEFORE_UPLOAD_KEY = "_rigfit_source_before_upload"
# A catalog directory to serve instead of the packaged one (tests, staging).
CATALOG_DIR_ENV = "RIGFIT_CATALOG_DIR"
PAGE_KEY = "_rigfit_page"
MAX_BUDGET_USD = 10_000_000
MAX_USERS = 100_000
MAX_COMPARE = 12
SOURCES = ("catalog", "size", "upload")
CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")
DEFAULT_COMPARE = ("rtx-3090", "rtx-4090", "rtx-5090", "rtx-a6000", "l40s", "apple-m4-max-40c")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._\-,]{1,200}$")


@st.cache_resource(show_spinner=False)
def _catalog_at(directory: str) -> Catalog:
    return load_catalog_from(Path(directory)) if directory else load_catalog()


def catalog() -> Catalog:
    """The catalog, loaded once per server process and directory.

    ``$RIGFIT_CATALOG_DIR`` names another catalog directory; unset, the
    packaged one. A broken catalog raises :class:`catalog.loader.CatalogError`
    (not cached, so a fixed file is read on the next run).
    """
    return _catalog_at(os.environ.get(CATALOG_DIR_ENV, ""))


# --- language -------------------------------------------------------------------


def lang() -> str:
    return state().get("lang", "en")


def t(key: str, **values: object) -> str:
    """The current language's string ``key``."""
    return translate(key, lang(), **values)


def engine_text(notice: Any) -> str:
    """An engine sentence (Notice / NoticeOut) in the current language.

    Chinese uses ``engine.<code>`` from the locale, English (and any code
    without an entry) the engine's own text. Not escaped: pass it to plain().
    """
    return translate_notice(notice, lang())


def engine_paragraph(notices: Any, fallback: str = "") -> str:
    """Several engine sentences joined; ``fallback`` (English) when there are none."""
    items = list(notices or [])
    return join_notices(items, lang()) if items else fallback


def labeller(prefix: str) -> Callable[[str], str]:
    """A format_func showing ``prefix + option`` in the current language.

    The language is bound now: Streamlit may call a format_func outside the
    script run, where the session (and so the language) is not visible.
    """
    language = lang()
    return lambda option: translate(f"{prefix}{option}", language)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~<>$])")


def plain(text: str) -> str:
    """Escape Markdown so engine messages and URL values render as text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# --- configuration (the URL state) ------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One URL parameter: how to read it and its default."""

    kind: str  # "choice", "int", "float", "list"
    low: float = 0
    high: float = 0
    choices: Callable[[Catalog], list[str]] | None = None


PARAMS: dict[str, Param] = {
    "lang": Param("choice", choices=lambda c: list(LANGUAGES)),
    "source": Param("choice", choices=lambda c: list(SOURCES)),
    "model": Param("choice", choices=lambda c: [m.id for m in c.models]),
    "params_b": Param("float", MIN_PARAMS / 1e9, MAX_PARAMS / 1e9),
    "quant": Param("choice", choices=lambda c: [q.id for q in c.quants]),
    "runtime": Param("choice", choices=lambda c: [r.id for r in c.runtimes]),
    "kv_cache": Param("choice", choices=lambda c: [k.id for k in c.kv_cache_types]),
    "prompt_tokens": Param("int", 0, MAX_TOKENS),
    "new_tokens": Param("int", 0, MAX_TOKENS),
    "context_tokens": Param("int", 1, MAX_TOKENS),
    "batch": Param("int", 1, MAX_BATCH),
    "gpu": Param("choice", choices=lambda c: [g.id for g in c.gpus]),
    "gpu_count": Param("int", 1, MAX_GPUS),
    "budget_usd": Param("float", 0, MAX_BUDGET_USD),
    "sort": Param("choice", choices=lambda c: ["headroom", "price", "memory"]),
    "compare": Param("list", choices=lambda c: [g.id for g in c.gpus]),
    "users": Param("int", 1, MAX_USERS),
    "hours_per_day": Param("float", 0, 24),
    "currency": Param("choice", choices=lambda c: list(CURRENCIES)),
}

DEFAULTS: dict[str, Any] = {
    "source": "catalog", "model": "llama-3.1-8b", "params_b": 14.0, "quant": "q4_k_m",
    "runtime": "llama.cpp", "kv_cache": "f16", "prompt_tokens": 512, "new_tokens": 512,
    "context_tokens": 8192, "batch": 1, "gpu": FALLBACK_GPU, "gpu_count": 1,
    "budget_usd": 2000.0, "sort": "headroom", "compare": list(DEFAULT_COMPARE), "users": 5,
    "hours_per_day": 8.0, "currency": "USD",
}
IGNORED_URL_KEYS = {"embed", "embed_options"}


def safe_echo(value: str) -> str:
    """A URL value shortened and stripped to harmless characters for a notice."""
    return re.sub(r"[^A-Za-z0-9._\-]", "?", value)[:40]


def read_param(name: str, raw: str, cat: Catalog) -> tuple[Any, str | None]:
    """Parse one URL value: (value, None) or (None, reason key)."""
    spec = PARAMS[name]
    if not _SAFE_VALUE.match(raw):
        return None, "notice.reason_chars"
    if spec.kind == "choice":
        return (raw, None) if raw in spec.choices(cat) else (None, "notice.reason_unknown")
    if spec.kind == "list":
        items = [v for v in raw.split(",") if v]
        valid = set(spec.choices(cat))
        if not items or len(items) > MAX_COMPARE or any(v not in valid for v in items):
            return None, "notice.reason_unknown"
        return list(dict.fromkeys(items)), None
    try:
        number = float(raw)
    except ValueError:
        return None, "notice.reason_number"
    if not math.isfinite(number) or not spec.low <= number <= spec.high:
        return None, "notice.reason_range"
    if spec.kind == "int":
        if number != int(number):
            return None, "notice.reason_number"
        return int(number), None
    return number, None


def config_from_query(query: dict[str, str], cat: Catalog, *, locale: str | None,
                      default_gpu: str) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The configuration a URL describes, and the (name, value, reason) it ignored."""
    cfg = dict(DEFAULTS, gpu=default_gpu)
    cfg["compare"] = list(dict.fromkeys([default_gpu, *DEFAULT_COMPARE]))[:MAX_COMPARE]
    notices: list[tuple[str, str, str]] = []
    for name, raw in query.items():
        if name in IGNORED_URL_KEYS:
            continue
        if name not in PARAMS:
            notices.append((safe_echo(name), "", "notice.reason_param"))
            continue
        value, reason = read_param(name, raw, cat)
        if reason:
            notices.append((name, safe_echo(raw), reason))
        else:
            cfg[name] = value
    if "params_b" in query and "model" not in query and "source" not in query and "params_b" in cfg:
        cfg["source"] = "size"
    cfg["lang"] = language_from(cfg.get("lang"), locale)
    return cfg, notices


def state() -> dict[str, Any]:
    """This session's configuration, read from the URL on the first run."""
    if STATE_KEY not in st.session_state:
        query = {k: st.query_params.get(k, "") for k in st.query_params.keys()}
        locale = getattr(st.context, "locale", None)
        cfg, notices = config_from_query(query, catalog(), locale=locale,
                                         default_gpu=detected_gpu_id() or FALLBACK_GPU)
        st.session_state[STATE_KEY] = cfg
        st.session_state[NOTICES_KEY] = notices
    return st.session_state[STATE_KEY]


def query_for(cfg: dict[str, Any]) -> dict[str, str]:
    """The URL parameters that reproduce ``cfg``."""
    out: dict[str, str] = {}
    for name in PARAMS:
        if name not in cfg:
            continue
        value = cfg[name]
        if isinstance(value, list):
            out[name] = ",".join(value)
        elif isinstance(value, float):
            out[name] = f"{value:g}"
        else:
            out[name] = str(value)
    return out


def sync_url() -> None:
    """Write the configuration into the address bar (the entry file calls this)."""
    wanted = query_for(state())
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def show_notices() -> None:
    for name, value, reason in st.session_state.get(NOTICES_KEY, []):
        st.warning(plain(t("notice.ignored", name=name, value=value, reason=t(reason))),
                   icon=":material/warning:")


# Set by app.py while it runs the chosen page. Streamlit also discovers the
# pages/ folder by itself: on a fresh server, a shared link such as /builds runs
# the page file directly, without the frame (navigation, language, URL sync).
# A page that finds no frame runs app.py instead, which routes to it.
_FRAME = threading.local()
APP_PATH = Path(__file__).resolve().parents[1] / "app.py"


def frame_active() -> bool:
    return getattr(_FRAME, "active", False)


def run_in_frame(page: Any) -> None:
    """Run a navigation page inside the app frame (called by app.py)."""
    _FRAME.active = True
    try:
        page.run()
    finally:
        _FRAME.active = False


def begin_page(name: str) -> None:
    """Mark which page is running (widget keys are per page).

    Outside the frame (a deep link on a fresh server) the frame runs first and
    routes back to this page; this direct run then stops.
    """
    if not frame_active():
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()
    st.session_state[PAGE_KEY] = name


def widget_key(name: str) -> str:
    """Widget key for ``name`` on the current page.

    Keys differ per page because Streamlit drops a widget's value when the
    page that rendered it changes; the configuration carries it across.
    """
    return f"w_{st.session_state.get(PAGE_KEY, '')}_{name}"


def bind(name: str) -> str:
    """Widget key for configuration entry ``name``, initialised from it."""
    key = widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = state()[name]
    return key


def store(name: str, value: Any) -> Any:
    state()[name] = value
    return value


# --- local GPU detection -----------------------------------------------------------

_DROP_TOKENS = {"nvidia", "geforce", "graphics", "amd", "gpu", "gb", "generation"}


def _tokens(name: str) -> tuple[str, ...]:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return tuple(w for w in words if w not in _DROP_TOKENS and not re.fullmatch(r"\d+gb", w))


def parse_nvidia_smi_csv(text: str) -> list[tuple[str, float]]:
    """(name, memory MiB) per GPU from ``nvidia-smi --query-gpu=name,memory.total --format=csv``."""
    gpus = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.lower().startswith("name"):
            continue
        name, _, memory = line.rpartition(",")
        if not name:
            name, memory = line, ""
        match = re.search(r"([\d.]+)", memory)
        gpus.append((name.strip()[:100], float(match.group(1)) if match else 0.0))
    return gpus[:MAX_GPUS]


def match_gpu_id(name: str, memory_mib: float, gpus: tuple[Gpu, ...]) -> str | None:
    """The catalog GPU whose name matches ``name`` best; memory breaks ties."""
    want = set(_tokens(name))
    if not want:
        return None
    best: tuple[float, ...] | None = None
    best_id = None
    for gpu in gpus:
        have = set(_tokens(gpu.name))
        if not have or not (have <= want or want <= have):
            continue
        memory_gap = abs(gpu.memory_gib * 1024 - memory_mib) if memory_mib else 0.0
        score = (len(have & want), -len(have ^ want), -memory_gap)
        if best is None or score > best:
            best, best_id = score, gpu.id
    return best_id


@st.cache_resource(ttl=600)
def _nvidia_smi_output() -> str:
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv"],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def detected_gpus() -> list[tuple[str, float, str | None]]:
    """Local GPUs as (name, MiB, catalog id or None)."""
    gpus = catalog().gpus
    return [(n, m, match_gpu_id(n, m, gpus)) for n, m in parse_nvidia_smi_csv(_nvidia_smi_output())]


def detected_gpu_id() -> str | None:
    found = [gid for _, _, gid in detected_gpus() if gid]
    return found[0] if found else None


# --- the scenario inputs -----------------------------------------------------------------


def _apply_pasted_smi() -> None:
    text = st.session_state.get("w_smi_paste", "")
    rows = parse_nvidia_smi_csv(text)
    ids = [match_gpu_id(n, m, catalog().gpus) for n, m in rows]
    found = [i for i in ids if i]
    st.session_state["_smi_result"] = (len(rows), found[0] if found else None)
    if found:
        state()["gpu"] = found[0]
        state()["gpu_count"] = max(1, found.count(found[0]))
        st.session_state[widget_key("gpu")] = found[0]
        st.session_state[widget_key("gpu_count")] = state()["gpu_count"]


def _model_label(cat: Catalog) -> Callable[[str], str]:
    names = {m.id: m.name for m in cat.models}
    return lambda mid: f"{names.get(mid, mid)} ({mid})"


def _gpu_label(cat: Catalog) -> Callable[[str], str]:
    names = {g.id: g.name for g in cat.gpus}
    return lambda gid: names.get(gid, gid)


def scenario_inputs() -> tuple[EstimateRequest | None, ModelArch | None]:
    """Sidebar widgets for one scenario; the request (None on error) and an uploaded arch."""
    cat = catalog()
    sb = st.sidebar
    sb.subheader(t("inputs.model_header"))
    source = store("source", sb.radio(t("inputs.source"), SOURCES, key=bind("source"),
                                      format_func=labeller("inputs.source_"),
                                      horizontal=True))
    arch = None
    data: dict[str, Any] = {}
    if source == "catalog":
        data["model"] = store("model", sb.selectbox(
            t("inputs.model"), [m.id for m in cat.models], key=bind("model"),
            format_func=_model_label(cat), help=t("inputs.model_help")))
    elif source == "size":
        data["params_b"] = store("params_b", float(sb.number_input(
            t("inputs.params_b"), min_value=MIN_PARAMS / 1e9, max_value=MAX_PARAMS / 1e9,
            step=1.0, format="%g", key=bind("params_b"), help=t("inputs.params_b_help"))))
    else:
        upload = sb.file_uploader(t("inputs.upload"), type=["json"], key="w_upload",
                                  help=t("inputs.upload_help"))
        if upload is not None:
            parsed, message = read_config_upload(upload.getvalue(), file_name=upload.name)
            if parsed is None:
                sb.error(plain(t("inputs.upload_rejected", message=message)),
                         icon=":material/error:")
            else:
                st.session_state[UPLOAD_KEY] = parsed
        arch = st.session_state.get(UPLOAD_KEY)
        sb.caption(t("inputs.upload_not_in_link"))
        if arch is not None:
            data["hf_config"] = "config.json"
        else:
            # Nothing usable read yet: keep estimating the model the user had before.
            before = st.session_state.get(SOURCE_BEFORE_UPLOAD_KEY, "catalog")
            if before == "size":
                data["params_b"] = state()["params_b"]
                shown = f"{state()['params_b']:g}B"
            else:
                data["model"] = state()["model"]
                shown = _model_label(cat)(state()["model"])
            st.info(plain(t("inputs.upload_first", model=shown)), icon=":material/upload_file:")
    if source != "upload":
        st.session_state[SOURCE_BEFORE_UPLOAD_KEY] = source
    data["quant"] = store("quant", sb.selectbox(t("inputs.quant"), [q.id for q in cat.quants],
                                                key=bind("quant"), help=t("inputs.quant_help")))
    data["runtime"] = store("runtime", sb.selectbox(
        t("inputs.runtime"), [r.id for r in cat.runtimes], key=bind("runtime"),
        format_func=lambda rid: cat.runtime(rid).name))
    data["kv_cache"] = store("kv_cache", sb.selectbox(
        t("inputs.kv_cache"), [k.id for k in cat.kv_cache_types], key=bind("kv_cache"),
        format_func=lambda kid: cat.kv_cache_type(kid).name))
    sb.subheader(t("inputs.tokens_header"))
    left, right = sb.columns(2)
    data["prompt_tokens"] = store("prompt_tokens", int(left.number_input(
        t("inputs.prompt_tokens"), min_value=0, max_value=MAX_TOKENS, step=256,
        key=bind("prompt_tokens"))))
    data["new_tokens"] = store("new_tokens", int(right.number_input(
        t("inputs.new_tokens"), min_value=0, max_value=MAX_TOKENS, step=256,
        key=bind("new_tokens"))))
    data["context_tokens"] = store("context_tokens", int(left.number_input(
        t("inputs.context_tokens"), min_value=1, max_value=MAX_TOKENS, step=1024,
        key=bind("context_tokens"), help=t("inputs.context_help"))))
    data["batch"] = store("batch", int(right.number_input(
        t("inputs.batch"), min_value=1, max_value=MAX_BATCH, step=1, key=bind("batch"),
        help=t("inputs.batch_help"))))
    sb.subheader(t("inputs.gpu_header"))
    for name, mib, gid in detected_gpus():
        sb.caption(plain(t("inputs.detected", name=name, gib=f"{mib / 1024:.0f}",
                           id=gid or t("inputs.no_match"))))
    with sb.expander(t("inputs.paste_smi")):
        st.text_area(t("inputs.paste_smi_label"), key="w_smi_paste", on_change=_apply_pasted_smi,
                     placeholder="name, memory.total [MiB]\nNVIDIA GeForce RTX 4090, 24564 MiB",
                     max_chars=4000)
        pasted = st.session_state.get("_smi_result")
        if pasted is not None:
            rows, gid = pasted
            if gid:
                st.success(plain(t("inputs.paste_matched", id=gid)))
            else:
                st.warning(t("inputs.paste_unmatched", rows=rows))
    data["gpu"] = store("gpu", sb.selectbox(t("inputs.gpu"), [g.id for g in cat.gpus],
                                            key=bind("gpu"), format_func=_gpu_label(cat)))
    data["gpu_count"] = store("gpu_count", int(sb.number_input(
        t("inputs.gpu_count"), min_value=1, max_value=MAX_GPUS, step=1, key=bind("gpu_count"))))
    try:
        request = parse_request(data)
    except RequestError as exc:
        st.error(plain(t("error.engine", message=str(exc))))
        return None, arch
    return request, arch


def read_config_upload(data: bytes, *, file_name: str = "config.json") -> tuple[ModelArch | None, str]:
    """An uploaded config.json as an architecture, or None and why not.

    Pure (no Streamlit): the sidebar calls it with the uploaded bytes. The
    message is the engine's one line (English) on failure, empty on success.
    """
    stem = str(file_name).rsplit("/", 1)[-1].removesuffix(".json")
    name = " ".join(stem.split())[:60]
    if len(name) < 2 or name.lower() == "config":
        name = ""  # the config's own _name_or_path says more than "config"
    try:
        return parse_hf_config_text(bytes(data), name=name or None), ""
    except ModelInputError as exc:
        return None, str(exc)


# --- engine calls -----------------------------------------------------------------------


def _arch_for(request: EstimateRequest, arch: ModelArch | None) -> ModelArch:
    return arch if arch is not None else resolve_model(request, catalog())[0]


@st.cache_data(max_entries=256, show_spinner=False)
def _estimate_cached(request_json: str, arch_json: str | None) -> Estimate:
    request = EstimateRequest.model_validate_json(request_json)
    arch = ModelArch.model_validate_json(arch_json) if arch_json else None
    return estimate(request, catalog(), arch=arch)


def run_estimate(request: EstimateRequest, arch: ModelArch | None) -> Estimate:
    return _estimate_cached(request.model_dump_json(), arch.model_dump_json() if arch else None)


@dataclass(frozen=True)
class FitSummary:
    max_context_tokens: int
    best_quant: str | None


@st.cache_data(max_entries=256, show_spinner=False)
def _fit_cached(request_json: str, arch_json: str | None) -> FitSummary:
    request = EstimateRequest.model_validate_json(request_json)
    arch = _arch_for(request, ModelArch.model_validate_json(arch_json) if arch_json else None)
    fit = fit_for(request, catalog(), arch)
    return FitSummary(fit.max_context_tokens, fit.best_quant)


def run_fit(request: EstimateRequest, arch: ModelArch | None) -> FitSummary:
    return _fit_cached(request.model_dump_json(), arch.model_dump_json() if arch else None)


@st.cache_data(max_entries=64, show_spinner=False)
def _every_gpu_cached(request_json: str, arch_json: str | None) -> list[Estimate]:
    cat = catalog()
    request = EstimateRequest.model_validate_json(request_json)
    arch = _arch_for(request, ModelArch.model_validate_json(arch_json) if arch_json else None)
    results = []
    for gpu in cat.gpus:
        try:
            results.append(estimate(request.model_copy(update={"gpu": gpu.id}), cat, arch=arch))
        except ENGINE_ERRORS:
            continue  # this runtime cannot run on that vendor: not a candidate
    return results


def run_every_gpu(request: EstimateRequest, arch: ModelArch | None,
                  gpu_ids: list[str] | None = None) -> list[Estimate]:
    """The scenario on every catalog GPU the runtime supports (or on ``gpu_ids``)."""
    results = _every_gpu_cached(request.model_dump_json(), arch.model_dump_json() if arch else None)
    if gpu_ids is None:
        return results
    order = {gid: i for i, gid in enumerate(gpu_ids)}
    return sorted((r for r in results if r.gpu_id in order), key=lambda r: order[r.gpu_id])


# --- formatting ------------------------------------------------------------------------------


def gib(n_bytes: float) -> str:
    return f"{bytes_to_gib(n_bytes):,.1f} GiB"


def price_usd(gpu: Gpu) -> float | None:
    """The street price if known, else the launch price. [USD]"""
    if gpu.street_price is not None:
        return gpu.street_price.usd
    return gpu.launch_price_usd


def group_of(gpu: Gpu) -> str:
    if gpu.segment is Segment.CONSUMER:
        return t("group.consumer")
    if gpu.segment is Segment.UNIFIED:
        return t("group.apple")
    return t("group.professional")


def section(result: Estimate, name: str) -> Any:
    """An optional result section (speed, power, thermal, load) or None."""
    return getattr(result, name, None)


def field(obj: Any, name: str) -> Any:
    return getattr(obj, name, None) if obj is not None else None


def fmt(value: Any, pattern: str = "{:,.1f}") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    return pattern.format(value)


def style(fig: go.Figure, *, height: int = 360) -> go.Figure:
    fig.update_layout(font={"family": CHART_FONT}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def memory_figure(result: Estimate) -> go.Figure:
    """Stacked bar of the memory parts against the usable capacity."""
    mem = result.memory
    parts = [("chart.weights", mem.weights_bytes, "#4C78A8"),
             ("chart.kv_cache", mem.kv_cache_bytes, "#F58518"),
             ("chart.activations", mem.activations_bytes, "#54A24B"),
             ("chart.overhead", mem.overhead_bytes, "#B279A2")]
    fig = go.Figure()
    for key, value, colour in parts:
        fig.add_bar(y=[t("chart.needed")], x=[bytes_to_gib(value)], name=t(key), orientation="h",
                    marker_color=colour, hovertemplate="%{x:.2f} GiB")
    usable = bytes_to_gib(mem.usable_bytes)
    fig.add_vline(x=usable, line_dash="dash", line_color="#E45756",
                  annotation_text=t("chart.usable", gib=f"{usable:.1f}"),
                  annotation_position="top")
    fig.update_layout(barmode="stack", title=t("chart.memory_title"),
                      xaxis_title=t("chart.gib_axis"))
    return style(fig, height=260)


@st.cache_data(max_entries=64, show_spinner=False)
def _plan_cached(request_json: str, arch_json: str | None, budget_usd: float, users: int,
                 hours_per_day: float, currency: str) -> Any:
    from sizing.plan import plan  # the purchase advisor; imported where it is used

    request = EstimateRequest.model_validate_json(request_json)
    arch = ModelArch.model_validate_json(arch_json) if arch_json else None
    return plan(request, catalog(), budget_usd=budget_usd, users=users,
                hours_per_day=hours_per_day, currency=currency, arch=arch)


def plan_inputs() -> dict[str, Any]:
    """Budget, users, hours per day and currency widgets, as ``run_plan`` keywords."""
    cols = st.columns(4)
    budget = store("budget_usd", float(cols[0].number_input(
        t("inputs.budget_usd"), min_value=0.0, max_value=float(MAX_BUDGET_USD), step=100.0,
        key=bind("budget_usd"))))
    users = store("users", int(cols[1].number_input(
        t("inputs.users"), min_value=1, max_value=MAX_USERS, step=1, key=bind("users"))))
    hours = store("hours_per_day", float(cols[2].number_input(
        t("inputs.hours_per_day"), min_value=0.0, max_value=24.0, step=1.0,
        key=bind("hours_per_day"))))
    currency = store("currency", cols[3].selectbox(t("inputs.currency"), CURRENCIES,
                                                   key=bind("currency")))
    return {"budget_usd": budget, "users": users, "hours_per_day": hours, "currency": currency}


def run_plan(request: EstimateRequest, arch: ModelArch | None, *, budget_usd: float, users: int,
             hours_per_day: float, currency: str) -> Any:
    """The purchase advisor's plan (sizing.plan.PlanResult), shared by Builds and Cloud.

    Raises sizing.plan.PlanError (a ValueError) when no plan can be made.
    """
    return _plan_cached(request.model_dump_json(), arch.model_dump_json() if arch else None,
                        float(budget_usd), int(users), float(hours_per_day), currency)
