"""Compare GPUs: memory, speed and value across a chosen set of cards.

A table gives each GPU's numbers (verdict, headroom, layers on the GPU, decode
and prefill with their bands, price, tokens/s per 1,000 USD); the charts draw
the same numbers, with offloaded GPUs hatched and labelled, and memory on a
log axis when the capacities span more than an order of magnitude.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from catalog.errors import UserError
from catalog.schema import Gpu
from pages._charts import GROUP_COLOURS, NEEDED_COLOUR, axis_title, figure, layout
from pages._engine import catalog, run_every_gpu
from pages._frame import begin_page
from pages._inputs import money_terms, scenario_inputs
from pages._state import MAX_COMPARE, bind, store
from pages._text import group_of, plain, show_user_error, t
from report.formats import money_pattern
from sizing.estimate import Estimate
from sizing.units import bytes_to_gib

OFFLOAD_PATTERN = "/"  # hatching on the bars of GPUs that keep layers in system RAM
LOG_AXIS_SPREAD = 8.0  # largest / smallest value above which memory is drawn on a log axis
PER_THOUSAND = 1000.0  # value is tokens/s per this many units of the currency
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "x",
           "star", "hexagon", "pentagon", "hourglass", "bowtie")  # MAX_COMPARE of them
GIB_TICKS = tuple(2.0 ** k for k in range(-2, 15))  # 0.25 GiB .. 16 TiB on a log axis


def gpu_label(result: Estimate) -> str:
    """The GPU as the table and the charts name it (with the count when more than one)."""
    return f"{result.gpu_count} × {result.gpu_name}" if result.gpu_count > 1 else result.gpu_name


def offloaded(result: Estimate) -> bool:
    return result.memory.verdict == "fits-with-offload"


def total_price_usd(result: Estimate, gpu: Gpu) -> float | None:
    """Price of every GPU of the scenario. [USD]"""
    price = result.gpu_price_usd  # as configured: a Mac's price is its memory size's
    return price * result.gpu_count if price is not None else None


def in_currency(usd: float | None) -> float | None:
    """Dollars in the session's currency (advisor.region)."""
    return None if usd is None else usd * money_terms().units_per_usd


def per_kilo(tokens_per_s: float | None, price: float | None) -> float | None:
    """Tokens/s per 1,000 of the currency ``price`` is in, spent on GPUs."""
    return tokens_per_s / price * PER_THOUSAND if tokens_per_s and price else None


def band_text(low: float | None, high: float | None, digits: int) -> str | None:
    if low is None or high is None:
        return None
    return f"{low:,.{digits}f}–{high:,.{digits}f}"


def comparison_rows(results: list[Estimate], gpus: dict[str, Gpu]) -> list[dict[str, Any]]:
    """One row of numbers per GPU, the column names in the page's language."""
    rows = []
    code = money_terms().currency
    for r in results:
        mem, s = r.memory, r.speed
        price = in_currency(total_price_usd(r, gpus[r.gpu_id]))
        decode = s.decode_tokens_per_s if s else None
        prefill = s.prefill_tokens_per_s if s else None
        layers = (f"{mem.gpu_layers} / {mem.num_layers}" if mem.verdict != "does-not-fit"
                  else None)  # nothing runs: no layer split to show
        rows.append({
            t("compare.col_gpu"): gpu_label(r),
            t("compare.col_verdict"): t(f"verdict.short_{mem.verdict}"),
            t("compare.col_headroom"): round(bytes_to_gib(mem.headroom_bytes), 1),
            t("compare.col_layers"): layers,
            t("compare.col_decode"): round(decode, 1) if decode else None,
            t("compare.col_decode_band"): band_text(s.decode_tokens_per_s_low,
                                                    s.decode_tokens_per_s_high, 1) if s else None,
            t("compare.col_prefill"): round(prefill) if prefill else None,
            t("compare.col_prefill_band"): band_text(s.prefill_tokens_per_s_low,
                                                     s.prefill_tokens_per_s_high, 0) if s else None,
            t("compare.col_price", currency=code): price,
            t("compare.col_per_kusd", currency=code): (round(per_kilo(decode, price), 2)
                                        if per_kilo(decode, price) else None),
        })
    return rows


def show_table(results: list[Estimate], gpus: dict[str, Gpu]) -> None:
    frame = pd.DataFrame(comparison_rows(results, gpus))
    code = money_terms().currency
    # The columns format their own cells, so they stay numbers (a click on a header sorts
    # by value); a pandas Styler would cost more than the rest of the table.
    st.dataframe(frame, hide_index=True, key="compare_table", column_config={
        t("compare.col_price", currency=code): st.column_config.NumberColumn(
            format=money_pattern(code)),
        t("compare.col_headroom"): st.column_config.NumberColumn(format="%,.1f GiB")})
    if any(offloaded(r) for r in results):
        st.caption(t("compare.offload_note"))


def on_top(data: list[dict[str, Any]], *, title: str, axis: str, height: int = 380,
           **extra: Any) -> go.Figure:
    """A figure in the pages' style with the legend above the plot and room for long
    tick labels.

    A legend below the plot lands on rotated GPU names; above it, next to the
    title's line, it cannot.
    """
    return figure(data, layout(
        height=height, margin={"l": 10, "r": 10, "t": 90, "b": 10},
        title=title, title_place={"y": 0.98, "yanchor": "top", "x": 0.0, "xanchor": "left"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
        xaxis={"automargin": True, "tickangle": -30},
        yaxis=axis_title(axis, automargin=True) | extra.pop("yaxis", {}), **extra))


def speed_figure(results: list[Estimate], values: list[float | None], colours: list[str], *,
                 title: str, axis: str, low: list | None = None,
                 high: list | None = None) -> go.Figure:
    """Bars per GPU; offloaded GPUs hatched, labelled and in a legend entry of their own."""
    labels = [gpu_label(r) for r in results]
    bars = []
    for moved in (False, True):
        keep = [offloaded(r) == moved for r in results]
        if not any(keep) or not any(v for v, k in zip(values, keep) if k):
            continue
        y = [v if k else None for v, k in zip(values, keep)]
        bar: dict[str, Any] = {
            "type": "bar", "x": labels, "y": y,
            "name": t("compare.offloaded" if moved else "compare.on_gpu"),
            "marker": {"color": colours, "pattern": {"shape": OFFLOAD_PATTERN if moved else "",
                                                     "fgcolor": "#222222"}},
        }
        if moved:
            bar["text"] = [t("compare.offload_label", gpu_layers=r.memory.gpu_layers,
                             layers=r.memory.num_layers) if k and v else ""
                           for r, v, k in zip(results, values, keep)]
            bar["textposition"] = "outside"
        if low is not None and high is not None:
            bar["error_y"] = {"type": "data", "symmetric": False,
                              "array": [max((h or 0) - v, 0) if v else 0 for v, h in zip(y, high)],
                              "arrayminus": [max(v - (lo or v), 0) if v else 0
                                             for v, lo in zip(y, low)]}
        bars.append(bar)
    return on_top(bars, title=title, axis=axis, barmode="overlay", showlegend=True)


def memory_chart(results: list[Estimate], colours: list[str]) -> go.Figure:
    labels = [gpu_label(r) for r in results]
    needed = [bytes_to_gib(r.memory.total_bytes) for r in results]
    usable = [bytes_to_gib(r.memory.usable_bytes) for r in results]
    bars = [{"type": "bar", "x": labels, "y": needed, "name": t("chart.needed"),
             "marker": {"color": NEEDED_COLOUR}},
            {"type": "bar", "x": labels, "y": usable, "name": t("compare.capacity"),
             "marker": {"color": colours}}]
    positive = [v for v in needed + usable if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_AXIS_SPREAD
    yaxis: dict[str, Any] = {}
    if log:
        ticks = [v for v in GIB_TICKS if min(positive) / 2 <= v <= max(positive) * 2]
        yaxis = {"type": "log", "tickvals": ticks, "ticktext": [f"{v:g}" for v in ticks],
                 "range": [math.log10(min(positive) / 2), math.log10(max(positive) * 1.3)]}
    return on_top(bars, title=t("compare.memory_title"),
                  axis=t("chart.gib_axis_log" if log else "chart.gib_axis"), barmode="group",
                  yaxis=yaxis)


def price_figure(results: list[Estimate], prices: list[float | None], y_values: list,
                 y_title: str, groups: list[str], bar_colours: list[str]) -> go.Figure:
    """Speed (or capacity) against price: one trace per GPU, in a legend grouped by market.

    Labels next to the points collide when cards cost and run about the same;
    a legend cannot.
    """
    colours = {t(key): colour for key, colour in GROUP_COLOURS.items()}
    order = sorted(range(len(results)), key=lambda i: list(colours).index(groups[i])
                   if groups[i] in colours else len(colours))
    points = [{"type": "scatter", "x": [prices[i]], "y": [y_values[i]], "mode": "markers",
               "name": gpu_label(results[i]), "legendgroup": groups[i],
               "legendgrouptitle": {"text": groups[i]},
               "marker": {"size": 12, "color": bar_colours[i], "symbol": SYMBOLS[n % len(SYMBOLS)],
                          "line": {"width": 1, "color": "#222222"}},
               "hovertemplate": "%{x:,.0f} · %{y:,.1f}<extra>%{fullData.name}</extra>"}
              for n, i in enumerate(order)]
    code = money_terms().currency
    return figure(points, layout(
        height=440, title=t("compare.price_title"),
        xaxis=axis_title(t("compare.price_axis", currency=code), automargin=True),
        yaxis=axis_title(y_title, automargin=True),
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top"}))


def show_charts(results: list[Estimate], gpus: dict[str, Gpu]) -> None:
    groups = [group_of(gpus[r.gpu_id]) for r in results]
    colours = {t(key): colour for key, colour in GROUP_COLOURS.items()}
    bar_colours = [colours.get(g, "#9D9D9D") for g in groups]
    st.plotly_chart(memory_chart(results, bar_colours), key="compare_memory")

    code = money_terms().currency
    prices = [in_currency(total_price_usd(r, gpus[r.gpu_id])) for r in results]
    if any(r.speed is not None for r in results):
        decode = [r.speed.decode_tokens_per_s if r.speed else None for r in results]
        low = [r.speed.decode_tokens_per_s_low if r.speed else None for r in results]
        high = [r.speed.decode_tokens_per_s_high if r.speed else None for r in results]
        st.plotly_chart(speed_figure(results, decode, bar_colours, title=t("compare.speed_title"),
                                     axis="tokens/s", low=low, high=high), key="compare_speed")
        per_dollar = [per_kilo(d, p) for d, p in zip(decode, prices)]
        per_watt = [d / r.power.gpu_power_w if d and r.power.gpu_power_w else None
                    for d, r in zip(decode, results)]
        left, right = st.columns(2)
        left.plotly_chart(speed_figure(results, per_dollar, bar_colours,
                                       title=t("compare.per_dollar_title", currency=code),
                                       axis=t("compare.per_dollar", currency=code)),
                          key="compare_per_dollar")
        right.plotly_chart(speed_figure(results, per_watt, bar_colours,
                                        title=t("compare.per_watt_title"),
                                        axis=t("compare.per_watt")), key="compare_per_watt")
        y_values, y_title = decode, "tokens/s"
    else:
        st.info(t("compare.no_speed"))
        y_values = [bytes_to_gib(r.memory.usable_bytes) for r in results]
        y_title = t("compare.capacity_axis")
    st.plotly_chart(price_figure(results, prices, y_values, y_title, groups, bar_colours),
                    key="compare_price")


def show_page() -> None:
    """The scenario, the GPUs chosen, and their numbers side by side.

    The estimates live in this function's locals and are freed when it returns (see
    ``pages/builds.py``'s ``show_page``).
    """
    st.title(t("compare.title"))
    st.caption(t("compare.intro"))
    request, arch = scenario_inputs()
    cat = catalog()
    names = {g.id: g.name for g in cat.gpus}
    # select_all=False: with Streamlit's "Select N matches" entry, typing "4070 Ti" and
    # pressing Enter added every match (4070 Ti and 4070 Ti SUPER), not the one typed.
    chosen = store("compare", st.multiselect(
        t("compare.gpus"), [g.id for g in cat.gpus], key=bind("compare"),
        format_func=lambda gid: names[gid], max_selections=MAX_COMPARE, select_all=False))

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
        gpus_by_id = {g.id: g for g in cat.gpus}
        show_table(results, gpus_by_id)
        show_charts(results, gpus_by_id)


begin_page("compare")
show_page()
