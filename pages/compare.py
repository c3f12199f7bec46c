"""Compare GPUs: memory, speed and value across a chosen set of cards."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from pages._common import (begin_page, ENGINE_ERRORS, MAX_COMPARE, bind, catalog, field, group_of, plain,
                           price_usd, run_every_gpu, scenario_inputs, section, store, style, t)
from sizing.units import bytes_to_gib

begin_page("compare")
st.title(t("compare.title"))
st.caption(t("compare.intro"))
request, arch = scenario_inputs()
cat = catalog()
names = {g.id: g.name for g in cat.gpus}
chosen = store("compare", st.multiselect(
    t("compare.gpus"), [g.id for g in cat.gpus], key=bind("compare"),
    format_func=lambda gid: names[gid], max_selections=MAX_COMPARE))

results = []
if request is not None and chosen:
    try:
        results = run_every_gpu(request, arch, chosen)
    except ENGINE_ERRORS as exc:
        st.error(plain(t("error.engine", message=str(exc))))
    skipped = [names[g] for g in chosen if g not in {r.gpu_id for r in results}]
    if skipped:
        st.info(plain(t("compare.skipped", gpus=", ".join(skipped), runtime=request.runtime)))
elif not chosen:
    st.info(t("compare.pick"))

if results:
    gpus = {g.id: g for g in cat.gpus}
    labels = [r.gpu_name for r in results]
    groups = [group_of(gpus[r.gpu_id]) for r in results]
    colours = {t("group.consumer"): "#4C78A8", t("group.professional"): "#F58518",
               t("group.apple"): "#54A24B"}

    memory = go.Figure()
    memory.add_bar(x=labels, y=[bytes_to_gib(r.memory.total_bytes) for r in results],
                   name=t("chart.needed"), marker_color="#E45756")
    memory.add_bar(x=labels, y=[bytes_to_gib(r.memory.usable_bytes) for r in results],
                   name=t("compare.capacity"), marker_color=[colours[g] for g in groups])
    memory.update_layout(barmode="group", title=t("compare.memory_title"),
                         yaxis_title=t("chart.gib_axis"))
    st.plotly_chart(style(memory), key="compare_memory")

    speeds = [section(r, "speed") for r in results]
    if any(s is not None for s in speeds):
        decode = [field(s, "decode_tokens_per_s") for s in speeds]
        low = [field(s, "decode_tokens_per_s_low") for s in speeds]
        high = [field(s, "decode_tokens_per_s_high") for s in speeds]
        fig = go.Figure()
        fig.add_bar(x=labels, y=decode, marker_color=[colours[g] for g in groups],
                    error_y={"type": "data", "symmetric": False,
                             "array": [(h or d or 0) - (d or 0) for d, h in zip(decode, high)],
                             "arrayminus": [(d or 0) - (lo or d or 0) for d, lo in zip(decode, low)]})
        fig.update_layout(title=t("compare.speed_title"), yaxis_title="tok/s")
        st.plotly_chart(style(fig), key="compare_speed")

        prices = [price_usd(gpus[r.gpu_id]) for r in results]
        watts = [field(section(r, "power"), "gpu_power_w") or gpus[r.gpu_id].board_power_w
                 for r in results]
        per_dollar = [d / (p * r.gpu_count) if d and p else None
                      for d, p, r in zip(decode, prices, results)]
        per_watt = [d / w if d and w else None for d, w in zip(decode, watts)]
        left, right = st.columns(2)
        fig = go.Figure(go.Bar(x=labels, y=per_dollar, marker_color=[colours[g] for g in groups]))
        fig.update_layout(title=t("compare.per_dollar_title"), yaxis_title=t("compare.per_dollar"))
        left.plotly_chart(style(fig), key="compare_per_dollar")
        fig = go.Figure(go.Bar(x=labels, y=per_watt, marker_color=[colours[g] for g in groups]))
        fig.update_layout(title=t("compare.per_watt_title"), yaxis_title=t("compare.per_watt"))
        right.plotly_chart(style(fig), key="compare_per_watt")
        y_values, y_title = decode, "tok/s"
    else:
        st.info(t("compare.no_speed"))
        y_values = [bytes_to_gib(r.memory.usable_bytes) for r in results]
        y_title = t("compare.capacity_axis")

    scatter = go.Figure()
    for group, colour in colours.items():
        idx = [i for i, g in enumerate(groups) if g == group]
        if not idx:
            continue
        scatter.add_scatter(x=[price_usd(gpus[results[i].gpu_id]) for i in idx],
                            y=[y_values[i] for i in idx], mode="markers+text",
                            text=[labels[i] for i in idx], textposition="top center",
                            name=group, marker={"size": 12, "color": colour})
    scatter.update_layout(title=t("compare.price_title"), xaxis_title=t("compare.price_axis"),
                          yaxis_title=y_title)
    st.plotly_chart(style(scatter, height=420), key="compare_price")
