"""Report: the current scenario as a file to keep or send.

The report answers first the question of the page the user came from (the
Builds page's tiers, the Compare page's comparison, the Cloud page's offers,
the Configurator's verdict); the user can pick another, and add the Fine-tune,
Serve and What can I run pages' answers as sections.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from catalog.errors import UserError
from pages._frame import ORIGIN_KEY, REPORT_LEADS, begin_page
from pages._inputs import money_terms, scenario_estimate
from pages._sections import EXTRA_SECTIONS, extra_section
from pages._state import lang, memo, query_for, state
from pages._text import labeller, plain, show_user_error, t
from report.html import build_html
from report.pdf import build_pdf

begin_page("reports")
st.title(t("report.title"))
st.caption(t("report.intro"))
request, arch, result = scenario_estimate()

if result is not None:
    st.write(plain(t("report.scenario", model=result.model.name, gpu=result.gpu_name,
                     verdict=t(f"verdict.short_{result.memory.verdict}"))))
    origin = memo().get(ORIGIN_KEY, "configurator")
    # Keyed by the page the user came from, so coming from another page picks its question again.
    lead = st.radio(t("report.lead"), REPORT_LEADS, index=REPORT_LEADS.index(origin),
                    format_func=labeller("report.lead_"), horizontal=True,
                    key=f"w_report_lead_{origin}", help=t("report.lead_help"))
    st.markdown(f"**{t('report.include')}**", help=t("report.include_help"))
    chosen = tuple(key for key, col in zip(EXTRA_SECTIONS, st.columns(len(EXTRA_SECTIONS)))
                   if col.checkbox(t(f"report.include_{key}"), key=f"w_report_include_{key}"))
    extra = []
    for key in chosen:  # a section the engine refuses is left out, saying why
        try:
            extra.append(extra_section(key, state(), request, arch, money_terms(), lang()))
        except UserError as exc:
            show_user_error(exc)
    # The builders run on click, without a script context: everything they need is bound now.
    options = {"lang": lang(), "query": query_for(state()), "arch": arch, "request": request,
               "lead": lead, "extra": tuple(extra)}
    cols = st.columns(3)
    cols[0].download_button(t("report.json"), data=result.model_dump_json(indent=2),
                            file_name=f"{t('report.file_estimate')}.json", mime="application/json",
                            on_click="ignore", key="dl_json")
    for col, builder, name, mime in (
            (cols[1], build_html, f"{t('report.file_report')}.html", "text/html"),
            (cols[2], build_pdf, f"{t('report.file_report')}.pdf", "application/pdf")):
        col.download_button(t(f"report.{builder.__name__}"), data=partial(builder, result, **options),
                            file_name=name, mime=mime, on_click="ignore",
                            key=f"dl_{builder.__name__}")
