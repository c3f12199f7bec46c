"""Compare GPUs: memory, speed and value across a chosen set of cards."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from catalog.errors import UserError
from catalog.schema import Gpu
from pages._charts import GROUP_COLOURS, NEEDED_COLOUR, style
from pages._engine import catalog, price_usd, run_every_gpu
from pages._frame import begin_page
from pages._inputs import scenario_inputs
from pages._state import MAX_COMPARE, bind, store
from pages._text import group_of, plain, show_user_error, t
from sizing.estimate import Estimate
from sizing.units import bytes_to_gib


def bar(labels: list[str], values: list, colours: list[str], *, title: str, axis: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colours))
    fig.update_layout(title=title, yaxis_title=axis)
    return style(fig)


def show_charts(results: list[Estimate], gpus: dict[str, Gpu]) -> None:
    labels = [r.gpu_name for r in results]
    groups = [group_of(gpus[r.gpu_id]) for r in results]
    colours = {t(key): colour for key, colour in GROUP_COLOURS.items()}
    bar_colours = [colours[g] for g in groups]

    memory = go.Figure()
    memory.add_bar(x=labels, y=[bytes_to_gib(r.memory.total_bytes) for r in results],
                   name=t("chart.needed"), marker_color=NEEDED_COLOUR)
    memory.add_bar(x=labels, y=[bytes_to_gib(r.memory.usable_bytes) for r in results],
                   name=t("compare.capacity"), marker_color=bar_colours)
    memory.update_layout(barmode="group", title=t("compare.memory_title"),
                         yaxis_title=t("chart.gib_axis"))
    st.plotly_chart(style(memory), key="compare_memory")

    prices = [price_usd(gpus[r.gpu_id]) for r in results]
    if any(r.speed is not None for r in results):
        decode = [r.speed.decode_tokens_per_s if r.speed else None for r in results]
        low = [r.speed.decode_tokens_per_s_low if r.speed else None for r in results]
        high = [r.speed.decode_tokens_per_s_high if r.speed else None for r in results]
        fig = go.Figure()
        fig.add_bar(x=labels, y=decode, marker_color=bar_colours,
                    error_y={"type": "data", "symmetric": False,
                             "array": [(h or d or 0) - (d or 0) for d, h in zip(decode, high)],
                             "arrayminus": [(d or 0) - (lo or d or 0) for d, lo in zip(decode, low)]})
        fig.update_layout(title=t("compare.speed_title"), yaxis_title="tok/s")
        st.plotly_chart(style(fig), key="compare_speed")

        per_dollar = [d / (p * r.gpu_count) if d and p else None
                      for d, p, r in zip(decode, prices, results)]
        per_watt = [d / r.power.gpu_power_w if d and r.power.gpu_power_w else None
                    for d, r in zip(decode, results)]
        left, right = st.columns(2)
        left.plotly_chart(bar(labels, per_dollar, bar_colours, title=t("compare.per_dollar_title"),
                              axis=t("compare.per_dollar")), key="compare_per_dollar")
        right.plotly_chart(bar(labels, per_watt, bar_colours, title=t("compare.per_watt_title"),
                               axis=t("compare.per_watt")), key="compare_per_watt")
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
        scatter.add_scatter(x=[prices[i] for i in idx], y=[y_values[i] for i in idx],
                            mode="markers+text", text=[labels[i] for i in idx],
                            textposition="top center", name=group,
                            marker={"size": 12, "color": colour})
    scatter.update_layout(title=t("compare.price_title"), xaxis_title=t("compare.price_axis"),
                          yaxis_title=y_title)
    st.plotly_chart(style(scatter, height=420), key="compare_price")


begin_page("compare")
st.title(t("compare.title"))
st.caption(t("compare.intro"))
request, arch = scenario_inputs()
cat = catalog()
names = {g.id: g.name for g in cat.gpus}
chosen = store("compare", st.multiselect(
    t("compare.gpus"), [g.id for g in cat.gpus], key=bind("compare"),
    format_func=lambda gid: names[gid], max_selections=MAX_COMPARE))

results: list[Estimate] = []
if request is not None and chosen:
    try:
        results = run_every_gpu(request, arch, chosen)
    except UserError as exc:
        show_user_error(exc)
    skipped = [names[g] for g in chosen if g not in {r.gpu_id for r in results}]
    if skipped:
        st.info(plain(t("compare.skipped", gpus=", ".join(skipped), runtime=request.runtime)))
elif not chosen:
    st.info(t("compare.pick"))

if results:
    show_charts(results, {g.id: g for g in cat.gpus})
