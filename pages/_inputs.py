"""The shared inputs: the scenario in the sidebar, and the budget and plan inputs.

Each widget is bound to its configuration entry (``pages._state.bind``) and
writes back into it, so every page shows the same scenario. Bounds come from
the engine and the advisor, never retyped here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from advisor.plan import MAX_BUDGET_USD, MAX_HOURS_PER_DAY, MAX_MIN_TOKENS_PER_S, MAX_USERS
from advisor.own_prices import parse_own_prices
from advisor.prices import MAX_ELECTRICITY_USD_PER_KWH
from advisor.region import (DEFAULT_REGION, RegionTerms, prices_in_usd, region_for,
                            region_terms)
from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from catalog.printable import printable
from catalog.schema import ModelArch
from pages._detect import detected_gpus, match_all, read_nvidia_smi_csv
from pages._engine import catalog, currencies, run_estimate
from pages._model_files import file_input, hub_input, read_config_rows
from pages._state import (PLAN_SEARCH, SOURCES, WORKLOADS, bind, lang, memo, state, store,
                          terms_of, widget_key)
from pages._text import labeller, plain, show_user_error, t
from report.formats import money_text
from report.text import DEFAULT_LANGUAGE, catalog_name, translate, translate_notice
from sizing.architecture import MAX_PARAMS, MIN_PARAMS, ModelInputError, parse_hf_config_text
from sizing.bench import MAX_BENCH_BYTES, BenchCalibration, parse_bench
from sizing.bench_calibrate import calibrate
from sizing.estimate import Estimate
from sizing.pairs import Change, Pair, kv_cache_types_for, quants_for, runtimes_for, valid_pair
from sizing.system import MAX_CIRCUIT_AMPS, MAX_CIRCUIT_VOLTS, MIN_CIRCUIT_AMPS, MIN_CIRCUIT_VOLTS
from sizing.request import (FLASH_ATTENTION, MAX_BATCH, MAX_GPUS, MAX_TOKENS, EstimateRequest,
                            parse_request)
from sizing.vision import MAX_IMAGE_SIDE_PX, MAX_IMAGES
from sizing.workloads import PRESETS

SMI_PASTE_KEY = "w_smi_paste"
BENCH_PASTE_KEY = "w_bench_paste"
# Entries of the session memo (pages._state.memo), not widget keys.
UPLOAD_KEY = "upload"
SOURCE_BEFORE_UPLOAD_KEY = "source_before_upload"
BENCH_RESULT_KEY = "bench_result"  # (BenchCalibration | None, error text | None)
SMI_RESULT_KEY = "smi_result"
PAIR_NOTE_KEY = "pair_note"  # ((gpu, runtime, quant, kv_cache), [(text key, names)])
SMI_PLACEHOLDER = "name, memory.total [MiB]\nNVIDIA GeForce RTX 4090, 24564 MiB"
SMI_MAX_CHARS = 4000
SMI_SHOWN_BAD_LINES = 5  # unreadable pasted lines named one by one; the rest are counted
SMI_ECHO_CHARS = 60  # what a message repeats of an unreadable line


def read_config_upload(data: bytes, *, file_name: str = "config.json",
                       language: str = DEFAULT_LANGUAGE) -> tuple[ModelArch | None, str]:
    """An uploaded config.json as an architecture, or None and why not.

    Pure (no Streamlit): the sidebar calls it with the uploaded bytes. The
    message is the engine's one line in ``language`` on failure, empty on success.
    """
    try:  # named by its _name_or_path, else by the file (sizing.architecture.config_model_name)
        return parse_hf_config_text(bytes(data), file_name=file_name), ""
    except ModelInputError as exc:
        return None, translate_notice(exc, language)


def _catalog_choices(cat: Catalog, kind: str) -> tuple[list[str], Callable[[str], str]]:
    """The ids and the label function of the model or GPU selectbox ("model", "gpu").

    Built once per catalog and kept with it: a rerun passes the same list, and the
    selectbox's label for each option is a dictionary lookup.
    """
    kept = cat.derived("pages.catalog_choices")
    if kind not in kept:
        if kind == "model":
            labels = {m.id: f"{m.name} ({m.id})" for m in cat.models}
            kept[kind] = (list(labels), lambda mid: labels.get(mid) or f"{mid} ({mid})")
        else:
            names = {g.id: g.name for g in cat.gpus}
            kept[kind] = (list(names), lambda gid: names.get(gid, gid))
    return kept[kind]


def _model_label(cat: Catalog) -> Callable[[str], str]:
    return _catalog_choices(cat, "model")[1]


def _upload_input(cat: Catalog, data: dict[str, Any]) -> ModelArch | None:
    """The config.json uploader; until a file is read, the model chosen before stays."""
    sb = st.sidebar
    upload = sb.file_uploader(t("inputs.upload"), type=["json"], key="w_upload",
                              help=t("inputs.upload_help"))
    if upload is not None:
        parsed, message = read_config_upload(upload.getvalue(), file_name=upload.name,
                                             language=lang())
        if parsed is None:
            sb.error(plain(t("inputs.upload_rejected", message=message)), icon=":material/error:")
        else:
            memo()[UPLOAD_KEY] = parsed
    arch = memo().get(UPLOAD_KEY)
    sb.caption(t("inputs.upload_not_in_link"))
    if arch is not None:
        data["hf_config"] = "config.json"
        show_read_config(arch, sb)
        return arch
    _previous_model(cat, data, "inputs.upload_first", ":material/upload_file:")
    return None


def _previous_model(cat: Catalog, data: dict[str, Any], key: str, icon: str) -> None:
    """Until a model is uploaded or read, the catalog model or size chosen before, saying so."""
    if memo().get(SOURCE_BEFORE_UPLOAD_KEY, "catalog") == "size":
        data["params_b"] = state()["params_b"]
        shown = f"{state()['params_b']:g}B"
    else:
        data["model"] = state()["model"]
        shown = _model_label(cat)(state()["model"])
    st.info(plain(t(key, model=shown)), icon=icon)


def show_read_config(arch: ModelArch, container: Any) -> None:
    """The figures read from the upload, under the uploader, for the user to check."""
    container.caption(t("inputs.read_header"))
    container.dataframe(read_config_rows(arch), hide_index=True, key="upload_read")


def _model_inputs(cat: Catalog, data: dict[str, Any]) -> tuple[ModelArch | None, ModelArch | None]:
    """The model widgets; an uploaded architecture (else None), and the model sized (None: a size)."""
    sb = st.sidebar
    sb.subheader(t("inputs.model_header"))
    source = store("source", sb.radio(t("inputs.source"), SOURCES, key=bind("source"),
                                      format_func=labeller("inputs.source_"), horizontal=True))
    arch = sized = None
    if source == "catalog":
        ids, label = _catalog_choices(cat, "model")
        data["model"] = store("model", sb.selectbox(
            t("inputs.model"), ids, key=bind("model"), format_func=label,
            help=t("inputs.model_help")))
    elif source == "size":
        data["params_b"] = store("params_b", float(sb.number_input(
            t("inputs.params_b"), min_value=MIN_PARAMS / 1e9, max_value=MAX_PARAMS / 1e9,
            step=1.0, format="%g", key=bind("params_b"), help=t("inputs.params_b_help"))))
    elif source == "upload":
        arch = _upload_input(cat, data)
    else:  # a Hugging Face id or a local file, read when the user asks
        read = (hub_input if source == "hf" else file_input)(cat, data)
        sized = read.arch if read is not None else None
        if read is None:
            _previous_model(cat, data, "inputs.read_first", ":material/cloud_download:")
    if source in ("catalog", "size"):
        memo()[SOURCE_BEFORE_UPLOAD_KEY] = source
    _runtime_inputs(cat, data)
    data["flash_attention"] = store("flash_attention", sb.selectbox(
        t("inputs.flash_attention"), list(FLASH_ATTENTION), key=bind("flash_attention"),
        format_func=labeller("inputs.flash_attention_"), help=t("inputs.flash_attention_help")))
    if sized is None and arch is not None:
        sized = arch
    elif sized is None and "model" in data:
        sized = cat.model(data["model"])
    return arch, sized


def _valid_pair(cat: Catalog) -> None:
    """Move the runtime, precision and KV cache to ones that run together on the GPU.

    Runs before the widgets are drawn, on the values they hold (or the link's):
    a choice that stays valid is kept, another moves to the closest valid one
    (sizing.pairs), and one line says what moved for as long as it stands.
    """
    cfg = state()
    now = {name: st.session_state.get(widget_key(name), cfg[name])
           for name in ("gpu", "runtime", "quant", "kv_cache")}
    pair = valid_pair(cat, **now)
    # The widgets' values (the GPU's is drawn further down), so the note below compares alike.
    cfg.update(gpu=now["gpu"], runtime=pair.runtime, quant=pair.quant, kv_cache=pair.kv_cache)
    if pair.changes:
        for change in pair.changes:
            st.session_state[widget_key(change.field)] = change.new
        memo()[PAIR_NOTE_KEY] = (
            (now["gpu"], pair.runtime, pair.quant, pair.kv_cache),
            [(f"inputs.pair_{c.field}", _change_names(cat, now["gpu"], pair, c))
             for c in pair.changes])


def _change_names(cat: Catalog, gpu: str, pair: Pair, change: Change) -> dict[str, str]:
    """The names a pair-change sentence quotes."""
    if change.field == "runtime":
        return {"old": cat.runtime(change.old).name, "new": cat.runtime(change.new).name,
                "gpu": cat.gpu(gpu).name}
    runtime = cat.runtime(pair.runtime).name
    if change.field == "quant":
        return {"old": catalog_name("quant", change.old, cat.quant(change.old).name, lang()),
                "new": catalog_name("quant", change.new, cat.quant(change.new).name, lang()),
                "runtime": runtime}
    return {"old": cat.kv_cache_type(change.old).name, "new": cat.kv_cache_type(change.new).name,
            "runtime": runtime}


def _show_pair_note() -> None:
    """The line that says which choice moved, while the corrected choices stand."""
    note = memo().get(PAIR_NOTE_KEY)
    if note is None:
        return
    fixed, sentences = note
    cfg = state()
    if (cfg["gpu"], cfg["runtime"], cfg["quant"], cfg["kv_cache"]) != fixed:
        memo().pop(PAIR_NOTE_KEY, None)
        return
    st.info(plain(" ".join(t(key, **names) for key, names in sentences)),
            icon=":material/swap_horiz:")


def _runtime_inputs(cat: Catalog, data: dict[str, Any]) -> None:
    """Runtime, precision and KV cache: only what runs on the GPU, and with the runtime."""
    sb = st.sidebar
    gpu = cat.gpu(state()["gpu"])
    data["runtime"] = store("runtime", sb.selectbox(
        t("inputs.runtime"), [r.id for r in runtimes_for(cat, gpu)], key=bind("runtime"),
        format_func=lambda rid: cat.runtime(rid).name, help=t("inputs.runtime_help")))
    data["quant"] = store("quant", sb.selectbox(
        t("inputs.quant"), [q.id for q in quants_for(cat, data["runtime"])], key=bind("quant"),
        help=t("inputs.quant_help")))
    data["kv_cache"] = store("kv_cache", sb.selectbox(
        t("inputs.kv_cache"), [k.id for k in kv_cache_types_for(cat, data["runtime"])],
        key=bind("kv_cache"), format_func=lambda kid: cat.kv_cache_type(kid).name))


def _apply_workload() -> None:
    """Fill the token fields (and a vision model's images) with the chosen use's."""
    preset = PRESETS.get(st.session_state.get(widget_key("workload")))
    if preset is None:
        return
    values = {"prompt_tokens": preset.prompt_tokens, "new_tokens": preset.new_tokens,
              "context_tokens": preset.context_tokens, "images": preset.images}
    if preset.images:
        values |= {"image_width": preset.image_width_px, "image_height": preset.image_height_px}
    for name, value in values.items():
        state()[name] = value
        st.session_state[widget_key(name)] = value


def _token_inputs(data: dict[str, Any], vision: bool = False) -> None:
    """The use, the token lengths and, for a vision-language model, the images per request."""
    st.sidebar.subheader(t("inputs.tokens_header"))
    use = store("workload", st.sidebar.selectbox(
        t("inputs.workload"), WORKLOADS, key=bind("workload"), on_change=_apply_workload,
        format_func=labeller("inputs.workload_"), help=t("inputs.workload_help")))
    if use in PRESETS:
        data["workload"] = use
    left, right = st.sidebar.columns(2)
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
    if vision:
        _image_inputs(data)


def _image_inputs(data: dict[str, Any]) -> None:
    """Images in each request and their size, for a vision-language model."""
    data["images"] = store("images", int(st.sidebar.number_input(
        t("inputs.images"), min_value=0, max_value=MAX_IMAGES, step=1, key=bind("images"),
        help=t("inputs.images_help"))))
    left, right = st.sidebar.columns(2)
    data["image_width"] = store("image_width", int(left.number_input(
        t("inputs.image_width"), min_value=1, max_value=MAX_IMAGE_SIDE_PX, step=64,
        key=bind("image_width"))))
    data["image_height"] = store("image_height", int(right.number_input(
        t("inputs.image_height"), min_value=1, max_value=MAX_IMAGE_SIDE_PX, step=64,
        key=bind("image_height"))))


def _apply_pasted_smi() -> None:
    """Select the pasted output's GPU; keep the lines that could not be read to name them."""
    paste = read_nvidia_smi_csv(st.session_state.get(SMI_PASTE_KEY, ""))
    rows = match_all(paste)
    found = [gid for _, _, gid in rows if gid]
    memo()[SMI_RESULT_KEY] = (len(rows), found[0] if found else None, paste.bad_lines)
    if found:
        state()["gpu"] = found[0]
        state()["gpu_count"] = max(1, found.count(found[0]))
        st.session_state[widget_key("gpu")] = found[0]
        st.session_state[widget_key("gpu_count")] = state()["gpu_count"]


def _apply_pasted_bench() -> None:
    """Calibrate on the pasted benchmark for the chosen GPU; keep the factors in the link."""
    text = st.session_state.get(BENCH_PASTE_KEY, "")
    if not text.strip():
        memo()[BENCH_RESULT_KEY] = None
        return
    try:
        found = calibrate(parse_bench(text), catalog(), gpu=state()["gpu"])
    except UserError as exc:  # the message names the line that could not be read
        memo()[BENCH_RESULT_KEY] = (None, translate_notice(exc, lang()))
        return
    memo()[BENCH_RESULT_KEY] = (found, None)
    state()["bench"] = found.to_query()


def _clear_bench() -> None:
    state()["bench"] = ""
    st.session_state[BENCH_PASTE_KEY] = ""
    memo()[BENCH_RESULT_KEY] = None


def _bench_input() -> None:
    """The benchmark paste: measured against predicted, and the factors in use."""
    with st.sidebar.expander(t("inputs.paste_bench"), expanded=bool(state().get("bench"))):
        st.text_area(t("inputs.paste_bench_label"), key=BENCH_PASTE_KEY, on_change=_apply_pasted_bench,
                     max_chars=MAX_BENCH_BYTES)
        found, error = memo().get(BENCH_RESULT_KEY) or (None, None)
        if error:
            show_user_error(error)
        if found is not None:
            st.dataframe([{t("inputs.bench_col_test"): printable(f"{r.test} · {r.benchmark_model or ''}"),
                           t("inputs.bench_col_measured"): round(r.measured_tokens_per_s, 1),
                           t("inputs.bench_col_predicted"): (round(r.predicted_tokens_per_s, 1)
                                                             if r.predicted_tokens_per_s else None),
                           t("inputs.bench_col_used"): t("inputs.bench_used_yes") if r.used
                           else printable(translate_notice(r.reason or r.note or "", lang()))}
                          for r in found.rows], hide_index=True)
        current = state().get("bench")
        if current:
            factors = BenchCalibration.from_query(current)
            values = {"decode": f"{factors.decode_factor:.2f}", "prefill": f"{factors.prefill_factor:.2f}"}
            if found is not None and found.to_query() == current:
                st.success(t("inputs.bench_applied", rows=found.decode_rows + found.prefill_rows,
                             **values))
            else:
                st.success(t("inputs.bench_applied_link", **values))
            st.button(t("inputs.bench_clear"), on_click=_clear_bench)


def _gpu_inputs(cat: Catalog, data: dict[str, Any]) -> None:
    sb = st.sidebar
    sb.subheader(t("inputs.gpu_header"))
    for name, mib, gid in detected_gpus():
        sb.caption(plain(t("inputs.detected", name=name, gib=f"{mib / 1024:.0f}",
                           id=gid or t("inputs.no_match"))))
    with sb.expander(t("inputs.paste_smi")):
        st.text_area(t("inputs.paste_smi_label"), key=SMI_PASTE_KEY, on_change=_apply_pasted_smi,
                     placeholder=SMI_PLACEHOLDER, max_chars=SMI_MAX_CHARS)
        pasted = memo().get(SMI_RESULT_KEY)
        if pasted is not None:
            rows, gid, bad_lines = pasted
            _show_bad_lines(bad_lines)
            if gid:
                st.success(plain(t("inputs.paste_matched", id=gid)))
            elif rows or not bad_lines:
                st.warning(t("inputs.paste_unmatched", rows=rows))
    ids, label = _catalog_choices(cat, "gpu")
    data["gpu"] = store("gpu", sb.selectbox(t("inputs.gpu"), ids, key=bind("gpu"),
                                            format_func=label))
    _memory_input(cat, data)
    data["gpu_count"] = store("gpu_count", int(sb.number_input(
        t("inputs.gpu_count"), min_value=1, max_value=MAX_GPUS, step=1, key=bind("gpu_count"))))
    _bench_input()


def _show_bad_lines(bad_lines: tuple[tuple[int, str], ...]) -> None:
    """One line per pasted line that could not be read (the first few), then how many more."""
    for number, text in bad_lines[:SMI_SHOWN_BAD_LINES]:
        st.warning(plain(t("inputs.paste_bad_line", line=number, text=echo(text, SMI_ECHO_CHARS))),
                   icon=":material/warning:")
    if len(bad_lines) > SMI_SHOWN_BAD_LINES:
        st.warning(t("inputs.paste_bad_more", count=len(bad_lines) - SMI_SHOWN_BAD_LINES))


def _memory_input(cat: Catalog, data: dict[str, Any]) -> None:
    """The memory size, for a machine sold in several (a Mac, a Ryzen AI Max box).

    Shown only for such machines; its widget is per machine, so switching GPUs
    starts from the new machine's size (or the linked one, when it has it).
    """
    gpu = cat.gpu(data["gpu"])
    sizes = list(gpu.memory_sizes_gib)
    if len(sizes) < 2:
        store("memory_gib", "")
        return
    key = widget_key(f"memory_gib_{gpu.id}")
    if key not in st.session_state:
        linked = state().get("memory_gib")
        st.session_state[key] = linked if linked in sizes else gpu.memory_gib
    chosen = st.sidebar.selectbox(t("inputs.memory_gib"), sizes, key=key,
                                  help=t("inputs.memory_gib_help"),
                                  format_func=_memory_label())
    data["memory_gib"] = store("memory_gib", float(chosen))


def _memory_label() -> Callable[[float], str]:
    """A format_func for memory sizes, in the language of this run."""
    language = lang()
    return lambda gib: translate("inputs.memory_gib_option", language, gib=f"{gib:g}")


def machine_inputs() -> dict[str, Any]:
    """Sidebar widgets for the machine alone: the GPU (detected or pasted), its memory
    size and count; returns gpu, memory_gib and gpu_count."""
    data: dict[str, Any] = {}
    _gpu_inputs(catalog(), data)
    return data


def scenario_inputs() -> tuple[EstimateRequest | None, ModelArch | None]:
    """Sidebar widgets for one scenario; the request (None on error) and an uploaded arch."""
    cat = catalog()
    data: dict[str, Any] = {}
    _valid_pair(cat)
    _show_pair_note()
    arch, sized = _model_inputs(cat, data)
    _token_inputs(data, vision=sized is not None and sized.vision is not None)
    _gpu_inputs(cat, data)
    try:
        terms = money_terms()
        # The region's (or the user's) electricity price; the US preset is the engine's default.
        if not (terms.electricity_preset and terms.region_id == DEFAULT_REGION):
            data["electricity_usd_per_kwh"] = terms.electricity_usd_per_kwh
        return parse_request(data), arch
    except UserError as exc:
        show_user_error(exc)
        return None, arch


def scenario_estimate() -> tuple[EstimateRequest | None, ModelArch | None, Estimate | None]:
    """The sidebar's scenario and its estimate (with the user's benchmark, if any);
    a user error is shown as one line and leaves the estimate None."""
    request, arch = scenario_inputs()
    if request is None:
        return None, arch, None
    try:
        return request, arch, run_estimate(request, arch, state().get("bench", ""))
    except UserError as exc:
        show_user_error(exc)
        return request, arch, None


def money_terms() -> RegionTerms:
    """The session's region, currency, electricity price and circuit, presets and overrides."""
    return terms_of(state(), catalog())


def budget_input(container: Any) -> float:
    """The budget widget in ``container`` (the sidebar or a column), typed in the chosen
    currency; returned in US dollars at the catalog's rate. [USD]"""
    terms = money_terms()
    budget = store("budget", float(container.number_input(
        t("inputs.budget_in", currency=terms.currency), min_value=0.0,
        max_value=MAX_BUDGET_USD * terms.units_per_usd, step=100.0, key=bind("budget"))))
    return terms.to_usd(budget)


def _rescale_money(old_units: float, new_units: float) -> None:
    """Keep the budget, electricity price and own prices worth the same in a new currency."""
    cfg = state()
    factor = new_units / old_units
    # Rounded, and kept within the new currency's bounds (the widgets refuse a value past them).
    if isinstance(cfg["budget"], float | int):
        cfg["budget"] = min(round(cfg["budget"] * factor, 2), MAX_BUDGET_USD * new_units)
    if cfg["kwh_price"] != "":
        cfg["kwh_price"] = min(round(cfg["kwh_price"] * factor, 4),
                               MAX_ELECTRICITY_USD_PER_KWH * new_units)
    if cfg["price"]:
        own = parse_own_prices(cfg["price"], catalog())
        cfg["price"] = ",".join(f"{k}:{max(v * factor, 0.01):.2f}" for k, v in own.items())
    for name in ("budget", "kwh_price"):
        st.session_state[widget_key(name)] = None if cfg[name] == "" else cfg[name]
    st.session_state[widget_key("price")] = cfg["price"]


def _on_money_change(name: str) -> None:
    """A new region or currency: store it and convert the amounts typed so far."""
    cfg = state()
    # The currency alone: an electricity price typed in the old one may not fit the new one yet.
    old = terms_of({**cfg, "kwh_price": ""}, catalog())
    cfg[name] = st.session_state[widget_key(name)]
    new = terms_of({**cfg, "kwh_price": ""}, catalog())
    if new.units_per_usd != old.units_per_usd:
        _rescale_money(old.units_per_usd, new.units_per_usd)
    st.session_state[widget_key("currency")] = new.currency
    st.session_state[widget_key("region")] = new.region_id


def _choice_input(container: Any, name: str, options: list[str], current: str,
                  **kwargs: Any) -> None:
    """A region or currency selectbox that starts from the effective choice."""
    key = widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = current
    container.selectbox(t(f"inputs.{name}"), options, key=key,
                        on_change=_on_money_change, args=(name,), **kwargs)


def _preset_number(container: Any, name: str, label: str, preset: float, **kwargs: Any
                   ) -> float | None:
    """A number left empty for the region's preset (shown as the placeholder)."""
    key = widget_key(name)
    if key not in st.session_state:
        linked = state()[name]
        st.session_state[key] = None if linked == "" else linked
    value = container.number_input(label, key=key, placeholder=t(
        "inputs.preset_placeholder", value=f"{preset:g}"), **kwargs)
    store(name, "" if value is None else float(value))
    return None if value is None else float(value)


def _own_prices_input(terms: RegionTerms) -> dict[str, float]:
    """The user's own prices, typed as ID:AMOUNT in the chosen currency; in US dollars. [USD]"""
    key = bind("price")
    text = st.text_input(t("inputs.own_prices", currency=terms.currency), key=key,
                         placeholder="rtx-3090:700, ryzen-7-7700:250",
                         help=t("inputs.own_prices_help", currency=terms.currency))
    try:
        own = parse_own_prices((text or "").replace(" ", ""), catalog())
    except UserError as exc:
        show_user_error(exc)
        return {}
    store("price", ",".join(f"{k}:{v:g}" for k, v in own.items()))
    return prices_in_usd(own, terms)


def show_region_terms(terms: RegionTerms) -> None:
    """The presets in use and where they come from, and the exchange rate with its date."""
    cat = catalog()
    published = cat.market.electricity_price(region_for(cat.market,
                                                        region_id=terms.region_id).electricity)
    kwh = money_text(terms.electricity_in_currency_per_kwh, terms.currency, digits=3)
    link = t("inputs.source_link")
    parts = [plain(t("inputs.region_kwh", region=t(f"inputs.region_{terms.region_id}"),
                     kwh=kwh if terms.electricity_preset else t("inputs.own_value", value=kwh),
                     published=f"{published.local_price_per_kwh:g} {published.currency}",
                     date=published.as_of.isoformat())), f"[{link}]({terms.electricity_source});",
             plain(t("inputs.region_circuit", volts=f"{terms.circuit_volts:g}",
                     amps=f"{terms.circuit_amps:g}")),
             f"[{link}]({terms.circuit_source})."]
    if terms.currency != "USD":
        parts += [plain(t("inputs.rate", currency=terms.currency,
                          rate=f"{terms.units_per_usd:,.4g}", date=terms.rate_as_of)),
                  f"[{link}]({terms.rate_source})."]
    parts.append(plain(t("inputs.hardware_prices", currency=terms.currency)))
    st.caption(" ".join(parts))


def plan_inputs() -> dict[str, Any]:
    """The plan's inputs (region, currency, budget, users, speed per user, hours of use,
    electricity, wall circuit, own prices, and whether to search runtimes and weight
    formats), as ``run_plan`` keywords; money in US dollars."""
    cat = catalog()
    terms = money_terms()
    cols = st.columns(5)
    _choice_input(cols[0], "region", [r.id for r in cat.market.regions], terms.region_id,
                  format_func=labeller("inputs.region_"))
    _choice_input(cols[1], "currency", currencies(), terms.currency)
    terms = money_terms()
    budget = budget_input(cols[2])
    users = store("users", int(cols[3].number_input(
        t("inputs.users"), min_value=1, max_value=MAX_USERS, step=1, key=bind("users"))))
    speed = store("min_tokens_per_s", float(cols[4].number_input(
        t("inputs.min_tokens_per_s"), min_value=0.0, max_value=MAX_MIN_TOKENS_PER_S, step=1.0,
        format="%g", key=bind("min_tokens_per_s"), help=t("inputs.min_tokens_per_s_help"))))
    cols = st.columns(4)
    hours = store("hours_per_day", float(cols[0].number_input(
        t("inputs.hours_per_day"), min_value=0.0, max_value=MAX_HOURS_PER_DAY, step=1.0,
        key=bind("hours_per_day"))))
    region = region_terms(cat.market, region_id=terms.region_id, currency=terms.currency)
    _preset_number(cols[1], "kwh_price", t("inputs.kwh_price", currency=terms.currency),
                   round(region.electricity_in_currency_per_kwh, 4), min_value=0.0,
                   max_value=MAX_ELECTRICITY_USD_PER_KWH * terms.units_per_usd, step=0.01,
                   format="%.4g", help=t("inputs.kwh_price_help"))
    _preset_number(cols[2], "circuit_volts", t("inputs.circuit_volts"), region.circuit_volts,
                   min_value=MIN_CIRCUIT_VOLTS, max_value=MAX_CIRCUIT_VOLTS, step=10.0,
                   format="%g", help=t("inputs.circuit_help"))
    _preset_number(cols[3], "circuit_amps", t("inputs.circuit_amps"), region.circuit_amps,
                   min_value=MIN_CIRCUIT_AMPS, max_value=MAX_CIRCUIT_AMPS, step=1.0,
                   format="%g", help=t("inputs.circuit_help"))
    terms = money_terms()
    own = _own_prices_input(terms)
    show_region_terms(terms)
    search = store("search", st.radio(t("inputs.search"), PLAN_SEARCH, key=bind("search"),
                                      format_func=labeller("inputs.search_"), horizontal=True,
                                      help=t("inputs.search_help")))
    return {"budget_usd": budget, "users": users, "hours_per_day": hours,
            "currency": terms.currency, "search": search, "min_tokens_per_s": speed,
            "electricity_usd_per_kwh": terms.electricity_usd_per_kwh,
            "circuit_volts": terms.circuit_volts, "circuit_amps": terms.circuit_amps,
            "own_prices_usd": own}
