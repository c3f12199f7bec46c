"""Fine-tune: will the sidebar's model train on its GPUs, how long, and is renting cheaper."""

from __future__ import annotations

from typing import Any

import streamlit as st

from advisor.finetune import FinetuneCost, FinetuneResult, finetune_plan
from catalog.errors import UserError
from catalog.schema import ModelArch
from pages._engine import catalog
from pages._frame import begin_page
from pages._inputs import money_terms, scenario_inputs
from pages._state import (FINETUNE_CHOICE_FIELDS, FINETUNE_MORE_FIELDS, PARAMS, bind, lang, state,
                          store, widget_key)
from pages._text import labeller, plain, show_user_error, t
from report.finetune_charts import memory_breakdown_figure
from report.formats import duration_text, gib_text, number_text, usd_in_currency_text
from report.text import group_strings, translate_notice
from sizing.finetune_request import CHOICES, model_fields_of, parse_finetune_request
from sizing.request import EstimateRequest, resolve_model

# Choices whose options are shown translated (the others are library names).
OPTION_LABELS = {"method": "method_", "lora_targets": "targets_", "gradient_checkpointing": "ckpt_",
                 "loss": "loss_", "precision": "precision_", "offload": "offload_"}

def choice(container, name: str) -> str:
    prefix = OPTION_LABELS.get(name)
    options = list(CHOICES[name])
    value = container.selectbox(t(f"finetune.{name}"), options, key=bind(name),
                                format_func=labeller(f"finetune.{prefix}") if prefix else str)
    return store(name, value)


def number(container, name: str, *, step: float, whole: bool = True, label: str = "") -> float:
    """A widget for a setup number, within the bounds its link parameter takes."""
    limit = PARAMS[name].limit
    kind = int if whole else float
    value = container.number_input(t(f"finetune.{label or name}"),
                                   min_value=kind(1 if whole else 0.001),
                                   max_value=kind(limit.high), step=kind(step), key=bind(name),
                                   **({} if whole else {"format": "%g"}))
    return store(name, int(value) if whole else float(value))


def setup_inputs() -> tuple[dict[str, Any], dict[str, Any], float]:
    """The training setup's widgets: the setup's own fields, the other fields the request
    takes (dataset_tokens, frozen_layers, system_ram_gib), and the system RAM. [GiB]"""
    top = st.columns(5)
    setup = {name: choice(col, name) for col, name in zip(top, FINETUNE_CHOICE_FIELDS)}
    low = st.columns(6)
    setup |= {name: number(col, name, step=step, whole=name != "epochs")
              for col, (name, step) in zip(low, (("lora_rank", 8), ("seq_len", 512), ("micro_batch", 1),
                                                 ("grad_accum", 1), ("epochs", 1.0)))}
    dataset_mtokens = number(low[5], "dataset_mtokens", step=1.0, whole=False, label="dataset_tokens")
    with st.expander(t("finetune.more")):
        more = st.columns(4)
        setup |= {name: choice(col, name) for col, name in zip(more, FINETUNE_MORE_FIELDS)}
        setup["dora"] = store("dora", "on" if more[3].checkbox(
            t("finetune.dora"), value=state()["dora"] == "on", key=widget_key("dora"),
            help=t("finetune.dora_help")) else "off") == "on"
        extra = st.columns(4)
        full = setup["method"] == "full"
        frozen_layers = store("frozen_layers", int(extra[0].number_input(
            t("finetune.frozen_layers"), min_value=0, max_value=int(PARAMS["frozen_layers"].high),
            step=1, key=bind("frozen_layers"), disabled=not full,
            help=t("finetune.frozen_layers_help"))))
        # The machine's system RAM, the same figure What can I run uses for offload.
        ram_gib = store("ram_gib", float(extra[1].number_input(
            t("fits.ram_gib"), min_value=PARAMS["ram_gib"].low, max_value=PARAMS["ram_gib"].high,
            step=8.0, key=bind("ram_gib"), help=t("finetune.ram_gib_help"))))
    fields = {"dataset_tokens": dataset_mtokens * 1e6, "frozen_layers": frozen_layers if full else 0,
              "system_ram_gib": ram_gib or None}
    return setup, fields, ram_gib


def run(request: EstimateRequest, sidebar_arch: ModelArch | None, setup: dict[str, Any],
        fields: dict[str, Any]) -> FinetuneResult:
    cat = catalog()
    arch = sidebar_arch or resolve_model(request, cat)[0]
    data = {**model_fields_of(request, arch), **setup,
            "gpu": request.gpu, "gpu_count": request.gpu_count, **fields,
            "electricity_usd_per_kwh": money_terms().electricity_usd_per_kwh}
    return finetune_plan(parse_finetune_request(data), cat, arch=arch)


def show_result(result: FinetuneResult, ram_gib: float) -> None:
    """Whether the setup fits, its memory, time and what fits at most."""
    memory, time, fit = result.memory, result.time, result.fit
    st.subheader(t("finetune.scenario", model=plain(result.model.name), count=result.gpu_count,
                   gpu=plain(result.gpu_name), method=t(f"finetune.method_{result.setup['method']}")))
    sizes = {"total": gib_text(memory.total_bytes), "usable": gib_text(memory.usable_bytes)}
    if memory.fits:
        st.success(t("finetune.fits", **sizes), icon=":material/check_circle:")
    else:
        st.error(t("finetune.does_not_fit", **sizes), icon=":material/block:")
    if memory.host_bytes:
        st.caption(t("finetune.host", gib=gib_text(memory.host_bytes)))
    if memory.system_ram_fits is False:
        st.warning(t("finetune.host_short", ram=f"{ram_gib:g}"), icon=":material/memory:")
    for notice in result.warnings:
        st.caption(plain(translate_notice(notice, lang())))
    st.plotly_chart(memory_breakdown_figure(result, labels=group_strings("finetune_chart.", lang())),
                    key="finetune_memory_chart")

    metrics = st.columns(4)
    metrics[0].metric(t("finetune.trainable"),
                      t("finetune.trainable_value", millions=number_text(memory.trainable_params / 1e6)))
    metrics[1].metric(t("finetune.step"), f"{number_text(time.step_s, 2)} s",
                      help=t("finetune.step_help", low=number_text(time.step_s_low, 2),
                             high=number_text(time.step_s_high, 2)))
    metrics[2].metric(t("finetune.throughput"), number_text(time.tokens_per_s, 0))
    metrics[3].metric(t("finetune.dataset_time"), duration_text(time.total_s, lang()),
                      help=t("finetune.dataset_time_help", steps=f"{time.steps or 0:,}"))

    st.subheader(t("finetune.fit_title"))
    fits = st.columns(3)
    fits[0].metric(t("finetune.max_micro_batch", seq=f"{result.setup['seq_len']:,}"),
                   f"{fit.max_micro_batch:,}")
    fits[1].metric(t("finetune.max_seq_len", batch=result.setup["micro_batch"]), f"{fit.max_seq_len:,}")
    fits[2].metric(t("finetune.cheapest"), t(f"finetune.method_{fit.cheapest_method}")
                   if fit.cheapest_method else t("finetune.none"))
    if result.remedies:
        st.markdown(f"**{t('finetune.remedies_title')}**")
        st.markdown("\n".join(
            f"{i}. " + plain(t("finetune.remedy", change=" ".join(translate_notice(n, lang())
                                                      for n in r.notices),
                               total=gib_text(r.total_bytes)))
            for i, r in enumerate(result.remedies, start=1)))


def show_cost(cost: FinetuneCost) -> None:
    """Training here or in the cloud, in the chosen currency."""
    st.subheader(t("finetune.cost_title"))
    terms = money_terms()

    def money(usd: float | None) -> str:
        return usd_in_currency_text(usd, terms.currency, terms.units_per_usd, digits=2, lang=lang())

    costs = st.columns(2)
    costs[0].metric(t("finetune.local"), money(cost.local_usd) if cost.local_usd is not None
                    else t("finetune.local_none"))
    costs[1].metric(t("finetune.cloud"), money(cost.cloud_usd_best) if cost.cloud_usd_best is not None
                    else t("finetune.cloud_none"))
    if cost.cloud_usd_best is not None:
        st.caption(plain(t("finetune.cloud_detail", provider=cost.cloud_provider,
                           instance=cost.cloud_instance, gpus=cost.cloud_gpus,
                           time=duration_text(cost.cloud_total_s, lang()), as_of=cost.cloud_as_of)))
    if cost.verdict != "unknown":
        st.info(t(f"finetune.verdict_{cost.verdict}"), icon=":material/savings:")
    if cost.runs_to_pay_back is not None:
        st.caption(t("finetune.pay_back", price=money(cost.buy_usd),
                     runs=f"{cost.runs_to_pay_back:,.0f}"))
    st.caption(t("finetune.method_note"))


def show_page() -> None:
    """The scenario, the training setup, and whether and at what cost it trains.

    The answer lives in this function's locals and is freed when it returns (see
    ``pages/builds.py``'s ``show_page``).
    """
    st.title(t("finetune.title"))
    st.caption(t("finetune.intro"))
    request, sidebar_arch = scenario_inputs()
    setup, fields, ram_gib = setup_inputs()
    if request is None:
        st.stop()
    try:
        with st.spinner(t("finetune.title")):
            result = run(request, sidebar_arch, setup, fields)
    except UserError as exc:
        show_user_error(exc)
        st.stop()
    show_result(result, ram_gib)
    show_cost(result.cost)


begin_page("finetune")
show_page()
