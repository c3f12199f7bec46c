"""The plan Builds and Cloud show, and what it sized for, said next to the answer."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import streamlit as st

from advisor.results import PlanResult
from catalog.errors import UserError
from sizing.capacity import ServeSettings, serve_settings
from sizing.notices import Notice
from pages._engine import catalog, run_plan
from pages._inputs import plan_inputs, scenario_inputs
from pages._state import state
from pages._text import engine_paragraph, plain, show_user_error, t
from report.formats import money_text


def show_engine_notes(notices: Iterable[Notice], *, said: Collection[str]) -> None:
    """The advisor's sentences as one caption, less those whose codes the page's
    headline has already said in its own words."""
    rest = [n for n in notices if n.code not in said]
    if rest:
        st.caption(plain(engine_paragraph(rest)))


def service_level() -> ServeSettings | None:
    """The service level a link or the Serve page set (a latency target), else None:
    Builds and Cloud then size every build by it."""
    cfg = state()
    if cfg.get("ttft_p95_s", "") == "" and cfg.get("itl_p95_ms", "") == "":
        return None
    given = {name: cfg[name] for name in ("ttft_p95_s", "itl_p95_ms", "think_time_s",
                                          "prefix_hit_frac") if cfg.get(name, "") != ""}
    return serve_settings({"users": cfg["users"], **given})


def plan_for_inputs(title: str, intro: str, working: str
                    ) -> tuple[PlanResult, dict[str, Any]] | None:
    """The page's title and intro, the sidebar's scenario and the plan inputs' widgets,
    then the plan for them and those inputs (``run_plan`` keywords); None when either
    fails, the reason shown. ``working``: what the spinner says while a plan is computed."""
    st.title(title)
    st.caption(intro)
    request, arch = scenario_inputs()
    plan_args = plan_inputs()
    if request is None:
        return None
    try:
        with st.spinner(working):
            return run_plan(request, arch, **plan_args, service=service_level()), plan_args
    except UserError as exc:
        show_user_error(exc)
        return None


def show_workload(result: PlanResult, plan_args: dict[str, Any]) -> None:
    """One caption: the workload the plan sized for, how runtimes and precisions were
    chosen, and the running costs it assumed (the same words on Builds and Cloud)."""
    cat = catalog()
    if plan_args.get("search", "all") == "all":
        how = t("builds.workload_search")
    else:
        cfg = state()
        how = t("builds.workload_sidebar", runtime=cat.runtime(cfg["runtime"]).name,
                quant=cfg["quant"], kv=cat.kv_cache_type(cfg["kv_cache"]).name)
    # An encoder embeds its input and generates nothing: no new tokens, no per-user speed.
    st.caption(plain(t(
        "builds.workload" if result.task == "generate" else "builds.workload_encoder",
        model=result.model_name, users=result.users,
        prompt=f"{result.prompt_tokens:,}", new=f"{result.new_tokens:,}",
        context=f"{result.context_tokens:,}", tps=f"{result.min_tokens_per_s:g}", how=how,
        kwh=money_text(result.electricity_usd_per_kwh * result.units_per_usd, result.currency,
                       digits=3), hours=f"{result.hours_per_day:g}",
        volts=f"{plan_args['circuit_volts']:g}", amps=f"{plan_args['circuit_amps']:g}")))
    if result.service is not None:
        s = result.service
        st.caption(t("builds.service", ttft=f"{s.ttft_p95_s:g}", itl=f"{s.itl_p95_ms:g}",
                     think=f"{s.think_time_s:g}", users=s.users))
