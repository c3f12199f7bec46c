"""Serve: how many of a team's users the sidebar's machine serves within latency targets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from catalog.errors import UserError
from pages._engine import catalog, run_serve
from pages._frame import begin_page
from pages._inputs import money_terms, scenario_inputs
from pages._state import PARAMS, SWITCH, bind, lang, state, store, widget_key
from pages._text import labeller, plain, show_user_error, t
from report.formats import usd_in_currency_text
from report.serve_charts import latency_figure, throughput_figure
from report.text import group_strings
from sizing.capacity import ServeSettings, serve_settings
from sizing.speculative import default_speculation
from sizing.workloads import PRESETS


def number(container, name: str, *, step: float, whole: bool = False,
           low: float = 0.0) -> float | None:
    """A widget for a serving input, within the bounds its link parameter takes.

    A latency target left at the engine's default stays out of the configuration
    (and the link), so Builds and Cloud size by a service level only when one is set;
    an arrival rate left empty is None.
    """
    limit = PARAMS[name].limit
    default = ServeSettings.model_fields[name].default
    key = widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = default if state()[name] == "" else state()[name]
    value = container.number_input(t(f"serve.{name}"), min_value=1 if whole else low,
                                   max_value=limit.high, step=step, key=key,
                                   help=t(f"serve.{name}_help"),
                                   **({} if whole else {"format": "%g"}))
    if value is not None:
        value = int(value) if whole else float(value)
    store(name, "" if value is None or (state()[name] == "" and value == default) else value)
    return value


def show_page() -> None:
    """The scenario, the team's traffic and targets, and how many users the machine serves.

    The answer lives in this function's locals and is freed when it returns (see
    ``pages/builds.py``'s ``show_page``).
    """
    st.title(t("serve.title"))
    st.caption(t("serve.intro"))
    request, arch = scenario_inputs()
    cols = st.columns(6)
    settings_data = {name: number(col, name, step=step, whole=name == "users")
                     for col, (name, step) in zip(cols, (("users", 1), ("think_time_s", 5.0),
                                                         ("ttft_p95_s", 0.5), ("itl_p95_ms", 10.0),
                                                         ("prefix_hit_frac", 0.1)))}
    settings_data["requests_per_minute"] = number(cols[5], "requests_per_minute", step=10.0, low=1.0)
    speculation = store("speculative", st.radio(
        t("serve.speculative"), SWITCH, key=bind("speculative"), horizontal=True,
        format_func=labeller("serve.speculative_"), help=t("serve.speculative_help")))
    if request is None:
        st.stop()
    spec = None
    if speculation == "on":
        target = arch or (catalog().model(request.model) if request.model else None)
        workload = state()["workload"]
        spec = default_speculation(target, catalog(), task=workload if workload in PRESETS
                                   else "chat") if target else None
        if spec is None:
            st.info(t("serve.spec_none"), icon=":material/info:")
    try:
        with st.spinner(t("serve.working")):
            result = run_serve(request, arch, serve_settings({**settings_data, "speculative": spec}))
    except UserError as exc:
        show_user_error(exc)
        st.stop()

    st.subheader(t("serve.scenario", model=plain(result.model_name), count=result.gpu_count,
                   gpu=plain(result.gpu_name), quant=result.quant, runtime=result.runtime))
    top = st.columns(4)
    top[0].metric(t("serve.users_at_target"), f"{result.max_users_at_target:,}",
                  help=t("serve.users_at_target_help", ttft=f"{result.target_ttft_p95_s:g}",
                         itl=f"{result.target_itl_p95_ms:g}", think=f"{result.think_time_s:g}"))
    rate = result.requests_per_minute
    top[1].metric(t("serve.throughput", users=result.users) if rate is None
                  else t("serve.throughput_rate", rate=f"{rate:g}"), f"{result.throughput_tokens_per_s:,.0f}")
    top[2].metric(t("serve.limiter"), t(f"serve.limiter_{result.limiter}"))
    # The region's electricity price is in the request (the sidebar); shown in the chosen currency.
    terms = money_terms()
    top[3].metric(t("serve.cost"), usd_in_currency_text(
                      result.cost_usd_per_1m_tokens, terms.currency, terms.units_per_usd, digits=3,
                      lang=lang()),
                  help=t("serve.cost_help", watts=f"{result.system_power_w:.0f}",
                         kwh=usd_in_currency_text(result.usd_per_kwh, terms.currency,
                                                  terms.units_per_usd, digits=3, lang=lang())))
    low = st.columns(3)
    low[0].metric(t("serve.ttft"), f"{result.ttft_p50_s:.2f} / {result.ttft_p95_s:.2f} s")
    low[1].metric(t("serve.itl"), f"{result.itl_p50_ms:.1f} / {result.itl_p95_ms:.1f} ms")
    low[2].metric(t("serve.knee"), f"{result.knee_concurrency:,}")
    (st.success if result.meets_target else st.warning)(
        t("serve.meets" if result.meets_target else "serve.misses", users=result.users) if rate is None
        else t("serve.meets_rate" if result.meets_target else "serve.misses_rate", rate=f"{rate:g}",
               most=result.max_requests_per_minute_at_target))
    st.caption(t("serve.pool", tokens=f"{result.kv_pool_tokens:,}", requests=result.kv_pool_requests)
               if result.kv_pool_tokens is not None
               else t("serve.slots", slots=result.max_running_requests))
    if result.speculative is not None:
        s = result.speculative
        st.caption(t("serve.spec_summary", how=t("serve.spec_mtp") if s.method == "mtp"
                     else t("serve.spec_draft", draft=plain(s.draft_model_id or "")),
                     tokens=s.draft_tokens, acceptance=f"{s.acceptance_frac:.2f}",
                     per_step=f"{s.expected_tokens_per_step:.2f}"))
        st.dataframe(pd.DataFrame([{t("serve.col_batch"): row.batch,
                                    t("serve.col_speedup"): f"{row.speedup:.2f}×",
                                    t("serve.col_band"): f"{row.speedup_low:.2f}–{row.speedup_high:.2f}×"}
                                   for row in s.speedups]), hide_index=True)
    labels = group_strings("serve_chart.", lang())
    charts = st.columns(2)
    charts[0].plotly_chart(throughput_figure(result, labels=labels), key="serve_throughput_chart")
    charts[1].plotly_chart(latency_figure(result, labels=labels), key="serve_latency_chart")
    st.caption(t("serve.method"))


begin_page("serve")
show_page()
