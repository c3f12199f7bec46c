"""Budget, balanced and workstation picks, and the consumer-versus-professional comparison.

From the builds that meet the workload, sorted by price:

- **budget**: the cheapest;
- **balanced**: the most decode tokens/s per dollar within the budget;
- **workstation**: the fastest within the budget, or a labelled stretch option
  above it (at most 1.5x the budget) when nothing faster fits in it.

Each pick carries its reason as a :class:`~sizing.notices.Notice`.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.builds import BuildLike, build_fields
from advisor.parts import GpuOption
from advisor.results import ConsumerVsPro, GpuValue, Tier, TierBuild
from catalog.schema import CoolerClass, Segment, Vendor
from sizing.notices import Notice

# Workstation tier: the most a stretch option may cost, over the budget.
STRETCH_MAX_FRAC = 1.5

# Driver and support terms, by vendor and segment (Notices: front ends translate them).
GEFORCE_TERMS = Notice(
    "driver_nvidia_consumer", "GeForce driver licence forbids datacenter deployment "
    "(https://www.nvidia.com/en-us/drivers/geforce-license/); board-maker warranty.")
DRIVER_TERMS: dict[tuple[Vendor, Segment], Notice] = {
    (Vendor.NVIDIA, Segment.CONSUMER): GEFORCE_TERMS,
    (Vendor.NVIDIA, Segment.WORKSTATION): Notice(
        "driver_nvidia_workstation", "NVIDIA RTX Enterprise (production-branch) drivers, "
        "no datacenter clause; vendor warranty and support."),
    (Vendor.NVIDIA, Segment.DATACENTER): Notice(
        "driver_nvidia_datacenter", "NVIDIA datacenter drivers; passive card for server "
        "chassis airflow."),
    (Vendor.AMD, Segment.CONSUMER): Notice(
        "driver_amd_consumer", "Radeon Adrenalin drivers; ROCm covers only some consumer "
        "cards, Vulkan works on all."),
    (Vendor.AMD, Segment.WORKSTATION): Notice(
        "driver_amd_workstation", "Radeon PRO drivers; ROCm-supported; vendor warranty."),
    (Vendor.INTEL, Segment.CONSUMER): Notice(
        "driver_intel_consumer", "Intel Arc drivers; llama.cpp via SYCL or Vulkan."),
}
DRIVER_TERMS_OTHER = Notice("driver_other", "See the vendor's terms.")


def is_encoder(b: BuildLike) -> bool:
    """An embedding or reranking model's build: it generates nothing, it encodes input."""
    return b.task != "generate"


def throughput_tokens_per_s(b: BuildLike) -> float:
    """What builds are ranked by: aggregate decode, or an encoder's prefill (0: unknown)."""
    return (b.prefill_tokens_per_s if is_encoder(b) else b.decode_tokens_per_s) or 0.0


def coded(code: str, b: BuildLike) -> str:
    """A notice code, with ``_encoder`` for an encoder's build (its sentence names the
    input tokens it embeds per second instead of a per-user decode speed)."""
    return f"{code}_encoder" if is_encoder(b) else code


def at_speed(b: BuildLike) -> str:
    """The build's speed after its label: " at 12.0 tokens/s", ", embeds 2,159 tokens/s"."""
    return f", {speed_text(b)}" if is_encoder(b) and b.prefill_tokens_per_s else f" at {speed_text(b)}"


def speed_text(b: BuildLike) -> str:
    if is_encoder(b) and b.prefill_tokens_per_s:
        return f"embeds {b.prefill_tokens_per_s:,.0f} tokens/s"
    per_user = b.decode_tokens_per_s_per_user
    if per_user is None:
        return "speed unknown"
    if b.decode_tokens_per_s and abs(b.decode_tokens_per_s - per_user) > 1e-9:
        return f"{per_user:.1f} tokens/s per user ({b.decode_tokens_per_s:.0f} in all)"
    return f"{per_user:.1f} tokens/s"


def build_label(b: BuildLike) -> str:
    return f"{b.gpu_count} x {b.gpu_name}{' (used)' if b.gpu_used else ''}, {b.quant}"


def build_params(b: BuildLike) -> dict[str, str | int]:
    """A build's label and speed as notice parameters (``*_term`` values are
    looked up under ``engine.term.`` by front ends)."""
    per_user = b.decode_tokens_per_s_per_user
    params: dict[str, str | int] = {
        "count": b.gpu_count, "gpu": b.gpu_name, "condition_term": "used" if b.gpu_used
        else "new", "quant": b.quant,
        "per_user": "—" if per_user is None else f"{per_user:.1f}",
        "total": "—" if not b.decode_tokens_per_s else f"{b.decode_tokens_per_s:.0f}"}
    if is_encoder(b):
        params["embed"] = "—" if not b.prefill_tokens_per_s else f"{b.prefill_tokens_per_s:,.0f}"
    return params


def prefixed(prefix: str, params: dict[str, str | int]) -> dict[str, str | int]:
    return {f"{prefix}_{k}": v for k, v in params.items()}


def tier_build(b: BuildLike, tier: Tier, budget_usd: float | None, *, reason: Notice,
               stretch: bool = False) -> TierBuild:
    within = budget_usd is None or b.total_usd <= budget_usd
    return TierBuild(**build_fields(b), tier=tier, within_budget=within, stretch=stretch,
                     reason=reason)


def pick_tiers(meeting: Sequence[BuildLike], budget_usd: float | None) -> list[TierBuild]:
    """Budget, balanced and workstation picks from builds that meet the workload
    (sorted by price)."""
    if not meeting:
        return []
    cheapest = meeting[0]
    within = [b for b in meeting if budget_usd is None or b.total_usd <= budget_usd]
    if not within:
        over = cheapest.total_usd - (budget_usd or 0)
        return [tier_build(cheapest, "budget", budget_usd, stretch=True, reason=Notice(
            coded("tier_over_budget", cheapest),
            f"Over budget by {over:,.0f} USD: the cheapest build that meets the workload "
            f"({build_label(cheapest)}, {speed_text(cheapest)}).",
            over_usd=f"{over:,.0f}", **build_params(cheapest)))]
    tiers = [tier_build(cheapest, "budget", budget_usd, reason=Notice(
        coded("tier_budget", cheapest),
        f"Cheapest build that meets the workload: {build_label(cheapest)}{at_speed(cheapest)}.",
        **build_params(cheapest)))]
    balanced = max(within, key=lambda b: throughput_tokens_per_s(b) / b.total_usd)
    # An embedding or reranking model is ranked by the input tokens it embeds per second.
    per_kusd = ("—" if balanced.tokens_per_s_per_kusd is None
                else f"{balanced.tokens_per_s_per_kusd:,.1f}")
    what = "embedded tokens/s" if is_encoder(balanced) else "tokens/s"
    tiers.append(tier_build(balanced, "balanced", budget_usd, reason=Notice(
        coded("tier_balanced", balanced),
        f"Most {what} per dollar within budget: {per_kusd} tokens/s "
        f"per 1,000 USD ({build_label(balanced)}).",
        tokens_per_s_per_kusd=per_kusd, **build_params(balanced))))
    fastest = max(within, key=lambda b: (throughput_tokens_per_s(b), -b.total_usd))
    stretch_pool = [b for b in meeting if budget_usd is not None
                    and budget_usd < b.total_usd <= budget_usd * STRETCH_MAX_FRAC
                    and throughput_tokens_per_s(b) > throughput_tokens_per_s(fastest)]
    if fastest is balanced and stretch_pool:
        top = max(stretch_pool, key=lambda b: (throughput_tokens_per_s(b), -b.total_usd))
        gain = throughput_tokens_per_s(top) / (throughput_tokens_per_s(fastest) or 1) - 1
        tiers.append(tier_build(top, "workstation", budget_usd, stretch=True, reason=Notice(
            coded("tier_stretch", top),
            f"Stretch, {top.total_usd - budget_usd:,.0f} USD over budget: {gain:.0%} faster "
            f"than anything within it ({build_label(top)}, {speed_text(top)}).",
            over_usd=f"{top.total_usd - budget_usd:,.0f}", gain_pct=f"{gain:.0%}",
            **build_params(top))))
    elif fastest is balanced:
        tiers.append(tier_build(fastest, "workstation", budget_usd, reason=Notice(
            coded("tier_fastest_same", fastest),
            "Fastest within budget (same as balanced: nothing faster within budget): "
            f"{build_label(fastest)}{at_speed(fastest)}.", **build_params(fastest))))
    else:
        tiers.append(tier_build(fastest, "workstation", budget_usd, reason=Notice(
            coded("tier_fastest", fastest),
            f"Fastest within budget: {build_label(fastest)}{at_speed(fastest)}.",
            **build_params(fastest))))
    return tiers


def within_best_reason(top: BuildLike, min_tokens_per_s: float) -> Notice:
    if top.meets_workload:
        return Notice("tier_within_budget_best", "Best the budget buys.")
    return Notice(
        "tier_within_budget_below",
        f"Best the budget buys: {speed_text(top)}, below the "
        f"{min_tokens_per_s:g} tokens/s per user asked for.",
        need=f"{min_tokens_per_s:g}", **build_params(top))


def consumer_vs_pro(meeting: Sequence[BuildLike], options: Sequence[GpuOption],
                     budget_usd: float | None) -> ConsumerVsPro:
    consumer = next((b for b in meeting if b.gpu_segment == "consumer"), None)
    pro = next((b for b in meeting if b.gpu_segment == "workstation"), None)

    def best_ratio(segment: Segment) -> float | None:
        ratios = [o.gpu.memory_gib / o.unit_usd * 1000 for o in options if o.gpu.segment is segment]
        return max(ratios, default=None)

    c_ratio, p_ratio = best_ratio(Segment.CONSUMER), best_ratio(Segment.WORKSTATION)
    bits: list[Notice] = []
    if consumer and pro:
        diff = pro.total_usd - consumer.total_usd
        sign = "+" if diff >= 0 else "-"
        bits.append(Notice(
            coded("cvp_both", consumer),
            f"Cheapest consumer build {consumer.total_usd:,.0f} USD "
            f"({build_label(consumer)}, {speed_text(consumer)}) vs professional "
            f"{pro.total_usd:,.0f} USD ({build_label(pro)}, {speed_text(pro)}): "
            f"{sign}{abs(diff):,.0f} USD for ECC and blower cooling; "
            f"GPUs draw {pro.gpu_power_w * pro.gpu_count:.0f} W (professional) vs "
            f"{consumer.gpu_power_w * consumer.gpu_count:.0f} W (consumer) decoding.",
            consumer_usd=f"{consumer.total_usd:,.0f}", pro_usd=f"{pro.total_usd:,.0f}",
            diff_usd=f"{sign}{abs(diff):,.0f}",
            consumer_w=f"{consumer.gpu_power_w * consumer.gpu_count:.0f}",
            pro_w=f"{pro.gpu_power_w * pro.gpu_count:.0f}",
            **prefixed("consumer", build_params(consumer)),
            **prefixed("pro", build_params(pro))))
    elif consumer:
        bits.append(Notice(
            "cvp_only_consumer",
            f"Only consumer cards meet the workload; cheapest {consumer.total_usd:,.0f} USD.",
            cheapest_usd=f"{consumer.total_usd:,.0f}"))
    elif pro:
        bits.append(Notice(
            "cvp_only_professional",
            f"Only professional cards meet the workload; cheapest {pro.total_usd:,.0f} USD.",
            cheapest_usd=f"{pro.total_usd:,.0f}"))
    if c_ratio and p_ratio:
        bits.append(Notice(
            "cvp_memory_per_kusd",
            f"Memory per 1,000 USD: consumer up to {c_ratio:.1f} GiB, professional up to "
            f"{p_ratio:.1f} GiB.", consumer_gib_per_kusd=f"{c_ratio:.1f}",
            pro_gib_per_kusd=f"{p_ratio:.1f}"))
    bits.append(Notice(
        "cvp_licence",
        "GeForce cards may not be deployed in a datacenter (driver licence); professional "
        "cards carry ECC and stack with blower coolers."))
    return ConsumerVsPro(
        consumer=tier_build(consumer, "budget", budget_usd, reason=Notice(
            "tier_cheapest_consumer", "Cheapest consumer-card build."))
        if consumer else None,
        professional=tier_build(pro, "budget", budget_usd, reason=Notice(
            "tier_cheapest_professional", "Cheapest professional-card build."))
        if pro else None,
        best_consumer_gib_per_kusd=c_ratio, best_professional_gib_per_kusd=p_ratio,
        summary=bits)


def gpu_value(option: GpuOption, min_count: int | None) -> GpuValue:
    """Comparison row for one purchasable card."""
    g = option.gpu
    terms = DRIVER_TERMS.get((g.vendor, g.segment), DRIVER_TERMS_OTHER)
    return GpuValue(
        gpu_id=g.id, gpu_name=g.name, vendor=g.vendor.value, segment=g.segment.value,
        used=option.used, price_usd=option.unit_usd, memory_gib=g.memory_gib,
        memory_gib_per_kusd=g.memory_gib / option.unit_usd * 1000.0,
        memory_bandwidth_gb_per_s=g.memory_bandwidth_gb_per_s, board_power_w=g.board_power_w,
        ecc=g.ecc, blower=g.cooler is CoolerClass.BLOWER, slot_width=g.slot_width,
        min_gpus_for_workload=min_count, driver_terms=terms)


def gpu_values(options: Sequence[GpuOption], min_count: dict[str, int],
               kept: dict[tuple[str, bool, int | None], GpuValue] | None = None
               ) -> list[GpuValue]:
    """A row per card, those that hold the workload first, most memory per dollar first.

    ``kept``: rows made before from the same catalog, by card, condition and count
    (a row depends on nothing else), filled in here.
    """
    kept = {} if kept is None else kept
    rows = []
    for o in options:
        key = (o.gpu.id, o.used, min_count.get(o.gpu.id))
        if key not in kept:
            kept[key] = gpu_value(o, key[2])
        rows.append(kept[key])
    rows.sort(key=lambda r: (r.min_gpus_for_workload is None, -r.memory_gib_per_kusd))
    return rows
