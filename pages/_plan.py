"""What Builds and Cloud sized for, said on the page next to the answer."""

from __future__ import annotations

from typing import Any

import streamlit as st

from advisor.results import PlanResult
from pages._engine import catalog
from pages._state import state
from pages._text import plain, t
from report.formats import money_text


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
    st.caption(plain(t(
        "builds.workload", model=result.model_name, users=result.users,
        prompt=f"{result.prompt_tokens:,}", new=f"{result.new_tokens:,}",
        context=f"{result.context_tokens:,}", tps=f"{result.min_tokens_per_s:g}", how=how,
        kwh=money_text(result.electricity_usd_per_kwh * result.units_per_usd, result.currency,
                       digits=3), hours=f"{result.hours_per_day:g}",
        volts=f"{plan_args['circuit_volts']:g}", amps=f"{plan_args['circuit_amps']:g}")))
