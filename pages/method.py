"""Method & accuracy: the formulas in plain words, sources and dates."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._engine import catalog
from pages._frame import begin_page
from pages._state import lang
from pages._text import t
from report.formats import date_text
from report.method import ACCURACY_CHART, accuracy_section, check_tables

begin_page("method")
st.title(t("method.title"))
st.markdown(t("method.memory"))
st.markdown(t("method.kv"))
st.markdown(t("method.fit"))
st.markdown(t("method.speed"))

st.subheader(t("method.sources_header"))
cat = catalog()
if cat.reviewed_on is not None:
    st.caption(t("method.reviewed_on", date=date_text(cat.reviewed_on, lang())))
gpu_rows = [{t("method.col_name"): g.name,
             t("method.col_price_as_of"): date_text(g.street_price.as_of if g.street_price else None,
                                                    lang()),
             t("method.col_source"): g.source} for g in cat.gpus]
st.caption(t("method.gpus_caption", count=len(gpu_rows)))
st.dataframe(pd.DataFrame(gpu_rows), hide_index=True, key="sources_gpus", column_config={
    t("method.col_source"): st.column_config.LinkColumn()})
model_rows = [{t("method.col_name"): m.name, t("method.col_source"): m.source} for m in cat.models]
st.caption(t("method.models_caption", count=len(model_rows)))
st.dataframe(pd.DataFrame(model_rows), hide_index=True, key="sources_models", column_config={
    t("method.col_source"): st.column_config.LinkColumn()})

st.subheader(t("method.accuracy_header"))
accuracy = accuracy_section(cat, lang())
for paragraph in accuracy.before:
    st.markdown(paragraph)
st.dataframe(pd.DataFrame(list(accuracy.table.rows), columns=list(accuracy.table.columns)),
             hide_index=True, key="accuracy_speed")
for paragraph in accuracy.after:
    st.markdown(paragraph)
st.image(str(ACCURACY_CHART), caption=accuracy.chart_caption)
for check in check_tables(cat, lang()):
    st.markdown(f"#### {check.heading}")
    st.markdown(check.intro)
    links = ({} if check.link_column is None else  # a source link shows its site's name
             {check.table.columns[check.link_column]:
              st.column_config.LinkColumn(display_text=r"https?://([^/]+)/")})
    st.dataframe(pd.DataFrame(list(check.table.rows), columns=list(check.table.columns)),
                 hide_index=True, key=f"accuracy_{check.key}", column_config=links)
    st.markdown(check.note)
