"""Configurator: will the model fit on this GPU, and which GPUs would fit it."""

from __future__ import annotations

import pyarrow as pa
import streamlit as st

from pages._agent import show_agent, show_vision
from pages._charts import memory_figure, spec_figure
from pages._engine import GpuRow, catalog, run_fit_rows, run_remedies
from pages._frame import begin_page
from pages._inputs import budget_input, money_terms, scenario_estimate
from pages._state import SORTS, bind, store
from pages._text import engine_text, group_key, labeller, plain, t
from report.charts import power_limit_spec
from catalog.errors import UserError
from catalog.schema import ModelArch
from report.formats import MISSING, gib_text, money_pattern, money_text, pattern_text
from sizing.estimate import Estimate
from sizing.request import EstimateRequest
from sizing.units import bytes_to_gib


def money(usd: float | None, *, digits: int = 0) -> str:
    """Dollars in the session's currency."""
    terms = money_terms()
    return money_text(None if usd is None else usd * terms.units_per_usd, terms.currency,
                      digits=digits)


def show_verdict(result: Estimate) -> None:
    mem = result.memory
    count = f" × {result.gpu_count}" if result.gpu_count > 1 else ""
    st.subheader(plain(t("config.scenario", model=result.model.name, gpu=result.gpu_name + count,
                         quant=result.quant, runtime=result.runtime)))
    if mem.verdict == "fits":
        st.success(t("verdict.fits", headroom=gib_text(mem.headroom_bytes)),
                   icon=":material/check_circle:")
    elif mem.verdict == "fits-with-offload":
        st.warning(t("verdict.offload", gpu_layers=mem.gpu_layers, layers=mem.num_layers,
                     offloaded=gib_text(mem.offloaded_bytes)), icon=":material/warning:")
    else:
        st.error(t("verdict.no_fit", short=gib_text(-mem.headroom_bytes)), icon=":material/block:")
    cols = st.columns(4)
    cols[0].metric(t("config.needed"), gib_text(mem.total_bytes))
    cols[1].metric(t("config.usable"), gib_text(mem.usable_bytes))
    cols[2].metric(t("config.max_context"), f"{result.fit.max_context_tokens:,}"
                   if result.fit.max_context_tokens else t("config.max_context_none_offload")
                   if mem.verdict == "fits-with-offload" else t("config.none"))
    cols[3].metric(t("config.best_quant"), result.fit.best_quant or t("config.none"))
    format_name = labeller("quant_format.")
    st.caption(t("config.formats_considered", runtime=result.runtime,
                 formats=", ".join(format_name(f) for f in result.fit.formats_considered)))
    st.plotly_chart(memory_figure(result), key="memory_chart")


def show_remedies(request: EstimateRequest, arch: ModelArch | None, result: Estimate) -> None:
    """What would make a scenario that does not fit entirely on the GPU fit, ranked."""
    if result.memory.fits:
        return
    try:
        remedies = run_remedies(request, arch)
    except UserError:
        return
    if not remedies:
        return
    st.markdown(f"**{t('config.remedies')}**")
    st.caption(t("config.remedies_intro"))
    lines = []
    for number, remedy in enumerate(remedies, start=1):
        extra = []
        if remedy.decode_tokens_per_s:
            extra.append(t("config.remedy_decode",
                           decode=pattern_text(remedy.decode_tokens_per_s, "{:,.1f}")))
        if remedy.price_usd and remedy.code == "remedy_more_gpus":
            extra.append(t("config.remedy_price", price=money(remedy.price_usd)))
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"{number}. {plain(engine_text(remedy))}{plain(tail)}")
    st.markdown("\n".join(lines))


def show_speed(result: Estimate) -> None:
    speed = result.speed
    if speed is None:  # the reason is among the estimate's warnings
        return
    st.subheader(t("speed.header"))
    c = st.columns(4)
    c[0].metric(t("speed.decode"), pattern_text(speed.decode_tokens_per_s, "{:,.1f} tok/s"),
                help=t("speed.range", low=pattern_text(speed.decode_tokens_per_s_low),
                       high=pattern_text(speed.decode_tokens_per_s_high)))
    c[1].metric(t("speed.prefill"), pattern_text(speed.prefill_tokens_per_s, "{:,.0f} tok/s"),
                help=t("speed.range", low=pattern_text(speed.prefill_tokens_per_s_low, "{:,.0f}"),
                       high=pattern_text(speed.prefill_tokens_per_s_high, "{:,.0f}")))
    c[2].metric(t("speed.ttft"), pattern_text(speed.ttft_s, "{:,.2f} s"))
    c[3].metric(t("speed.total"), pattern_text(speed.total_time_s, "{:,.1f} s"))


def show_power(result: Estimate) -> None:
    power, thermal = result.power, result.thermal
    st.subheader(t("power.header"))
    c = st.columns(4)
    c[0].metric(t("power.gpu"), pattern_text(power.gpu_power_w, "{:,.0f} W"))
    c[1].metric(t("power.system"), pattern_text(power.system_power_w, "{:,.0f} W"))
    c[2].metric(t("power.psu"), t("power.psu_built_in") if power.psu_recommended_w is None
                and any(w.code == "psu_built_in" for w in result.warnings)
                else pattern_text(power.psu_recommended_w, "{:,.0f} W"))
    c[3].metric(t("power.energy"), pattern_text(power.energy_wh_per_1k_tokens, "{:,.2f} Wh"))
    c = st.columns(4)
    c[0].metric(t("power.cost"), money(power.cost_usd_per_1m_tokens, digits=2))
    c[1].metric(t("thermal.temp"), pattern_text(thermal.gpu_temp_c, "{:,.0f} °C"))
    c[2].metric(t("thermal.risk"), t(f"builds.risk_{thermal.throttle_risk}"))
    c[3].metric(t("thermal.heat"), pattern_text(thermal.heat_btu_per_hour, "{:,.0f} BTU/h"))
    c = st.columns(4)
    c[0].metric(t("load.time"), pattern_text(result.load.load_time_s, "{:,.1f} s"))
    if power.power_limit_curve:
        sweet = power.power_limit_sweet_spot_w
        c[1].metric(t("power.sweet_spot"), pattern_text(sweet, "{:,.0f} W"),
                    help=t("power.sweet_spot_help"))
        with st.expander(t("power.curve_title")):
            st.plotly_chart(spec_figure(power_limit_spec(
                power.power_limit_curve, sweet_spot_w=sweet, title=t("power.curve_title"),
                speed_label=t("power.curve_speed"), power_label=t("power.curve_power"),
                cap_label=t("power.curve_cap"))), key="power_limit_chart")


def show_fit_table(everyone: list[GpuRow], budget: float) -> None:
    """Every GPU the scenario fits on, sortable."""
    cat = catalog()
    # Headings, groups and the rate looked up once, not once a row.
    head = {key: t(f"table.{key}") for key in ("gpu", "group", "memory", "headroom", "price",
                                               "in_budget", "decode")}
    groups = {key: t(key) for key in {group_key(g) for g in cat.gpus}}
    units_per_usd = money_terms().units_per_usd
    rows = [r for r in everyone if r.fits]
    sort_key = store("sort", st.selectbox(t("table.sort"), SORTS, key=bind("sort"),
                                          format_func=labeller("table.sort_")))
    st.caption(t("table.count", fitting=len(rows), total=len(everyone)))
    if not rows:
        st.info(t("table.empty"))
        return
    speeds = any(r.decode_tokens_per_s is not None for r in rows)  # else no speed model
    rows = _sorted_rows(rows, "price" if sort_key == "speed" and not speeds else sort_key)
    gpus = [cat.gpu(r.gpu_id) for r in rows]
    # Built by column; the cells stay numbers (missing ones null), so a header click sorts
    # by value, and each column formats its own cells as the one formatter would
    # (a pandas Styler costs more than the rest of the page).
    code = money_terms().currency
    columns = {
        head["gpu"]: [g.name for g in gpus],
        head["group"]: [groups[group_key(g)] for g in gpus],
        head["memory"]: [round(r.gpu_memory_gib * r.gpu_count, 1) for r in rows],
        head["headroom"]: [round(bytes_to_gib(r.headroom_bytes), 1) for r in rows],
        head["price"]: [None if r.price_usd is None else r.price_usd * units_per_usd
                        for r in rows],
        head["in_budget"]: [r.price_usd is not None and r.price_usd * r.gpu_count <= budget
                            for r in rows],
    }
    formats = {head["memory"]: "%,.1f GiB", head["headroom"]: "%,.1f GiB",
               head["price"]: money_pattern(code)}
    if speeds:
        columns[head["decode"]] = [r.decode_tokens_per_s for r in rows]
        formats[head["decode"]] = "%,.1f"
    st.dataframe(pa.table(columns), hide_index=True, key="fit_table", placeholder=MISSING,
                 column_config={name: st.column_config.NumberColumn(format=pattern)
                                for name, pattern in formats.items()})


def _sorted_rows(rows: list[GpuRow], sort_key: str) -> list[GpuRow]:
    """The rows by ``sort_key``: the cheapest first, else the most first; rows without the
    value last, ties in catalog order."""
    value = {"price": lambda r: r.price_usd,
             "speed": lambda r: r.decode_tokens_per_s,
             "headroom": lambda r: round(bytes_to_gib(r.headroom_bytes), 1),
             "memory": lambda r: round(r.gpu_memory_gib * r.gpu_count, 1)}[sort_key]
    sign = 1 if sort_key == "price" else -1
    known = [r for r in rows if value(r) is not None]
    return (sorted(known, key=lambda r: sign * value(r))
            + [r for r in rows if value(r) is None])


def show_page() -> None:
    """The scenario, its estimate and the GPUs it fits on.

    The estimate lives in this function's locals and is freed when it returns (see
    ``pages/builds.py``'s ``show_page``).
    """
    st.title(t("config.title"))
    st.caption(t("config.intro"))
    request, arch, result = scenario_estimate()
    budget = budget_input(st.sidebar)
    if result is None:
        return
    show_verdict(result)
    show_remedies(request, arch, result)
    show_speed(result)
    show_vision(result)
    show_agent(request, arch, result)
    show_power(result)
    for warning in result.warnings:
        st.info(plain(engine_text(warning)))
    st.subheader(t("table.header"))
    with st.spinner(t("table.working")):
        everyone = run_fit_rows(request, arch)
    show_fit_table(everyone, budget)


begin_page("configurator")
show_page()
