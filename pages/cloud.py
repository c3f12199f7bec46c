"""Cloud: when renting beats buying (the cloud engine, sizing.cloud)."""

from __future__ import annotations

import importlib
import importlib.util

import streamlit as st

from pages._common import (begin_page, CURRENCIES, ENGINE_ERRORS, MAX_BUDGET_USD, MAX_USERS, bind, catalog,
                           plain, scenario_inputs, store, t)

begin_page("cloud")
st.title(t("cloud.title"))
st.caption(t("cloud.intro"))
request, arch = scenario_inputs()
cols = st.columns(4)
budget = store("budget_usd", float(cols[0].number_input(
    t("inputs.budget_usd"), min_value=0.0, max_value=float(MAX_BUDGET_USD), step=100.0,
    key=bind("budget_usd"))))
users = store("users", int(cols[1].number_input(
    t("inputs.users"), min_value=1, max_value=MAX_USERS, step=1, key=bind("users"))))
hours = store("hours_per_day", float(cols[2].number_input(
    t("inputs.hours_per_day"), min_value=0.0, max_value=24.0, step=1.0, key=bind("hours_per_day"))))
currency = store("currency", cols[3].selectbox(t("inputs.currency"), CURRENCIES,
                                               key=bind("currency")))

if importlib.util.find_spec("sizing.cloud") is None:
    st.info(t("cloud.unavailable"), icon=":material/construction:")
elif request is not None:
    cloud_module = importlib.import_module("sizing.cloud")
    try:
        with st.spinner(t("cloud.working")):
            answer = cloud_module.compare(request, catalog(), budget_usd=budget, users=users,
                                          hours_per_day=hours, currency=currency)
    except (TypeError, AttributeError, *ENGINE_ERRORS) as exc:
        st.error(plain(t("error.engine", message=str(exc))))
    else:
        st.json(answer.model_dump(mode="json") if hasattr(answer, "model_dump") else answer)
