"""What can I run: every model on the user's machine, ranked, with filters and sortable columns.

The sidebar gives the machine (GPU, memory size, count); the page the RAM,
runtime, use and floors. One engine call (:func:`sizing.fits.fits`, the array
engine) answers them all; :mod:`report.fits` words the answer.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from catalog.catalog import runtime_api
from catalog.errors import UserError
from pages._engine import catalog, run_fits
from pages._frame import begin_page
from pages._inputs import machine_inputs
from pages._model_files import file_input, hub_input
from pages._state import PARAMS, SWITCH, bind, lang, state, store
from pages._text import labeller, plain, show_user_error, t
from report.fits import (board_name, class_lines, images_text, machine_text, model_answer, rule_text,
                         speed_text, speed_unknown_text)
from sizing.fits import USES, FitTable, parse_fits_request
from sizing.speed import memory_class

begin_page("fits")
st.title(t("fits.title"))
st.caption(t("fits.intro"))
cat = catalog()
machine = machine_inputs()
gpu = cat.gpu(machine["gpu"])

able = [r.id for r in cat.runtimes if runtime_api(r, gpu) is not None]
left, middle, right = st.columns(3)
if st.session_state.get(bind("runtime")) not in able:
    st.session_state[bind("runtime")] = able[0]
runtime = store("runtime", left.selectbox(t("fits.runtime"), able, key=bind("runtime")))
if memory_class(gpu) == "unified":  # one memory: nothing is offloaded to system RAM
    ram_gib = float(state()["ram_gib"])
    middle.caption(t("fits.ram_unified"))
else:
    ram_gib = store("ram_gib", float(middle.number_input(
        t("fits.ram_gib"), min_value=PARAMS["ram_gib"].low, max_value=PARAMS["ram_gib"].high,
        step=8.0, key=bind("ram_gib"), help=t("fits.ram_gib_help"))))
use = store("use", right.selectbox(t("fits.use"), list(USES), key=bind("use"),
                                   format_func=labeller("fits.use_")))
left, middle, right = st.columns(3)
min_decode = store("min_decode", float(left.number_input(
    t("fits.min_decode"), min_value=PARAMS["min_decode"].low, max_value=PARAMS["min_decode"].high,
    step=5.0, key=bind("min_decode"))))
min_context = store("min_context", int(middle.number_input(
    t("fits.min_context"), min_value=int(PARAMS["min_context"].low),
    max_value=int(PARAMS["min_context"].high), step=4096, key=bind("min_context"))))
with right:
    floors_only = store("floors_only", SWITCH[st.toggle(
        t("fits.floors_only"), value=state()["floors_only"] == "on", key="fits_floors_only")])
    all_quants = store("all_quants", SWITCH[st.toggle(
        t("fits.all_quants"), value=state()["all_quants"] == "on", key="fits_all_quants")])

# A model the catalog lacks, read from its Hugging Face id or a local file as the
# Configurator reads it, is ranked with the catalog (in its file's format).
ADD_SOURCES = ("catalog", "hf", "file")
st.sidebar.subheader(t("fits.add_header"))
add = st.sidebar.radio(t("fits.add_source"), ADD_SOURCES, key="fits_add_source",
                       index=ADD_SOURCES.index(state()["source"]) if state()["source"] in ADD_SOURCES
                       else 0, format_func=labeller("inputs.source_"), horizontal=True,
                       help=t("fits.add_help"))
read = None if add == "catalog" else (hub_input if add == "hf" else file_input)(cat, {})
added = read.arch if read is not None else None
names = {m.id: m.name for m in cat.models} | ({added.id: added.name} if added else {})

table: FitTable | None = None
try:
    request = parse_fits_request({
        "gpu": machine["gpu"], "gpu_count": machine["gpu_count"],
        "memory_gib": machine.get("memory_gib") or None, "ram_gib": ram_gib,
        "runtimes": (runtime,), "use": use, "min_decode_tokens_per_s": min_decode,
        "min_context_tokens": min_context, "all_quants": all_quants == "on"})
    table = run_fits(request, added)
except UserError as exc:
    show_user_error(exc)

if table is not None:
    language = lang()
    st.markdown(plain(machine_text(table, language)))
    images_note = images_text(table, language)
    if images_note:
        st.caption(plain(images_note))
    unknown = speed_unknown_text(table, language)
    if unknown:
        st.warning(plain(unknown))
    st.subheader(t("fits.by_size"))
    st.markdown("\n".join(f"- {plain(line.text)}" for line in class_lines(table, language)))

    if added is None:
        spotlight = store("model", st.selectbox(
            t("fits.spotlight"), list(names), key=bind("model"), format_func=names.__getitem__))
    else:  # the added model first; the link's model stays a catalog id
        spotlight = st.selectbox(t("fits.spotlight"), [added.id, *(m.id for m in cat.models)],
                                 key="fits_spotlight_added", format_func=names.__getitem__)
    st.info(plain(model_answer(table, spotlight, language)), icon=":material/search:")

    rows = [r for r in table.rows if r.meets_floors or floors_only == "off"]
    st.subheader(t("fits.table_header", count=len(rows)))
    frame = pd.DataFrame([{
        "model": r.model_name, "params": round(r.params_b, 1), "quant": r.quant.upper(),
        "runtime": r.runtime, "decode": r.decode_tokens_per_s,
        "band": (f"{speed_text(r.decode_tokens_per_s_low)}–{speed_text(r.decode_tokens_per_s_high)}"
                 if r.decode_tokens_per_s is not None else None),
        "prefill": r.prefill_tokens_per_s, "context": r.max_context_tokens,
        **({"image_tokens": r.image_tokens} if table.images else {}),
        "offload": (t("fits.offload_layers", gpu_layers=r.gpu_layers, layers=r.num_layers)
                    if r.offload else t("fits.no")),
        "quality": r.quality,
        "board": board_name(r.quality_board, language),
        "source": r.quality_source or t("fits.unknown"),
        "second": r.second_quality,
        "second_source": r.second_quality_source or t("fits.unknown"),
        "floors": r.meets_floors} for r in rows])
    number = st.column_config.NumberColumn
    st.dataframe(frame, hide_index=True, key="fits_table", column_config={
        "model": st.column_config.TextColumn(t("fits.col_model")),
        "params": number(t("fits.col_params"), format="%.1f"),
        "quant": st.column_config.TextColumn(t("fits.col_quant")),
        "runtime": st.column_config.TextColumn(t("fits.col_runtime")),
        "decode": number(t("fits.col_decode"), format="%.1f"),
        "band": st.column_config.TextColumn(t("fits.col_band")),
        "prefill": number(t("fits.col_prefill"), format="%.0f"),
        "context": number(t("fits.col_context"), format="%d"),
        "image_tokens": number(t("fits.col_image_tokens"), format="%d"),
        "offload": st.column_config.TextColumn(t("fits.col_offload")),
        "quality": number(t("fits.col_quality"), format="%.1f", help=t("fits.quality_help")),
        "board": st.column_config.TextColumn(t("fits.col_board")),
        "source": st.column_config.TextColumn(t("fits.col_source")),
        "second": number(t("fits.col_second_quality"), format="%.1f",
                         help=t("fits.second_quality_help")),
        "second_source": st.column_config.TextColumn(t("fits.col_second_source")),
        "floors": st.column_config.CheckboxColumn(t("fits.col_floors"))})
    st.caption(t("fits.rule_header"))
    st.markdown(plain(rule_text(language)))
    if table.not_running:
        with st.expander(t("fits.not_running", count=len(table.not_running))):
            st.markdown(plain(", ".join(names[m] for m in table.not_running)))
