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
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from advisor import workload
from advisor.plan import BUDGET_USD, HOURS_PER_DAY, MAX_BUDGET_USD, MIN_TOKENS_PER_S, USERS
from advisor.own_prices import parse_own_prices
from advisor.prices import MAX_ELECTRICITY_USD_PER_KWH
from advisor.region import RegionTerms, parse_circuit, region_terms
from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from pages._detect import MAX_MEMORY_GIB, detected_gpu_id
from pages._engine import catalog
from report.text import DEFAULT_LANGUAGE, LANGUAGES, language_from
from sizing.architecture import MAX_PARAMS, MIN_PARAMS
from sizing.bench import BenchCalibration, BenchError
from sizing.capacity import DEFAULT_THINK_TIME_S, ServeSettings
from sizing.fits import USES, FitsRequest
from sizing.limits import Limit, field_limit
from sizing.finetune_request import CHOICES as FINETUNE_CHOICES
from sizing.finetune_request import MAX_DATASET_TOKENS, FinetuneRequest
from sizing.request import (DEFAULT_IMAGE_HEIGHT_PX, DEFAULT_IMAGE_WIDTH_PX, FLASH_ATTENTION,
                            EstimateRequest)
from sizing.workloads import PRESETS
from sizing.system import MAX_CIRCUIT_AMPS, MAX_CIRCUIT_VOLTS, MIN_CIRCUIT_AMPS, MIN_CIRCUIT_VOLTS

# The Fine-tune page's link parameters: the request's own field names.
FINETUNE_CHOICE_FIELDS = ("method", "optimizer", "lora_targets", "gradient_checkpointing", "sharding")
FINETUNE_NUMBER_FIELDS = ("lora_rank", "seq_len", "micro_batch", "grad_accum", "epochs")
FINETUNE_MORE_FIELDS = ("loss", "precision", "offload")  # under "More settings"
STATE_KEY = "_rigfit_cfg"
# The app's own bookkeeping (what the link ignored, the page running, what was read or
# pasted): one session entry, a dict, as Streamlit reads every entry on each widget call.
MEMO_KEY = "_rigfit_memo"
_RUN = threading.local()  # the script run's (context, configuration, memo): see state()
NOTICES = "notices"  # memo entries
PAGE = "page"
FALLBACK_GPU = "rtx-4090"
MAX_COMPARE = 12
# "hf": a Hugging Face id; "file": a GGUF or safetensors file on the machine the app runs on.
SOURCES = ("catalog", "size", "upload", "hf", "file")
# "custom": the token fields as the user sets them; the others fill them (sizing.workloads).
WORKLOADS = ("custom", *PRESETS)
SWITCH = ("off", "on")  # a yes/no filter in the link
SORTS = ("price", "speed", "headroom", "memory")  # the fit table: cheapest first by default
# Builds and Cloud: search the runtimes and weight formats, or use the sidebar's.
PLAN_SEARCH = ("all", "sidebar")
DEFAULT_COMPARE = ("rtx-3090", "rtx-4090", "rtx-5090", "rtx-a6000", "l40s", "apple-m4-max-40c")
# The longest value a link parameter carries (a list of GPUs, a Hub id, own prices).
MAX_URL_VALUE_CHARS = 200
ECHO_URL_CHARS = 40  # what a notice repeats of a refused value
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._\-,]+$")
# A Hub repository (ORG/NAME), revision (refs/pr/1) or file in a folder: slashes too.
_REPO_VALUE = re.compile(r"^[A-Za-z0-9._\-/+]+$")


@dataclass(frozen=True)
class Param:
    """One URL parameter: how to read it and its default."""

    kind: str  # "choice", "int", "float", "list", "bench", "repo", "circuit", "prices"
    low: float = 0
    high: float = 0
    choices: Callable[[Catalog], list[str]] | None = None
    low_open: bool = False  # ``low`` itself refused (a budget must be above 0)

    @property
    def limit(self) -> Limit:
        """The range a number parameter takes."""
        return Limit(self.low, self.high, low_open=self.low_open, whole=self.kind == "int")


def _within(limit: Limit) -> Param:
    """A number parameter the engine bounds by ``limit`` (its one definition)."""
    return Param("int" if limit.whole else "float", limit.low, limit.high, low_open=limit.low_open)


def _field(name: str, *, high: float | None = None) -> Param:
    """A number parameter bounded as the request's own field ``name`` is."""
    return _within(field_limit(EstimateRequest, name, high=high))


PARAMS: dict[str, Param] = {
    "lang": Param("choice", choices=lambda c: list(LANGUAGES)),
    "source": Param("choice", choices=lambda c: list(SOURCES)),
    "model": Param("choice", choices=lambda c: [m.id for m in c.models]),
    "params_b": Param("float", MIN_PARAMS / 1e9, MAX_PARAMS / 1e9),
    "hf_id": Param("repo"),  # ORG/NAME on the Hugging Face Hub
    "revision": Param("repo"),
    "hf_file": Param("repo"),
    "workload": Param("choice", choices=lambda c: list(WORKLOADS)),
    "images": _field("images"),
    "image_width": _field("image_width"),
    "image_height": _field("image_height"),
    "quant": Param("choice", choices=lambda c: [q.id for q in c.quants]),
    "runtime": Param("choice", choices=lambda c: [r.id for r in c.runtimes]),
    "kv_cache": Param("choice", choices=lambda c: [k.id for k in c.kv_cache_types]),
    "flash_attention": Param("choice", choices=lambda c: list(FLASH_ATTENTION)),
    "prompt_tokens": _field("prompt_tokens"),
    "new_tokens": _field("new_tokens"),
    "context_tokens": _field("context_tokens"),
    "batch": _field("batch"),
    "gpu": Param("choice", choices=lambda c: [g.id for g in c.gpus]),
    "gpu_count": _field("gpu_count"),
    # One of the sizes the chosen machine is sold in (checked where the GPU is known).
    "memory_gib": _field("memory_gib", high=MAX_MEMORY_GIB),
    # Money in the chosen currency; budget_usd and electricity_usd_per_kwh (dollars) are
    # read from older links and turned into budget and kwh_price (advisor.region).
    "budget": Param("float", 0, math.inf),
    "budget_usd": _within(BUDGET_USD),
    "sort": Param("choice", choices=lambda c: list(SORTS)),
    "compare": Param("list", choices=lambda c: [g.id for g in c.gpus]),
    "users": _within(USERS),
    "hours_per_day": _within(HOURS_PER_DAY),
    "search": Param("choice", choices=lambda c: list(PLAN_SEARCH)),
    "min_tokens_per_s": _within(MIN_TOKENS_PER_S),
    "kwh_price": Param("float", 0, math.inf),
    "electricity_usd_per_kwh": Param("float", 0, MAX_ELECTRICITY_USD_PER_KWH),
    "circuit": Param("circuit"),  # VOLTSxAMPS, e.g. 230x16: both circuit fields at once
    "circuit_volts": Param("float", MIN_CIRCUIT_VOLTS, MAX_CIRCUIT_VOLTS),
    "circuit_amps": Param("float", MIN_CIRCUIT_AMPS, MAX_CIRCUIT_AMPS),
    "region": Param("choice", choices=lambda c: [r.id for r in c.market.regions]),
    "currency": Param("choice", choices=lambda c: [x.code for x in c.market.currencies]),
    "price": Param("prices"),  # own prices in the chosen currency: rtx-3090:700,ryzen-...:150
    "bench": Param("bench"),  # the user's own benchmark factors, d1.12,p1.35,gpu-id
    # What can I run: the machine's RAM, the use and the floors (sizing.fits).
    "ram_gib": _within(field_limit(FitsRequest, "ram_gib")),
    "use": Param("choice", choices=lambda c: list(USES)),
    "min_decode": _within(field_limit(FitsRequest, "min_decode_tokens_per_s")),
    "min_context": _within(field_limit(FitsRequest, "min_context_tokens")),
    "floors_only": Param("choice", choices=lambda c: list(SWITCH)),
    "all_quants": Param("choice", choices=lambda c: list(SWITCH)),
    # Serve: a team's traffic and service level (sizing.capacity.ServeSettings).
    **{name: _within(field_limit(ServeSettings, name))
       for name in ("think_time_s", "ttft_p95_s", "itl_p95_ms", "prefix_hit_frac",
                    "requests_per_minute")},
    # on: the model's MTP modules or a small draft of its family (sizing.speculative).
    "speculative": Param("choice", choices=lambda c: list(SWITCH)),
    # Fine-tune: the training setup (sizing.finetune_request.FinetuneRequest).
    **{name: Param("choice", choices=lambda c, n=name: list(FINETUNE_CHOICES[n]))
       for name in (*FINETUNE_CHOICE_FIELDS, *FINETUNE_MORE_FIELDS)},
    "dora": Param("choice", choices=lambda c: list(SWITCH)),
    "frozen_layers": _within(field_limit(FinetuneRequest, "frozen_layers")),  # full only
    **{name: _within(field_limit(FinetuneRequest, name)) for name in FINETUNE_NUMBER_FIELDS},
    "dataset_mtokens": _within(Limit(0, MAX_DATASET_TOKENS / 1e6, low_open=True)),
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
    "budget": "", "sort": "price", "compare": list(DEFAULT_COMPARE),
    "users": workload.DEFAULT_USERS,
    # "": the region's currency; the region follows the language unless chosen.
    "hours_per_day": workload.DEFAULT_HOURS_PER_DAY, "currency": "", "region": "", "bench": "",
    "search": "all", "min_tokens_per_s": workload.DEFAULT_MIN_TOKENS_PER_S,
    # "": the region's preset (and out of the link).
    "kwh_price": "", "circuit_volts": "", "circuit_amps": "", "price": "",
    "ram_gib": FitsRequest.model_fields["ram_gib"].default, "use": "chat", "min_decode": 0.0,
    "min_context": 0, "floors_only": "off", "all_quants": "off",
    # "": no service level (and out of the link): Serve shows the engine's default
    # targets, Builds and Cloud size by the per-user speed.
    "think_time_s": DEFAULT_THINK_TIME_S, "ttft_p95_s": "", "itl_p95_ms": "",
    "prefix_hit_frac": 0.0, "speculative": "off", "requests_per_minute": "",
    **{name: FinetuneRequest.model_fields[name].default
       for name in (*FINETUNE_CHOICE_FIELDS, *FINETUNE_MORE_FIELDS, *FINETUNE_NUMBER_FIELDS)},
    "dora": "off", "frozen_layers": 0,
    "dataset_mtokens": 10.0,  # a few thousand instruction examples
}
# The budget a first visit starts from, in the chosen currency at the catalog's rate. [USD]
DEFAULT_BUDGET_USD = 2000.0
_PRICES_VALUE = re.compile(r"^[a-z0-9._\-]+:[0-9.]+(,[a-z0-9._\-]+:[0-9.]+)*$")
IGNORED_URL_KEYS = {"embed", "embed_options"}


def safe_echo(value: str) -> str:
    """A URL value as a notice repeats it: cut, with invisible characters shown escaped.

    The page still shows it through ``pages._text.plain``, so it renders as text.
    """
    return echo(value, ECHO_URL_CHARS)


# Why a number is refused (sizing.limits.Limit.problem), as a notice's reason key.
_NUMBER_REASONS = {"number": "notice.reason_number", "whole": "notice.reason_whole",
                   "low": "notice.reason_low", "high": "notice.reason_high"}


def reason_values(name: str) -> dict[str, str]:
    """What a notice's reason names about parameter ``name``: its bounds and the longest value."""
    values = {"max": f"{MAX_URL_VALUE_CHARS}"}
    spec = PARAMS.get(name)
    if spec is not None and spec.kind in ("int", "float"):
        values |= {"low": f"{spec.low:,.10g}", "high": f"{spec.high:,.10g}"}
    return values


def read_param(name: str, raw: str, cat: Catalog) -> tuple[Any, str | None]:
    """Parse one URL value: (value, None) or (None, reason key).

    The reason names the real problem: empty, too long, characters no value
    has, not a known id, not a number, not a whole number, below or above the
    engine's own bound (:func:`reason_values` gives the figures it quotes).
    """
    spec = PARAMS[name]
    if not raw:
        return None, "notice.reason_empty"
    if len(raw) > MAX_URL_VALUE_CHARS:
        return None, "notice.reason_long"
    pattern = {"repo": _REPO_VALUE, "prices": _PRICES_VALUE}.get(spec.kind, _SAFE_VALUE)
    if not pattern.match(raw):
        return None, "notice.reason_chars"
    if spec.kind == "repo":
        return raw, None
    if spec.kind in ("circuit", "prices"):
        try:
            (parse_circuit if spec.kind == "circuit" else
             lambda text: parse_own_prices(text, cat))(raw)
        except UserError:
            return None, "notice.reason_range" if spec.kind == "circuit" else "notice.reason_unknown"
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
    problem = spec.limit.problem(number)
    if problem is not None:
        return None, ("notice.reason_above" if problem == "low" and spec.low_open
                      else _NUMBER_REASONS[problem])
    return (int(number) if spec.kind == "int" else number), None


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
    _money_from_query(cfg, cat, notices)
    return cfg, notices


def terms_of(cfg: dict[str, Any], cat: Catalog) -> RegionTerms:
    """The region, currency, electricity and circuit a configuration stands for."""
    return region_terms(cat.market, region_id=cfg.get("region") or None, lang=cfg.get("lang"),
                        currency=cfg.get("currency") or None,
                        kwh_price=None if cfg.get("kwh_price") in ("", None) else cfg["kwh_price"],
                        circuit_volts=cfg.get("circuit_volts") or None,
                        circuit_amps=cfg.get("circuit_amps") or None)


def _money_from_query(cfg: dict[str, Any], cat: Catalog,
                      notices: list[tuple[str, str, str]]) -> None:
    """Split ``circuit=VxA``, turn dollar amounts of older links into the chosen currency,
    and start the budget from the default where the link has none."""
    circuit = cfg.pop("circuit", "")
    if circuit:
        cfg["circuit_volts"], cfg["circuit_amps"] = parse_circuit(circuit)
    units = terms_of({**cfg, "kwh_price": ""}, cat).units_per_usd
    budget_usd = cfg.pop("budget_usd", None)
    if cfg["budget"] == "":
        cfg["budget"] = round(DEFAULT_BUDGET_USD * units) if budget_usd is None \
            else round(budget_usd * units, 2)
    elif not cfg["budget"] <= MAX_BUDGET_USD * units:
        notices.append(("budget", safe_echo(f"{cfg['budget']:g}"), "notice.reason_range"))
        cfg["budget"] = round(DEFAULT_BUDGET_USD * units)
    usd_per_kwh = cfg.pop("electricity_usd_per_kwh", None)
    if cfg["kwh_price"] == "" and usd_per_kwh is not None:
        cfg["kwh_price"] = round(usd_per_kwh * units, 4)
    elif cfg["kwh_price"] != "" and not cfg["kwh_price"] <= MAX_ELECTRICITY_USD_PER_KWH * units:
        notices.append(("kwh_price", safe_echo(f"{cfg['kwh_price']:g}"), "notice.reason_range"))
        cfg["kwh_price"] = ""


def _session() -> tuple[dict[str, Any], dict[str, Any]]:
    """This session's configuration, read from the URL on the first run, and its memo.

    A page reads them hundreds of times a run (every string looks up the
    language), and each ``st.session_state`` lookup costs about 20 µs, so the
    run's thread keeps the dicts found for its run context. Both are only ever
    mutated, never replaced, within a session.
    """
    ctx = get_script_run_ctx()
    kept = getattr(_RUN, "state", None)
    if ctx is not None and kept is not None and kept[0] is ctx:
        return kept[1], kept[2]
    if STATE_KEY not in st.session_state:
        query = {k: st.query_params.get(k, "") for k in st.query_params.keys()}
        locale = st.context.locale
        cfg, notices = config_from_query(query, catalog(), locale=locale,
                                         default_gpu=detected_gpu_id() or FALLBACK_GPU)
        st.session_state[STATE_KEY] = cfg
        st.session_state[MEMO_KEY] = {NOTICES: notices}
    cfg = st.session_state[STATE_KEY]
    memo = st.session_state.setdefault(MEMO_KEY, {})
    _RUN.state = (ctx, cfg, memo)
    return cfg, memo


def state() -> dict[str, Any]:
    """This session's configuration, read from the URL on the first run."""
    return _session()[0]


def memo() -> dict[str, Any]:
    """This session's bookkeeping that is not configuration, by name (``NOTICES``,
    ``PAGE``, and the inputs' and frame's own), in one session entry.

    Streamlit reads every session entry on each widget call, so the app keeps
    its own few values in this one dict rather than an entry each.
    """
    return _session()[1]


def ignored_params() -> list[tuple[str, str, str]]:
    """The (name, value, reason key) of each URL parameter the first run ignored."""
    return memo().get(NOTICES, [])


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
    # One read of the address bar: a lookup per key costs a proxy call each (~50 a run).
    current = st.query_params.to_dict()
    if current != wanted:
        st.query_params.from_dict(wanted)


def widget_key(name: str) -> str:
    """Widget key for ``name`` on the current page.

    Keys differ per page because Streamlit drops a widget's value when the
    page that rendered it changes; the configuration carries it across.
    """
    kept = getattr(_RUN, "page", None)
    if kept is not None and kept[0] is get_script_run_ctx():
        return f"w_{kept[1]}_{name}"
    return f"w_{memo().get(PAGE, '')}_{name}"


def set_page(name: str) -> None:
    """Record the page now running, for :func:`widget_key`.

    Kept in the session and, for the run's thread, beside the run's context:
    a page asks for a widget key a few dozen times a run, and each session
    lookup costs about 20 µs (see :func:`_session`).
    """
    memo()[PAGE] = name
    _RUN.page = (get_script_run_ctx(), name)


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
