"""Configurator: will the model fit on this GPU, and which GPUs would fit it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._common import (ENGINE_ERRORS, begin_page, bind, catalog, engine_text, field, fmt, gib,
                           group_of, labeller, memory_figure, plain, price_usd, run_estimate,
                           run_every_gpu, run_fit, scenario_inputs, section, store, t)
from report.charts import power_limit_figure
from sizing.units import bytes_to_gib

begin_page("configurator")
st.title(t("config.title"))
st.caption(t("config.intro"))
request, arch = scenario_inputs()
budget = store("budget_usd", float(st.sidebar.number_input(
    t("inputs.budget_usd"), min_value=0.0, max_value=10_000_000.0, step=100.0,
    key=bind("budget_usd"))))

result = fit = None
if request is not None:
    try:
        result = run_estimate(request, arch)
        fit = run_fit(request, arch)
    except ENGINE_ERRORS as exc:
        st.error(plain(t("error.engine", message=str(exc))))

if result is not None and fit is not None:
    mem = result.memory
    count = f" × {result.gpu_count}" if result.gpu_count > 1 else ""
    st.subheader(plain(t("config.scenario", model=result.model.name, gpu=result.gpu_name + count,
                         quant=result.quant, runtime=result.runtime)))
    if mem.verdict == "fits":
        st.success(t("verdict.fits", headroom=gib(mem.headroom_bytes)), icon=":material/check_circle:")
    elif mem.verdict == "fits-with-offload":
        st.warning(t("verdict.offload", gpu_layers=mem.gpu_layers, layers=mem.num_layers,
                     offloaded=gib(mem.offloaded_bytes)), icon=":material/warning:")
    else:
        st.error(t("verdict.no_fit", short=gib(-mem.headroom_bytes)), icon=":material/block:")
    cols = st.columns(4)
    cols[0].metric(t("config.needed"), gib(mem.total_bytes))
    cols[1].metric(t("config.usable"), gib(mem.usable_bytes))
    cols[2].metric(t("config.max_context"), f"{fit.max_context_tokens:,}"
                   if fit.max_context_tokens else t("config.none"))
    cols[3].metric(t("config.best_quant"), fit.best_quant or t("config.none"))
    st.plotly_chart(memory_figure(result), key="memory_chart")

    speed = section(result, "speed")
    if speed is not None:
        st.subheader(t("speed.header"))
        c = st.columns(4)
        c[0].metric(t("speed.decode"), fmt(field(speed, "decode_tokens_per_s"), "{:,.1f} tok/s"),
                    help=t("speed.range", low=fmt(field(speed, "decode_tokens_per_s_low")),
                           high=fmt(field(speed, "decode_tokens_per_s_high"))))
        c[1].metric(t("speed.prefill"), fmt(field(speed, "prefill_tokens_per_s"), "{:,.0f} tok/s"),
                    help=t("speed.range", low=fmt(field(speed, "prefill_tokens_per_s_low"), "{:,.0f}"),
                           high=fmt(field(speed, "prefill_tokens_per_s_high"), "{:,.0f}")))
        c[2].metric(t("speed.ttft"), fmt(field(speed, "ttft_s"), "{:,.2f} s"))
        c[3].metric(t("speed.total"), fmt(field(speed, "total_time_s"), "{:,.1f} s"))
    power, thermal, load = (section(result, n) for n in ("power", "thermal", "load"))
    if power is not None or thermal is not None or load is not None:
        st.subheader(t("power.header"))
        c = st.columns(4)
        c[0].metric(t("power.gpu"), fmt(field(power, "gpu_power_w"), "{:,.0f} W"))
        c[1].metric(t("power.system"), fmt(field(power, "system_power_w"), "{:,.0f} W"))
        c[2].metric(t("power.psu"), fmt(field(power, "psu_recommended_w"), "{:,.0f} W"))
        c[3].metric(t("power.energy"), fmt(field(power, "energy_wh_per_1k_tokens"), "{:,.2f} Wh"))
        c = st.columns(4)
        c[0].metric(t("power.cost"), fmt(field(power, "cost_usd_per_1m_tokens"), "${:,.2f}"))
        c[1].metric(t("thermal.temp"), fmt(field(thermal, "gpu_temp_c"), "{:,.0f} °C"))
        risk = field(thermal, "throttle_risk")
        c[2].metric(t("thermal.risk"), t(f"builds.risk_{risk}") if risk else "—")
        c[3].metric(t("thermal.heat"), fmt(field(thermal, "heat_btu_per_hour"), "{:,.0f} BTU/h"))
        c = st.columns(4)
        if load is not None:
            c[0].metric(t("load.time"), fmt(field(load, "load_time_s"), "{:,.1f} s"))
        curve = field(power, "power_limit_curve") or []
        if curve:
            sweet = field(power, "power_limit_sweet_spot_w")
            c[1].metric(t("power.sweet_spot"), fmt(sweet, "{:,.0f} W"), help=t("power.sweet_spot_help"))
            with st.expander(t("power.curve_title")):
                st.plotly_chart(power_limit_figure(
                    curve, sweet_spot_w=sweet, title=t("power.curve_title"),
                    speed_label=t("power.curve_speed"), power_label=t("power.curve_power"),
                    cap_label=t("power.curve_cap")), key="power_limit_chart")
    for warning in result.notices or result.warnings:
        st.info(plain(engine_text(warning)))

    st.subheader(t("table.header"))
    with st.spinner(t("table.working")):
        everyone = run_every_gpu(request, arch)
    gpus = {g.id: g for g in catalog().gpus}
    rows = []
    for other in everyone:
        if other.memory.verdict != "fits":
            continue
        gpu = gpus[other.gpu_id]
        price = price_usd(gpu)
        row = {
            t("table.gpu"): gpu.name,
            t("table.group"): group_of(gpu),
            t("table.memory"): round(gpu.memory_gib * other.gpu_count, 1),
            t("table.headroom"): round(bytes_to_gib(other.memory.headroom_bytes), 1),
            t("table.price"): price,
            t("table.in_budget"): price is not None and price * other.gpu_count <= budget,
        }
        other_speed = section(other, "speed")
        if other_speed is not None:
            row[t("table.decode")] = field(other_speed, "decode_tokens_per_s")
        rows.append(row)
    sort_key = store("sort", st.selectbox(
        t("table.sort"), ["headroom", "price", "memory"], key=bind("sort"),
        format_func=labeller("table.sort_")))
    column = {"headroom": t("table.headroom"), "price": t("table.price"),
              "memory": t("table.memory")}[sort_key]
    st.caption(t("table.count", fitting=len(rows), total=len(everyone)))
    if rows:
        frame = pd.DataFrame(rows).sort_values(column, ascending=sort_key == "price",
                                               na_position="last")
        st.dataframe(frame, hide_index=True, key="fit_table", column_config={
            t("table.price"): st.column_config.NumberColumn(format="$%.0f"),
            t("table.memory"): st.column_config.NumberColumn(format="%.1f GiB"),
            t("table.headroom"): st.column_config.NumberColumn(format="%.1f GiB"),
        })
    else:
        st.info(t("table.empty"))
