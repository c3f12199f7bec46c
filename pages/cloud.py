"""Cloud: when renting beats buying (the cloud half of the purchase advisor, advisor.cloud)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.cloud import comparison_of
from advisor.results import CloudComparison
from catalog.errors import UserError
from pages._charts import spec_figure
from pages._engine import catalog, run_plan
from pages._frame import begin_page
from pages._inputs import plan_inputs, scenario_inputs
from pages._plan import service_level, show_engine_notes, show_workload
from pages._state import lang
from pages._text import labeller, plain, show_user_error, t
from report.formats import money_text
from report.plan_charts import break_even_spec, cheapest_cloud, cloud_name
from report.text import group_strings

SORTS = ("per_1m", "per_hour", "speed", "break_even")
CLOUD_CODES = frozenset({"plan_cloud_first", "plan_cloud_first_none",  # said by the headline
                         "plan_cloud_first_encoder"})

begin_page("cloud")
st.title(t("cloud.title"))
st.caption(t("cloud.intro"))
request, arch = scenario_inputs()
plan_args = plan_inputs()


def rate(usd: float, comparison: CloudComparison) -> str:
    return money_text(usd * comparison.units_per_usd, comparison.currency, digits=2)


def tier_name(tier: str) -> str:
    return t(f"builds.tier_{tier}")


def show_headline(comparison: CloudComparison) -> None:
    best = next((c for c in comparison.cloud if c.meets_workload), None)
    if comparison.lead_with_cloud:
        key = "builds.cloud_best" if comparison.task == "generate" else "builds.cloud_best_encoder"
        cloud = t(key, instance=best.name,
                  per_hour=rate(best.usd_per_hour, comparison),
                  per_1m=rate(best.usd_per_1m_tokens, comparison)) if best else t("builds.no_cloud")
        st.warning(plain(t("cloud.lead_cloud", message=cloud)), icon=":material/cloud:")
    elif comparison.cloud and comparison.tiers:
        cheapest = cheapest_cloud(comparison.cloud, 1)[0]
        paying = [(cheapest.break_even_months.get(x.tier), i, x.tier)
                  for i, x in enumerate(comparison.tiers)]
        paying = [p for p in paying if p[0] is not None]
        if paying:
            months, _, tier = min(paying)
            st.success(plain(t("cloud.buy_pays", tier=tier_name(tier),
                               months=t("cloud.months", months=f"{months:,.1f}"))),
                       icon=":material/savings:")
        else:
            st.info(t("cloud.buy_never"), icon=":material/cloud:")
    show_engine_notes(comparison.message, said=CLOUD_CODES)


def price_speed_columns(comparison: CloudComparison) -> tuple[str, str]:
    """The price and speed columns' names: an encoder embeds input and generates nothing."""
    if comparison.task != "generate":
        return t("cloud.col_per_1m_input"), t("cloud.col_embed")
    return t("cloud.col_per_1m"), t("cloud.col_speed")


def cloud_table(comparison: CloudComparison) -> pd.DataFrame:
    """One row per instance; money in the chosen currency, break-even in months (None: never)."""
    offers = comparison.cloud
    encoder = comparison.task != "generate"  # embeds input: its prefill and input tokens
    per_1m, speed = price_speed_columns(comparison)
    columns = {
        t("cloud.col_instance"): [cloud_name(c) for c in offers],  # names the GPUs too
        per_1m: [c.usd_per_1m_tokens_in_currency for c in offers],
        t("cloud.col_per_hour"): [c.usd_per_hour_in_currency for c in offers],
        speed: [c.prefill_tokens_per_s if encoder else c.decode_tokens_per_s_per_user
                for c in offers],
    }
    if not all(c.meets_workload for c in offers):  # else the caption above says it all
        columns[t("cloud.col_meets")] = [c.meets_workload for c in offers]
    for tier in comparison.tiers:
        columns[t("cloud.col_break_even", tier=tier_name(tier.tier))] = [
            c.break_even_months.get(tier.tier) for c in offers]
    columns[t("cloud.col_quant")] = [c.quant for c in offers]
    return pd.DataFrame(columns)


def show_offers_source() -> None:
    """Which offers are priced: the gpuhunt snapshot and its date, or the reviewed list."""
    source = catalog().market.offers_source
    if source is not None:
        st.caption(t(f"cloud_offers.page_{source.kind}", date=source.as_of.isoformat(),
                     version=source.gpuhunt_version or ""))


def show_table(comparison: CloudComparison) -> None:
    st.subheader(t("cloud.table_header"))
    show_offers_source()
    if not comparison.cloud:
        st.info(t("cloud.none"))
        return
    st.caption(t("cloud.count", count=len(comparison.cloud),
                 meets=sum(c.meets_workload for c in comparison.cloud)))
    frame = cloud_table(comparison)
    code = comparison.currency
    break_even = [t("cloud.col_break_even", tier=tier_name(x.tier)) for x in comparison.tiers]
    sort = st.selectbox(t("cloud.sort"), SORTS, key="w_cloud_sort",
                        format_func=labeller("cloud.sort_"))
    per_1m, speed = price_speed_columns(comparison)
    column, ascending = {
        "per_1m": (per_1m, True),
        "per_hour": (t("cloud.col_per_hour"), True),
        "speed": (speed, False),
        "break_even": (break_even[0] if break_even else per_1m, True),
    }[sort]
    frame = frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    # Money through the one formatter, in the chosen currency; the cells stay numbers,
    # so a click on a header still sorts by value.
    styled = frame.style.format(
        lambda v: money_text(v, code, digits=2),
        subset=[t("cloud.col_per_hour"), per_1m]).format(
        "{:,.1f}", subset=[speed]).format(
        "{:,.1f}", subset=break_even, na_rep=t("cloud.never"))
    help_text = {name: t("cloud.break_even_help", tier=tier_name(x.tier))
                 for name, x in zip(break_even, comparison.tiers)}
    st.dataframe(styled, hide_index=True, key="cloud_table", column_config={
        name: st.column_config.Column(help=text) for name, text in help_text.items()})
    if break_even:
        st.caption(t("cloud.break_even_note"))
    if any(None in c.break_even_months.values() for c in comparison.cloud):
        st.caption(t("cloud.never_note"))


def show_chart(comparison: CloudComparison) -> None:
    st.subheader(t("cloud.chart_header"))
    if not comparison.tiers or not comparison.cloud:
        st.info(t("cloud.no_tiers"))
        return
    spec = break_even_spec(comparison.cloud, currency=comparison.currency,
                           units_per_usd=comparison.units_per_usd,
                           labels=group_strings("plan_chart.", lang()))
    st.plotly_chart(spec_figure(spec), key="break_even_chart")
    st.caption(plain(t("cloud.chart_caption", hours=f"{comparison.hours_per_day:g}",
                       kwh=rate(comparison.electricity_usd_per_kwh, comparison))))


if request is not None:
    try:
        with st.spinner(t("cloud.working")):
            planned = run_plan(request, arch, **plan_args, service=service_level())
    except UserError as exc:
        show_user_error(exc)
    else:
        answer = comparison_of(planned)
        show_headline(answer)
        show_workload(planned, plan_args)
        show_table(answer)
        show_chart(answer)
