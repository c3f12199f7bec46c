"""Serve: how many of a team's users the sidebar's machine serves within latency targets."""

from __future__ import annotations

import streamlit as st

from catalog.errors import UserError
from pages._engine import run_serve
from pages._frame import begin_page
from pages._inputs import scenario_inputs
from pages._state import PARAMS, lang, state, store, widget_key
from pages._text import plain, show_user_error, t
from report.formats import money_text
from report.serve_charts import latency_figure, throughput_figure
from report.text import group_strings
from sizing.capacity import ServeSettings

begin_page("serve")
st.title(t("serve.title"))
st.caption(t("serve.intro"))
request, arch = scenario_inputs()


def number(container, name: str, *, step: float, whole: bool = False) -> float:
    """A widget for a serving input, within the bounds its link parameter takes.

    A latency target left at the engine's default stays out of the configuration
    (and the link), so Builds and Cloud size by a service level only when one is set.
    """
    limit = PARAMS[name].limit
    default = ServeSettings.model_fields[name].default
    key = widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = default if state()[name] == "" else state()[name]
    value = container.number_input(t(f"serve.{name}"), min_value=1 if whole else 0.0,
                                   max_value=limit.high, step=step, key=key,
                                   help=t(f"serve.{name}_help"),
                                   **({} if whole else {"format": "%g"}))
    value = int(value) if whole else float(value)
    store(name, "" if state()[name] == "" and value == default else value)
    return value


cols = st.columns(5)
settings_data = {name: number(col, name, step=step, whole=name == "users")
                 for col, (name, step) in zip(cols, (("users", 1), ("think_time_s", 5.0),
                                                     ("ttft_p95_s", 0.5), ("itl_p95_ms", 10.0),
                                                     ("prefix_hit_frac", 0.1)))}
if request is None:
    st.stop()
try:
    with st.spinner(t("serve.working")):
        result = run_serve(request, arch, ServeSettings(**settings_data))
except UserError as exc:
    show_user_error(exc)
    st.stop()

st.subheader(t("serve.scenario", model=plain(result.model_name), count=result.gpu_count,
               gpu=plain(result.gpu_name), quant=result.quant, runtime=result.runtime))
top = st.columns(4)
top[0].metric(t("serve.users_at_target"), f"{result.max_users_at_target:,}",
              help=t("serve.users_at_target_help", ttft=f"{result.target_ttft_p95_s:g}",
                     itl=f"{result.target_itl_p95_ms:g}", think=f"{result.think_time_s:g}"))
top[1].metric(t("serve.throughput", users=result.users), f"{result.throughput_tokens_per_s:,.0f}")
top[2].metric(t("serve.limiter"), t(f"serve.limiter_{result.limiter}"))
top[3].metric(t("serve.cost"), "-" if result.cost_usd_per_1m_tokens is None
              else money_text(result.cost_usd_per_1m_tokens, "USD", digits=3),
              help=t("serve.cost_help", watts=f"{result.system_power_w:.0f}",
                     kwh=f"{result.usd_per_kwh:g}"))
low = st.columns(3)
low[0].metric(t("serve.ttft"), f"{result.ttft_p50_s:.2f} / {result.ttft_p95_s:.2f} s")
low[1].metric(t("serve.itl"), f"{result.itl_p50_ms:.1f} / {result.itl_p95_ms:.1f} ms")
low[2].metric(t("serve.knee"), f"{result.knee_concurrency:,}")
(st.success if result.meets_target else st.warning)(
    t("serve.meets" if result.meets_target else "serve.misses", users=result.users))
st.caption(t("serve.pool", tokens=f"{result.kv_pool_tokens:,}", requests=result.kv_pool_requests)
           if result.kv_pool_tokens is not None
           else t("serve.slots", slots=result.max_running_requests))
labels = group_strings("serve_chart.", lang())
charts = st.columns(2)
charts[0].plotly_chart(throughput_figure(result, labels=labels), key="serve_throughput_chart")
charts[1].plotly_chart(latency_figure(result, labels=labels), key="serve_latency_chart")
st.caption(t("serve.method"))
