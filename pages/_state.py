"""The configuration: every input in one session dict, mirrored into the URL.

Every input lives in one dict in ``st.session_state`` (the *configuration*),
mirrored into ``st.query_params`` at the end of each run by ``app.py`` so a
link reopens the same scenario on any page. Widgets are initialised from the
configuration (:func:`bind`) and write back into it (:func:`store`); values
read from the URL are checked against the catalog and the engine's limits
first, and what is ignored is kept as a notice for the frame to show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from advisor import workload
from advisor.plan import MAX_BUDGET_USD, MAX_HOURS_PER_DAY, MAX_MIN_TOKENS_PER_S, MAX_USERS
from advisor.prices import MAX_ELECTRICITY_USD_PER_KWH
from catalog.catalog import Catalog
from pages._detect import detected_gpu_id
from pages._engine import catalog
from report.text import DEFAULT_LANGUAGE, LANGUAGES, language_from
from sizing.architecture import MAX_PARAMS, MIN_PARAMS
from sizing.bench import BenchCalibration, BenchError
from sizing.request import (DEFAULT_IMAGE_HEIGHT_PX, DEFAULT_IMAGE_WIDTH_PX, FLASH_ATTENTION,
                            MAX_BATCH, MAX_GPUS, MAX_TOKENS)
from sizing.vision import MAX_IMAGE_SIDE_PX, MAX_IMAGES
from sizing.workloads import PRESETS
from sizing.system import MAX_CIRCUIT_AMPS, MAX_CIRCUIT_VOLTS, MIN_CIRCUIT_AMPS, MIN_CIRCUIT_VOLTS

STATE_KEY = "_rigfit_cfg"
NOTICES_KEY = "_rigfit_notices"
PAGE_KEY = "_rigfit_page"
FALLBACK_GPU = "rtx-4090"
MAX_MEMORY_GIB = 4096.0  # above any machine's memory; the GPU's own sizes are checked later
MAX_COMPARE = 12
# "hf": a Hugging Face id; "file": a GGUF or safetensors file on the machine the app runs on.
SOURCES = ("catalog", "size", "upload", "hf", "file")
# "custom": the token fields as the user sets them; the others fill them (sizing.workloads).
WORKLOADS = ("custom", *PRESETS)
SORTS = ("headroom", "price", "memory")
# Builds and Cloud: search the runtimes and weight formats, or use the sidebar's.
PLAN_SEARCH = ("all", "sidebar")
DEFAULT_COMPARE = ("rtx-3090", "rtx-4090", "rtx-5090", "rtx-a6000", "l40s", "apple-m4-max-40c")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._\-,]{1,200}$")
# A Hub repository (ORG/NAME), revision (refs/pr/1) or file in a folder: slashes too.
_REPO_VALUE = re.compile(r"^[A-Za-z0-9._\-/+]{1,200}$")


@dataclass(frozen=True)
class Param:
    """One URL parameter: how to read it and its default."""

    kind: str  # "choice", "int", "float", "list", "bench", "repo"
    low: float = 0
    high: float = 0
    choices: Callable[[Catalog], list[str]] | None = None


PARAMS: dict[str, Param] = {
    "lang": Param("choice", choices=lambda c: list(LANGUAGES)),
    "source": Param("choice", choices=lambda c: list(SOURCES)),
    "model": Param("choice", choices=lambda c: [m.id for m in c.models]),
    "params_b": Param("float", MIN_PARAMS / 1e9, MAX_PARAMS / 1e9),
    "hf_id": Param("repo"),  # ORG/NAME on the Hugging Face Hub
    "revision": Param("repo"),
    "hf_file": Param("repo"),
    "workload": Param("choice", choices=lambda c: list(WORKLOADS)),
    "images": Param("int", 0, MAX_IMAGES),
    "image_width": Param("int", 1, MAX_IMAGE_SIDE_PX),
    "image_height": Param("int", 1, MAX_IMAGE_SIDE_PX),
    "quant": Param("choice", choices=lambda c: [q.id for q in c.quants]),
    "runtime": Param("choice", choices=lambda c: [r.id for r in c.runtimes]),
    "kv_cache": Param("choice", choices=lambda c: [k.id for k in c.kv_cache_types]),
    "flash_attention": Param("choice", choices=lambda c: list(FLASH_ATTENTION)),
    "prompt_tokens": Param("int", 0, MAX_TOKENS),
    "new_tokens": Param("int", 0, MAX_TOKENS),
    "context_tokens": Param("int", 1, MAX_TOKENS),
    "batch": Param("int", 1, MAX_BATCH),
    "gpu": Param("choice", choices=lambda c: [g.id for g in c.gpus]),
    "gpu_count": Param("int", 1, MAX_GPUS),
    # One of the sizes the chosen machine is sold in (checked where the GPU is known).
    "memory_gib": Param("float", 1, MAX_MEMORY_GIB),
    "budget_usd": Param("float", 0, MAX_BUDGET_USD),
    "sort": Param("choice", choices=lambda c: list(SORTS)),
    "compare": Param("list", choices=lambda c: [g.id for g in c.gpus]),
    "users": Param("int", 1, MAX_USERS),
    "hours_per_day": Param("float", 0, MAX_HOURS_PER_DAY),
    "search": Param("choice", choices=lambda c: list(PLAN_SEARCH)),
    "min_tokens_per_s": Param("float", 0, MAX_MIN_TOKENS_PER_S),
    "electricity_usd_per_kwh": Param("float", 0, MAX_ELECTRICITY_USD_PER_KWH),
    "circuit_volts": Param("float", MIN_CIRCUIT_VOLTS, MAX_CIRCUIT_VOLTS),
    "circuit_amps": Param("float", MIN_CIRCUIT_AMPS, MAX_CIRCUIT_AMPS),
    "currency": Param("choice", choices=lambda c: [x.code for x in c.market.currencies]),
    "bench": Param("bench"),  # the user's own benchmark factors, d1.12,p1.35,gpu-id
}

DEFAULTS: dict[str, Any] = {
    "source": "catalog", "model": "llama-3.1-8b", "params_b": 14.0, "quant": "q4_k_m",
    "hf_id": "", "revision": "", "hf_file": "",  # "": none (and out of the link)
    # Images apply to a vision-language model only; the phone-agent preset sends one.
    "workload": "custom", "images": 0, "image_width": DEFAULT_IMAGE_WIDTH_PX,
    "image_height": DEFAULT_IMAGE_HEIGHT_PX,
    "runtime": "llama.cpp", "kv_cache": "f16", "flash_attention": "auto",
    "prompt_tokens": workload.DEFAULT_PROMPT_TOKENS,
    "new_tokens": workload.DEFAULT_NEW_TOKENS, "context_tokens": workload.DEFAULT_CONTEXT_TOKENS,
    "batch": 1, "gpu": FALLBACK_GPU, "gpu_count": 1,
    "memory_gib": "",  # "": the machine's catalog size (and out of the link)
    "budget_usd": 2000.0, "sort": "headroom", "compare": list(DEFAULT_COMPARE),
    "users": workload.DEFAULT_USERS,
    "hours_per_day": workload.DEFAULT_HOURS_PER_DAY, "currency": "USD", "bench": "",
    "search": "all", "min_tokens_per_s": workload.DEFAULT_MIN_TOKENS_PER_S,
    "electricity_usd_per_kwh": "",  # "": the catalog's average price (and out of the link)
    "circuit_volts": workload.DEFAULT_CIRCUIT_VOLTS, "circuit_amps": workload.DEFAULT_CIRCUIT_AMPS,
}
IGNORED_URL_KEYS = {"embed", "embed_options"}


def safe_echo(value: str) -> str:
    """A URL value shortened and stripped to harmless characters for a notice."""
    return re.sub(r"[^A-Za-z0-9._\-]", "?", value)[:40]


def read_param(name: str, raw: str, cat: Catalog) -> tuple[Any, str | None]:
    """Parse one URL value: (value, None) or (None, reason key)."""
    spec = PARAMS[name]
    if not (_REPO_VALUE if spec.kind == "repo" else _SAFE_VALUE).match(raw):
        return None, "notice.reason_chars"
    if spec.kind == "repo":
        return raw, None
    if spec.kind == "choice":
        return (raw, None) if raw in spec.choices(cat) else (None, "notice.reason_unknown")
    if spec.kind == "bench":
        try:
            return BenchCalibration.from_query(raw).to_query(), None
        except BenchError:
            return None, "notice.reason_bench"
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
    if cfg["hf_id"] and "source" not in query:
        cfg["source"] = "hf"
    preset = PRESETS.get(cfg["workload"])
    if preset is not None:  # a link naming a use: its lengths, unless the link gives them
        filled = {"prompt_tokens": preset.prompt_tokens, "new_tokens": preset.new_tokens,
                  "context_tokens": preset.context_tokens, "images": preset.images}
        if preset.images:
            filled |= {"image_width": preset.image_width_px, "image_height": preset.image_height_px}
        cfg.update({name: value for name, value in filled.items() if name not in query})
    cfg["lang"] = language_from(cfg.get("lang"), locale)
    return cfg, notices


def state() -> dict[str, Any]:
    """This session's configuration, read from the URL on the first run."""
    if STATE_KEY not in st.session_state:
        query = {k: st.query_params.get(k, "") for k in st.query_params.keys()}
        locale = st.context.locale
        cfg, notices = config_from_query(query, catalog(), locale=locale,
                                         default_gpu=detected_gpu_id() or FALLBACK_GPU)
        st.session_state[STATE_KEY] = cfg
        st.session_state[NOTICES_KEY] = notices
    return st.session_state[STATE_KEY]


def ignored_params() -> list[tuple[str, str, str]]:
    """The (name, value, reason key) of each URL parameter the first run ignored."""
    return st.session_state.get(NOTICES_KEY, [])


def lang() -> str:
    """The language this session shows."""
    return state().get("lang", DEFAULT_LANGUAGE)


def query_for(cfg: dict[str, Any]) -> dict[str, str]:
    """The URL parameters that reproduce ``cfg``."""
    out: dict[str, str] = {}
    for name in PARAMS:
        if name not in cfg:
            continue
        value = cfg[name]
        if value == "":  # an empty entry (no benchmark) stays out of the link
            continue
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
    """Write a widget's value into the configuration and return it."""
    state()[name] = value
    return value
