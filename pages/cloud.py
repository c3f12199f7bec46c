"""Cloud: when renting beats buying (the cloud half of the purchase advisor, advisor.cloud)."""

from __future__ import annotations

import pyarrow as pa
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from advisor.cloud import comparison_of
from advisor.results import CloudComparison, CloudOption
from pages._charts import chart_labels, spec_figure
from pages._engine import catalog
from pages._frame import begin_page
from pages._plan import plan_for_inputs, show_engine_notes, show_workload
from pages._state import lang
from pages._text import labeller, plain, t
from report.formats import money_pattern, money_text
from report.plan_charts import break_even_spec, cheapest_cloud, cloud_name

SORTS = ("per_1m", "per_hour", "speed", "break_even")
CLOUD_CODES = frozenset({"plan_cloud_first", "plan_cloud_first_none",  # said by the headline
                         "plan_cloud_first_encoder"})

begin_page("cloud")


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


def speed_of(comparison: CloudComparison, offer: CloudOption) -> float | None:
    """The speed column's figure: an encoder's prefill (input embedded), else per user. [tokens/s]"""
    if comparison.task != "generate":
        return offer.prefill_tokens_per_s
    return offer.decode_tokens_per_s_per_user


def sorted_offers(comparison: CloudComparison, sort: str) -> list[CloudOption]:
    """The offers by ``sort``: the cheapest (or soonest paid back) first, the fastest first
    for speed; offers without the figure (break-even "never") last, ties in the plan's order."""
    first_tier = comparison.tiers[0].tier if comparison.tiers else None
    value = {
        "per_1m": lambda c: c.usd_per_1m_tokens_in_currency,
        "per_hour": lambda c: c.usd_per_hour_in_currency,
        "speed": lambda c: speed_of(comparison, c),
        "break_even": lambda c: (c.break_even_months.get(first_tier) if first_tier
                                 else c.usd_per_1m_tokens_in_currency),
    }[sort]
    sign = -1 if sort == "speed" else 1
    known = [c for c in comparison.cloud if value(c) is not None]
    return (sorted(known, key=lambda c: sign * value(c))
            + [c for c in comparison.cloud if value(c) is None])


def cloud_table(comparison: CloudComparison, offers: list[CloudOption]) -> pa.Table:
    """One row per instance; money in the chosen currency, break-even in months (null: never).

    The cells stay numbers, so a click on a header sorts by value; each number column
    formats its own cells (:func:`number_formats`).
    """
    per_1m, speed = price_speed_columns(comparison)
    number = pa.float64()
    columns = {
        t("cloud.col_instance"): pa.array([cloud_name(c) for c in offers], pa.string()),
        per_1m: pa.array([c.usd_per_1m_tokens_in_currency for c in offers], number),
        t("cloud.col_per_hour"): pa.array([c.usd_per_hour_in_currency for c in offers], number),
        speed: pa.array([speed_of(comparison, c) for c in offers], number),
    }
    if not all(c.meets_workload for c in offers):  # else the caption above says it all
        columns[t("cloud.col_meets")] = pa.array([c.meets_workload for c in offers], pa.bool_())
    for tier in comparison.tiers:
        columns[t("cloud.col_break_even", tier=tier_name(tier.tier))] = pa.array(
            [c.break_even_months.get(tier.tier) for c in offers], number)
    columns[t("cloud.col_quant")] = pa.array([c.quant for c in offers], pa.string())
    return pa.table(columns)


def number_formats(comparison: CloudComparison) -> dict[str, ColumnConfig]:
    """Each number column's format: money as :func:`report.formats.money_text` writes it in
    the chosen currency, speed and months to a tenth; a break-even column says what it is."""
    per_1m, speed = price_speed_columns(comparison)
    money = money_pattern(comparison.currency, digits=2)
    formats = {per_1m: st.column_config.NumberColumn(format=money),
               t("cloud.col_per_hour"): st.column_config.NumberColumn(format=money),
               speed: st.column_config.NumberColumn(format="%,.1f")}
    for tier in comparison.tiers:
        formats[t("cloud.col_break_even", tier=tier_name(tier.tier))] = (
            st.column_config.NumberColumn(
                format="%,.1f", help=t("cloud.break_even_help", tier=tier_name(tier.tier))))
    return formats


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
    sort = st.selectbox(t("cloud.sort"), SORTS, key="w_cloud_sort",
                        format_func=labeller("cloud.sort_"))
    # Only break-even cells are ever empty (renting costs no more per month than the
    # electricity): the placeholder says "never" there.
    st.dataframe(cloud_table(comparison, sorted_offers(comparison, sort)), hide_index=True,
                 key="cloud_table", placeholder=t("cloud.never"),
                 column_config=number_formats(comparison))
    if comparison.tiers:
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
                           labels=chart_labels("plan_chart.", lang()))
    st.plotly_chart(spec_figure(spec), key="break_even_chart")
    st.caption(plain(t("cloud.chart_caption", hours=f"{comparison.hours_per_day:g}",
                       kwh=rate(comparison.electricity_usd_per_kwh, comparison))))


def show_page() -> None:
    """The inputs, then the comparison for them (its results are locals: see
    ``pages/builds.py``'s ``show_page``)."""
    plan_and_inputs = plan_for_inputs(t("cloud.title"), t("cloud.intro"), t("cloud.working"))
    if plan_and_inputs is None:
        return
    planned, plan_args = plan_and_inputs
    answer = comparison_of(planned)
    show_headline(answer)
    show_workload(planned, plan_args)
    show_table(answer)
    show_chart(answer)


show_page()
