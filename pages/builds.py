"""Builds: what to buy for a budget (the purchase advisor, advisor.plan)."""

from __future__ import annotations

import pyarrow as pa
import streamlit as st

from advisor.own_prices import OWN_PRICE_SOURCE
from advisor.results import PlanResult, TierBuild
from advisor.tiers import throughput_tokens_per_s
from pages._charts import chart_labels, spec_figure
from pages._frame import begin_page
from pages._plan import plan_for_inputs, show_engine_notes, show_workload
from pages._state import lang
from pages._text import engine_text, plain, t
from report.formats import gib_text, money_text, pattern_text
from report.plan_charts import build_key, per_user_band, value_spec

CARDS_PER_SEGMENT = 4  # rows of each group in the consumer-vs-professional table
# Advisor sentences the page's headline and metrics already say in the chosen currency.
HEADLINE_CODES = frozenset({"plan_meets", "plan_over_budget", "plan_cloud_first",
                            "plan_cloud_first_none", "plan_holds_encoder",
                            "plan_over_budget_encoder", "plan_cloud_first_encoder"})
CVP_CODES = frozenset({"cvp_both", "cvp_both_encoder", "cvp_only_consumer",
                       "cvp_only_professional"})

begin_page("builds")


def money(usd: float, result: PlanResult) -> str:
    return money_text(usd * result.units_per_usd, result.currency, lang=lang())


def tier_name(tier: str) -> str:
    return t(f"builds.tier_{tier}")


def build_line(b: TierBuild) -> str:
    key = "builds.build_line_used" if b.gpu_used else "builds.build_line"
    return t(key, count=b.gpu_count, gpu=b.gpu_name, quant=b.quant, runtime=b.runtime)


def encoder(result: PlanResult) -> bool:
    """An embedding or reranking model: it holds the model and embeds input, generating nothing."""
    return result.task != "generate"


def speed_value(b: TierBuild) -> str:
    """A build's speed: decode per user, or the input tokens an encoder embeds per second."""
    if b.task != "generate":
        return t("builds.embed_value", value=pattern_text(b.prefill_tokens_per_s, "{:,.0f}"))
    return pattern_text(b.decode_tokens_per_s_per_user, "{:,.1f} tokens/s")


def reason(b: TierBuild, result: PlanResult, *, role: str) -> str:
    """The tier's one-line reason in the plan's currency (the engine's ``b.reason`` quotes USD)."""
    over = money(b.total_usd - (result.budget_usd or 0.0), result)
    if role == "within_budget":
        return t("builds.reason_within_budget", need=f"{result.min_tokens_per_s:g}")
    if role == "budget":
        return t("builds.reason_budget_over", over=over) if b.stretch else t("builds.reason_budget")
    if role == "balanced":
        key = "builds.reason_balanced_encoder" if encoder(result) else "builds.reason_balanced"
        return t(key, currency=result.currency,
                 value=f"{(b.tokens_per_s_per_kusd or 0) / result.units_per_usd:.1f}")
    if b.stretch:
        # Decode, or an encoder's prefill: what the tiers were ranked by.
        inside = [throughput_tokens_per_s(x) for x in result.tiers if x.within_budget]
        top = max(inside, default=0.0)
        gain = throughput_tokens_per_s(b) / top - 1 if top else 0.0
        return t("builds.reason_workstation_stretch", over=over, gain=f"{gain:.0%}")
    return t("builds.reason_workstation")


def check_line(ok: bool, text: str) -> str:
    """A check as a coloured Material icon and a word: emoji marks need an emoji font."""
    mark = (f":green[:material/check_circle: {t('builds.pass')}]" if ok
            else f":red[:material/cancel: {t('builds.fail')}]")
    return f"{mark} · {plain(text)}"


def show_checks(b: TierBuild, result: PlanResult) -> None:
    c = b.checks
    lines = [
        check_line(c.memory_ok, t("builds.check_memory")),
        check_line(c.pcie_lanes_ok, t("builds.check_lanes", needed=c.pcie_lanes_needed,
                                      available=c.pcie_lanes_available,
                                      widths="/x".join(str(w) for w in c.gpu_lanes_each))),
        check_line(c.slots_ok, t("builds.check_slots", pitch=c.slot_pitch,
                                 width=f"{c.card_slot_width:g}")),
        check_line(c.case_slots_needed <= c.case_slots_available,
                   t("builds.check_case", needed=c.case_slots_needed,
                     available=c.case_slots_available)),
        check_line(c.psu_w_ok, t("builds.check_psu", needed=f"{c.psu_needed_w:,.0f} W",
                                 psu=f"{c.psu_w:,.0f} W")),
        check_line(c.psu_connectors_ok, t("builds.check_connectors", pin8=c.pcie_8pin_needed,
                                          hpwr=c.connector_12v_2x6_needed)),
        check_line(c.wall_circuit_ok, t("builds.check_wall", wall=f"{c.wall_w:,.0f} W",
                                        limit=f"{c.wall_limit_w:,.0f} W")),
        check_line(c.thermal_ok, t("builds.check_thermal")),
    ]
    # One element for the checks and notes, their headings as paragraphs of it: each
    # element costs Streamlit about 0.1 ms a rerun, and looks the same as several.
    blocks = [f"**{t('builds.checks')}**", "  \n".join(lines)]
    notes = [*c.notes, *b.warnings]
    if notes:
        blocks += [f"**{t('builds.notes')}**",
                   "\n".join(f"- {plain(engine_text(n))}" for n in notes)]
    st.markdown("\n\n".join(blocks))


def show_parts(b: TierBuild, result: PlanResult) -> None:
    """The parts as a two-column table (part, price) that wraps inside the card."""
    rows = []
    for p in b.parts:
        notes = [t("builds.part_used")] if p.used else []
        if p.source == OWN_PRICE_SOURCE:
            notes.append(t("builds.own_price"))
        count = f"{p.quantity} × " if p.quantity > 1 else ""
        # The advisor marks a used part "(used)" in English; the note says it in the language.
        name = f"{count}{p.name.removesuffix(' (used)')}" + (f" ({', '.join(notes)})"
                                                               if notes else "")
        rows.append(f"| **{plain(t(f'builds.kind_{p.kind}'))}** {plain(name)} "
                    f"| {plain(money(p.total_usd, result))} |")
    st.markdown("\n".join([f"| {t('builds.parts')} | {t('builds.col_price')} |", "| :-- | --: |",
                           *rows]))


def figure_lines(b: TierBuild) -> list[tuple[str, str]]:
    """A build's key numbers as (label, value), units in the value."""
    temp = pattern_text(b.gpu_temp_c, "{:,.0f} °C")
    full = t("builds.temp_full", temp=pattern_text(b.gpu_temp_full_load_c, "{:,.0f} °C"))
    speeds = ([(t("builds.embed"), pattern_text(b.prefill_tokens_per_s, "{:,.0f} tokens/s"))]
              if b.task != "generate" else
              [(t("builds.decode"), pattern_text(b.decode_tokens_per_s_per_user, "{:,.1f} tokens/s")),
               (t("builds.prefill"), pattern_text(b.prefill_tokens_per_s, "{:,.0f} tokens/s"))])
    return [
        *speeds,
        (t("builds.headroom"), gib_text(b.memory_headroom_bytes)),
        (t("builds.gpu_power"), pattern_text(b.gpu_power_w, "{:,.0f} W")),
        (t("builds.psu"), pattern_text(b.psu_w, "{:,.0f} W")),
        (t("builds.temp"), f"{temp} ({full})"),
        (t("builds.throttle"), t(f"builds.risk_{b.throttle_risk}")),
    ]


def show_build(b: TierBuild, result: PlanResult, *, role: str, same_as: str | None) -> None:
    """One tier as a card: name, price, reason, numbers, parts and checks."""
    with st.container(border=True):
        st.subheader(tier_name(role))
        if b.stretch:
            st.badge(t("builds.stretch_badge"), icon=":material/warning:", color="orange")
        st.metric(t("builds.total"), money(b.total_usd, result))
        st.caption(plain(reason(b, result, role=role)))
        if same_as is not None:
            st.info(t("builds.same_as", tier=same_as), icon=":material/content_copy:")
            return
        st.markdown(plain(build_line(b)))
        # Label and value on one wrapping line: a card is too narrow for metric tiles.
        st.markdown("  \n".join(f"{plain(label)}: **{plain(value)}**"
                                 for label, value in figure_lines(b)))
        low, high = per_user_band(b)
        if low is not None and high is not None:
            st.caption(t("builds.decode_band", low=f"{low:,.1f}", high=f"{high:,.1f}"))
        show_parts(b, result)
        show_checks(b, result)


def show_headline(result: PlanResult) -> None:
    need = f"{result.min_tokens_per_s:g}"
    budget_text = money(result.budget_usd, result) if result.budget_usd is not None else "—"
    # An encoder is sized by memory and embeds input: no per-user speed to reach.
    end = "_encoder" if encoder(result) else ""
    if result.meets_workload_within_budget:
        inside = [b for b in result.tiers if b.within_budget]
        count = len({build_key(b) for b in inside})
        embed = pattern_text(max((b.prefill_tokens_per_s or 0.0 for b in inside), default=None),
                             "{:,.0f}")
        st.success(plain(t(f"builds.meets{end}", count=count, model=result.model_name, need=need,
                           budget=budget_text, embed=embed)), icon=":material/check_circle:")
    else:
        if result.tiers:
            text = t(f"builds.over_budget{end}", budget=budget_text, model=result.model_name,
                     need=need, cheapest=money(min(b.total_usd for b in result.tiers), result))
        else:
            text = t(f"builds.nothing_local{end}", model=result.model_name, need=need)
        best = next((c for c in result.cloud if c.meets_workload), None)
        cloud = t(f"builds.cloud_best{end}", instance=best.name,
                  per_hour=money_text(best.usd_per_hour_in_currency, result.currency, digits=2),
                  per_1m=money_text(best.usd_per_1m_tokens_in_currency, result.currency, digits=2)
                  ) if best else t("builds.no_cloud")
        st.warning(plain(f"{text} {t('builds.lead_cloud', cloud=cloud)}"),
                   icon=":material/cloud:")
    show_engine_notes(result.message, said=HEADLINE_CODES)


def show_tiers(result: PlanResult) -> None:
    cards: list[tuple[str, TierBuild]] = [(b.tier, b) for b in result.tiers]
    if result.within_budget_best is not None:
        cards.append(("within_budget", result.within_budget_best))
    if not cards:
        st.info(t("builds.no_tiers"))
        return
    seen: dict[tuple, str] = {}
    columns = st.columns(max(3, len(cards)))
    for column, (role, b) in zip(columns, cards):
        with column:
            show_build(b, result, role=role, same_as=seen.get(build_key(b)))
        seen.setdefault(build_key(b), tier_name(role))


def show_consumer_vs_pro(result: PlanResult) -> None:
    cvp = result.consumer_vs_pro
    st.subheader(t("builds.cvp_header"))
    c = st.columns(2)
    for column, label, b in ((c[0], t("builds.cvp_consumer"), cvp.consumer),
                             (c[1], t("builds.cvp_pro"), cvp.professional)):
        column.metric(label, money(b.total_usd, result) if b else t("builds.cvp_none"),
                      help=build_line(b) if b else None)
        if b:
            column.caption(plain(f"{build_line(b)} · {speed_value(b)}"))
    if cvp.consumer and cvp.professional:
        diff = cvp.professional.total_usd - cvp.consumer.total_usd
        key = "builds.cvp_difference" if diff >= 0 else "builds.cvp_cheaper"
        st.markdown(plain(t(key, difference=money(abs(diff), result))))
    show_engine_notes(cvp.summary, said=CVP_CODES)
    usable = [v for v in result.gpu_values if v.min_gpus_for_workload is not None] \
        or list(result.gpu_values)
    consumer = [v for v in usable if v.segment == "consumer"][:CARDS_PER_SEGMENT]
    pro = [v for v in usable if v.segment != "consumer"][:CARDS_PER_SEGMENT]
    cards = consumer + pro
    if cards:
        # Built by column, each title looked up once; an Arrow table goes to the browser
        # as it is (a pandas frame or a list of rows is converted to one first).
        used = f" ({t('builds.part_used')})"
        columns = {
            t("builds.col_gpu"): ([v.gpu_name + (used if v.used else "") for v in cards],
                                  pa.string()),
            t("builds.col_segment"): ([t(f"builds.segment_{v.segment}") for v in cards],
                                      pa.string()),
            t("builds.col_card_price"): ([money(v.price_usd, result) for v in cards], pa.string()),
            t("builds.col_memory"): ([f"{v.memory_gib:g} GiB" for v in cards], pa.string()),
            t("builds.col_memory_per_k", currency=result.currency): (
                [round(v.memory_gib_per_kusd / result.units_per_usd, 1) for v in cards],
                pa.float64()),
            t("builds.col_ecc"): ([v.ecc for v in cards], pa.bool_()),
            t("builds.col_power"): ([f"{v.board_power_w:,.0f} W" for v in cards], pa.string()),
            t("builds.col_blower"): ([v.blower for v in cards], pa.bool_()),
            t("builds.col_min_gpus"): ([v.min_gpus_for_workload for v in cards], pa.int64()),
        }
        st.dataframe(pa.table({name: pa.array(values, kind)
                               for name, (values, kind) in columns.items()}),
                     hide_index=True, key="gpu_values")
        # Driver terms are sentences: below the table, where they wrap, once per kind of card.
        terms: dict[str, list[str]] = {}
        for v in cards:
            terms.setdefault(engine_text(v.driver_terms), []).append(v.gpu_name)
        st.caption("\n".join("- " + t("builds.terms_line", gpus=plain(", ".join(dict.fromkeys(names))),
                                       terms=plain(text)) for text, names in terms.items()))


def show_value_chart(result: PlanResult) -> None:
    st.subheader(t("builds.value_header"))
    spec = value_spec(result, labels=chart_labels("plan_chart.", lang()))
    if spec is None:
        st.caption(t("builds.value_too_few"))
    else:  # checked once in tests, not property by property on every rerun
        st.plotly_chart(spec_figure(spec), key="value_chart")


def show_page() -> None:
    """The inputs, then the plan for them.

    The plan lives in this function's locals and is freed when it returns: a page's
    globals and its functions form a reference cycle that only Python's full garbage
    collection frees, which would keep every earlier rerun's plan alive until then.
    """
    planned = plan_for_inputs(t("builds.title"), t("builds.intro"), t("builds.working"))
    if planned is None:
        return
    answer, plan_args = planned
    show_headline(answer)
    show_workload(answer, plan_args)
    show_tiers(answer)
    show_consumer_vs_pro(answer)
    show_value_chart(answer)


show_page()
