"""Renting instead of buying: the catalog's cloud instances that run a workload.

:func:`cloud_options` runs the engine's best configuration on every instance's
GPU and count and prices each per million tokens, with break-even months
against each purchase tier; :func:`comparison_of` is the cloud half of a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import TypeAdapter

from advisor.candidates import Candidate
from advisor.prices import (break_even_months, check_hours, cloud_usd_per_month,
                            electricity_usd_per_month, usd_per_1m_tokens)
from advisor.results import CloudComparison, CloudOption, PlanResult, TierCost
from catalog.market import CloudInstance


Evaluate = Callable[[str, int], Candidate | None]
CLOUD_OPTIONS = TypeAdapter(list[CloudOption])


def cloud_options(instances: Sequence[CloudInstance], evaluate: Evaluate, *,
                  tiers: Sequence[tuple[str, float, float]], hours_per_day: float,
                  usd_per_kwh: float, units_per_usd: float,
                  gpu_names: Mapping[str, str],
                  kept: dict[str, dict[str, object]] | None = None) -> list[CloudOption]:
    """Instances whose GPUs hold the workload, cheapest per token first.

    ``evaluate(gpu_id, gpu_count)`` returns the engine's best configuration
    (quant, runtime, speed) on that hardware, or None when nothing fits.
    ``tiers`` holds (tier name, build cost [USD], wall power while generating
    [W]) for the break-even columns; ``gpu_names`` maps GPU ids to names. Instances
    that fit but miss the speed target are kept, marked ``meets_workload=False``,
    after those that meet it. ``kept``: the instances' own fields (:func:`listing`)
    by id, made before from the same catalog, filled in here.
    """
    check_hours(hours_per_day)
    kept = {} if kept is None else kept
    # A tier's electricity is the same against every instance: worked out once.
    local_usd = [(name, build_usd, electricity_usd_per_month(
        wall_power_w=wall_w, hours_per_day=hours_per_day, usd_per_kwh=usd_per_kwh))
        for name, build_usd, wall_w in tiers]
    # What an instance runs, by GPU and count (instances share them).
    runs: dict[tuple[str, int], tuple[float, dict[str, object]] | None] = {}
    found: list[dict[str, object]] = []
    for inst in instances:
        hardware = inst.gpu_id, inst.gpu_count
        if hardware not in runs:
            runs[hardware] = _run(evaluate(*hardware))
        run = runs[hardware]
        if run is None:
            continue
        tokens_per_s, figures = run
        if inst.id not in kept:
            kept[inst.id] = listing(inst, gpu_names[inst.gpu_id])
        monthly = cloud_usd_per_month(usd_per_hour=inst.usd_per_hour, hours_per_day=hours_per_day)
        months = {name: break_even_months(build_usd=build_usd, cloud_usd_per_month=monthly,
                                          local_electricity_usd_per_month=local)
                  for name, build_usd, local in local_usd}
        per_1m = usd_per_1m_tokens(usd_per_hour=inst.usd_per_hour, tokens_per_s=tokens_per_s)
        found.append(kept[inst.id] | figures | {
            "usd_per_hour_in_currency": inst.usd_per_hour * units_per_usd,
            "usd_per_1m_tokens": per_1m, "usd_per_1m_tokens_in_currency": per_1m * units_per_usd,
            "cloud_usd_per_month": monthly, "break_even_months": months,
            "break_even": [{"tier": name, "build_usd": build_usd, "cloud_usd_per_month": monthly,
                            "local_electricity_usd_per_month": local, "months": months[name]}
                           for name, build_usd, local in local_usd]})
    found.sort(key=lambda o: (not o["meets_workload"], o["usd_per_1m_tokens"], o["usd_per_hour"]))
    return CLOUD_OPTIONS.validate_python(found)  # in one call: faster than one model at a time


def listing(inst: CloudInstance, gpu_name: str) -> dict[str, object]:
    """A cloud option's fields that are the instance's own, whatever it runs."""
    return {"instance_id": inst.id, "name": inst.display_name(gpu_name),
            "provider": inst.provider.value, "instance_type": inst.instance_type,
            "region": inst.region, "gpu_id": inst.gpu_id, "gpu_count": inst.gpu_count,
            "usd_per_hour": inst.usd_per_hour, "as_of": inst.as_of.isoformat(),
            "source": inst.source}


def _run(found: Candidate | None) -> tuple[float, dict[str, object]] | None:
    """What a cloud option shows of the engine's best configuration on its hardware, with
    the tokens/s it is priced by; None when nothing fits or, for an encoder, nothing is
    known of its speed (it is priced by the input tokens it encodes)."""
    tokens_per_s = None if found is None else found.throughput_tokens_per_s
    if not tokens_per_s:
        return None
    return tokens_per_s, {
        "quant": found.quant, "runtime": found.runtime,
        "decode_tokens_per_s": found.decode_tokens_per_s,
        "decode_tokens_per_s_per_user": found.decode_tokens_per_s_per_user,
        "prefill_tokens_per_s": found.prefill_tokens_per_s,
        "meets_workload": found.meets_workload,
        "memory_headroom_bytes": found.memory_headroom_bytes}


def comparison_of(result: PlanResult) -> CloudComparison:
    """The cloud half of a plan result."""
    return CloudComparison(
        model_id=result.model_id, currency=result.currency, units_per_usd=result.units_per_usd,
        hours_per_day=result.hours_per_day,
        electricity_usd_per_kwh=result.electricity_usd_per_kwh,
        lead_with_cloud=result.lead_with_cloud, message=result.message, cloud=result.cloud,
        tiers=[TierCost(tier=t.tier, total_usd=t.total_usd, within_budget=t.within_budget,
                        decode_tokens_per_s=t.decode_tokens_per_s) for t in result.tiers],
        task=result.task)
