"""Report: the current scenario as a file to keep or send."""

from __future__ import annotations

import importlib
import importlib.util
from functools import partial

import streamlit as st

from pages._common import (ENGINE_ERRORS, begin_page, lang, plain, query_for, run_estimate,
                           scenario_inputs, state, t)


def _build(module_name: str, builder: str, result, language: str, query: dict, arch) -> bytes:
    """Runs on click, without a script context: everything it needs is bound."""
    module = importlib.import_module(module_name)
    return getattr(module, builder)(result, lang=language, query=query, arch=arch)


begin_page("reports")
st.title(t("report.title"))
st.caption(t("report.intro"))
request, arch = scenario_inputs()
result = None
if request is not None:
    try:
        result = run_estimate(request, arch)
    except ENGINE_ERRORS as exc:
        st.error(plain(t("error.engine", message=str(exc))))

if result is not None:
    st.write(plain(t("report.scenario", model=result.model.name, gpu=result.gpu_name,
                     verdict=t(f"verdict.short_{result.memory.verdict}"))))
    language, query = lang(), query_for(state())
    cols = st.columns(3)
    cols[0].download_button(t("report.json"), data=result.model_dump_json(indent=2),
                            file_name="rigfit-estimate.json", mime="application/json",
                            on_click="ignore", key="dl_json")
    for col, module_name, builder, name, mime in (
            (cols[1], "report.html", "build_html", "rigfit-report.html", "text/html"),
            (cols[2], "report.pdf", "build_pdf", "rigfit-report.pdf", "application/pdf")):
        label = t(f"report.{builder}")
        if importlib.util.find_spec(module_name) is None:
            col.button(label, disabled=True, key=f"dl_{builder}", help=t("report.unavailable"))
        else:
            col.download_button(label, data=partial(_build, module_name, builder, result,
                                                    language, query, arch),
                                file_name=name, mime=mime, on_click="ignore", key=f"dl_{builder}")
    if importlib.util.find_spec("report.html") is None or importlib.util.find_spec("report.pdf") is None:
        st.info(t("report.unavailable"), icon=":material/construction:")
