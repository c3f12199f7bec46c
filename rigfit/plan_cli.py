"""``rigfit plan`` and ``rigfit cloud``: the purchase advisor on the command line."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from advisor.cloud import comparison_of
from advisor.plan import plan
from advisor.own_prices import OWN_PRICE_SOURCE, parse_own_prices
from advisor.region import (DEFAULT_REGION, RegionTerms, budget_usd_from, parse_circuit,
                            prices_in_usd, region_terms)
from advisor.results import PlanResult
from advisor.workload import (DEFAULT_CIRCUIT_AMPS, DEFAULT_CIRCUIT_VOLTS, DEFAULT_CONTEXT_TOKENS,
                              DEFAULT_HOURS_PER_DAY, DEFAULT_MIN_TOKENS_PER_S, DEFAULT_NEW_TOKENS,
                              DEFAULT_PROMPT_TOKENS, DEFAULT_USERS, SEARCH_QUANT,
                              SEARCH_RUNTIME)
from catalog.catalog import Catalog
from catalog.errors import UserError, invalid_input
from report.formats import money_text
from report.text import join_notices
from rigfit.terminal import format_table, json_text
from sizing.capacity import (DEFAULT_ITL_P95_MS, DEFAULT_THINK_TIME_S, DEFAULT_TTFT_P95_S,
                             ServeSettings)
from sizing.notices import count_text
from sizing.request import parse_request


def _add_workload_flags(p: argparse.ArgumentParser, *, budget_required: bool) -> None:
    p.add_argument("--model", help="catalog model id")
    p.add_argument("--hf-config", help="path to a Hugging Face config.json")
    p.add_argument("--params-b", type=float, help="bare parameter count in billions")
    p.add_argument("--quant", default=SEARCH_QUANT,
                   help=f"weight format id, or '{SEARCH_QUANT}' (default): search the runtimes and "
                        "formats for the most faithful that fits and meets the speed")
    p.add_argument("--runtime", default=SEARCH_RUNTIME,
                   help=f"runtime id (default {SEARCH_RUNTIME}; with --quant {SEARCH_QUANT} and "
                        "several users vLLM is searched too)")
    p.add_argument("--kv-cache", help="KV-cache element type (f16, q8_0, q4_0, fp8)")
    p.add_argument("--prompt-tokens", type=int, default=DEFAULT_PROMPT_TOKENS,
                   help=f"prompt tokens per request (default {DEFAULT_PROMPT_TOKENS})")
    p.add_argument("--new-tokens", type=int, default=DEFAULT_NEW_TOKENS,
                   help=f"tokens generated per request (default {DEFAULT_NEW_TOKENS})")
    p.add_argument("--context-tokens", type=int, default=DEFAULT_CONTEXT_TOKENS,
                   help=f"context allocated per user (default {DEFAULT_CONTEXT_TOKENS})")
    p.add_argument("--users", type=int, default=DEFAULT_USERS,
                   help=f"concurrent users (default {DEFAULT_USERS})")
    p.add_argument("--min-tokens-per-s", type=float, default=DEFAULT_MIN_TOKENS_PER_S,
                   help=f"decode speed each user needs (default {DEFAULT_MIN_TOKENS_PER_S:g}, "
                        "comfortable reading)")
    p.add_argument("--ttft-p95-s", type=float,
                   help="size by a service level: 95th-percentile time to first token [s] "
                        f"(default {DEFAULT_TTFT_P95_S:g} when --itl-p95-ms is given)")
    p.add_argument("--itl-p95-ms", type=float,
                   help="size by a service level: 95th-percentile inter-token latency [ms] "
                        f"(default {DEFAULT_ITL_P95_MS:g} when --ttft-p95-s is given)")
    p.add_argument("--think-time-s", type=float, default=DEFAULT_THINK_TIME_S,
                   help="with a service level: mean pause between a reply and a user's next "
                        f"request [s] (default {DEFAULT_THINK_TIME_S:g})")
    p.add_argument("--speculative", choices=("allow", "no"), default="no",
                   help="with a service level: builds may meet it with speculative decoding "
                        "(the model's MTP modules or a small draft of its family)")
    budget = p.add_mutually_exclusive_group(required=budget_required)
    budget.add_argument("--budget-usd", type=float, help="most the build may cost [USD]")
    budget.add_argument("--budget", type=float, help="most the build may cost, in --currency")
    p.add_argument("--hours-per-day", type=float, default=DEFAULT_HOURS_PER_DAY,
                   help="hours of use per day, for electricity and break-even "
                        f"(default {DEFAULT_HOURS_PER_DAY:g})")
    add_region_flags(p)
    p.add_argument("--electricity-region", help="electricity price region id (us-average, germany, ...)")
    p.add_argument("--format", choices=("json", "table"), default="table")


def add_region_flags(p: argparse.ArgumentParser, *, usd_per_kwh_flag: bool = True) -> None:
    """Region, currency, electricity, wall circuit and own prices (plan, cloud, report);
    ``usd_per_kwh_flag`` False where the scenario's flags already hold
    ``--electricity-usd-per-kwh``."""
    p.add_argument("--region", help=f"region id for the presets below (us, china, germany, uk, "
                                    f"japan; default {DEFAULT_REGION}): catalog/regions.yaml")
    p.add_argument("--currency", help="currency code for every amount, typed and shown (USD, EUR, "
                                      "CNY, ...; default the region's)")
    p.add_argument("--electricity-price", type=float,
                   help="electricity price in --currency per kWh (default the region's)")
    if usd_per_kwh_flag:
        p.add_argument("--electricity-usd-per-kwh", type=float, help="electricity price [USD/kWh]")
    p.add_argument("--circuit", help="wall circuit as VOLTSxAMPS, e.g. 230x16 (default the region's)")
    p.add_argument("--circuit-volts", type=float,
                   help=f"wall circuit voltage [V] (default the region's; {DEFAULT_CIRCUIT_VOLTS:g} "
                        "in the US)")
    p.add_argument("--circuit-amps", type=float,
                   help=f"wall circuit breaker [A] (default the region's; {DEFAULT_CIRCUIT_AMPS:g} "
                        "in the US)")
    p.add_argument("--price", action="append", metavar="ID=AMOUNT",
                   help="your own price for a catalog GPU or part, in --currency (repeatable), "
                        "e.g. --price rtx-3090=700")


def region_from_args(args: argparse.Namespace, cat: Catalog, *, lang: str | None = None
                     ) -> tuple[RegionTerms, dict[str, float]]:
    """The region terms the flags ask for, and the own prices in US dollars. [USD]"""
    volts, amps = args.circuit_volts, args.circuit_amps
    if args.circuit:
        volts, amps = parse_circuit(args.circuit)
    terms = region_terms(cat.market, region_id=args.region, lang=lang, currency=args.currency,
                         kwh_price=args.electricity_price,
                         electricity_usd_per_kwh=args.electricity_usd_per_kwh,
                         circuit_volts=volts, circuit_amps=amps)
    return terms, prices_in_usd(parse_own_prices(args.price or [], cat), terms)


def _run_plan(args: argparse.Namespace, cat: Catalog) -> tuple[PlanResult, RegionTerms]:
    data: dict[str, Any] = {"runtime": args.runtime, "prompt_tokens": args.prompt_tokens,
                            "new_tokens": args.new_tokens}
    for key in ("model", "hf_config", "params_b", "kv_cache"):
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    if args.quant != SEARCH_QUANT:
        data["quant"] = args.quant
    request = parse_request(data)
    terms, own = region_from_args(args, cat)
    budget_usd = args.budget_usd
    if args.budget is not None:
        budget_usd = budget_usd_from(args.budget, terms)
    # --electricity-region names an electricity entry; it stands unless a price is given.
    usd_per_kwh = None if terms.electricity_preset and args.electricity_region \
        else terms.electricity_usd_per_kwh
    if args.context_tokens is not None and args.context_tokens < 2:
        raise UserError(f"--context-tokens must be at least 2 (got {args.context_tokens})",
                        code="flag_at_least",
                        params={"flag": "--context-tokens", "low": 2, "got": args.context_tokens})
    return plan(request, cat, budget_usd=budget_usd, users=args.users,
                hours_per_day=args.hours_per_day, currency=terms.currency, quant=args.quant,
                min_tokens_per_s=args.min_tokens_per_s, context_tokens=args.context_tokens,
                electricity_usd_per_kwh=usd_per_kwh,
                electricity_region=args.electricity_region, circuit_volts=terms.circuit_volts,
                circuit_amps=terms.circuit_amps, own_prices_usd=own,
                service=service_from_args(args), speculative=args.speculative == "allow"), terms


def service_from_args(args: argparse.Namespace) -> ServeSettings | None:
    """The service level a plan sizes by, when a latency target is given."""
    if args.ttft_p95_s is None and args.itl_p95_ms is None:
        return None
    given = {"ttft_p95_s": args.ttft_p95_s, "itl_p95_ms": args.itl_p95_ms,
             "think_time_s": args.think_time_s}
    try:
        return ServeSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise invalid_input(exc) from None


def _money(usd: float, result: PlanResult) -> str:
    """The chosen currency, then dollars: "¥6,000 ($845)"."""
    text = money_text(usd * result.units_per_usd, result.currency)
    if result.currency == "USD":
        return text
    return f"{text} ({money_text(usd, 'USD')})"


def terms_line(terms: RegionTerms, result: PlanResult) -> str:
    """The region's presets, the user's overrides and the exchange rate, said once."""
    kwh = money_text(terms.electricity_in_currency_per_kwh, terms.currency, digits=3)
    if result.electricity_usd_per_kwh != terms.electricity_usd_per_kwh:  # --electricity-region
        kwh = money_text(result.electricity_usd_per_kwh * terms.units_per_usd, terms.currency,
                         digits=3)
    own = "" if terms.electricity_preset else " (yours)"
    circuit = "" if terms.circuit_preset else " (yours)"
    line = (f"region {terms.region_id}: electricity {kwh}/kWh{own} "
            f"[{terms.electricity_source}]; wall circuit {terms.circuit_volts:g} V / "
            f"{terms.circuit_amps:g} A{circuit} [{terms.circuit_source}]")
    if terms.currency != "USD":
        line += (f"\nmoney in {terms.currency} at 1 USD = {terms.units_per_usd:,.4g} "
                 f"{terms.currency} (rate of {terms.rate_as_of}, {terms.rate_source}); hardware "
                 "prices are the catalog's US street prices converted at this rate")
    return line


def _rate(usd: float, result: PlanResult, digits: int = 2) -> str:
    return money_text(usd * result.units_per_usd, result.currency, digits=digits)


def _cloud_table(result: PlanResult, limit: int = 12) -> str:
    tiers = [t.tier for t in result.tiers]
    rows = []
    for c in result.cloud[:limit]:
        row: dict[str, Any] = {
            "provider": c.provider, "instance": c.instance_type,
            "gpus": f"{c.gpu_count}x {c.gpu_id}", "quant": c.quant,
            "per_hour": _rate(c.usd_per_hour, result),
            "tokens/s/user": f"{c.decode_tokens_per_s_per_user:.1f}",
            "per_1M_tokens": _rate(c.usd_per_1m_tokens, result),
            "meets": "yes" if c.meets_workload else "no"}
        for tier in tiers:
            months = c.break_even_months.get(tier)
            row[f"break-even {tier}"] = "never" if months is None else f"{months:.1f} mo"
        rows.append(row)
    if not rows:
        return "cloud: no catalog instance holds this workload"
    return format_table(rows)


def _sentences(notices, result: PlanResult) -> str:
    """Engine sentences with their dollar amounts in the plan's currency."""
    return join_notices(notices, "en", money=(result.units_per_usd, result.currency))


def plan_table(result: PlanResult, terms: RegionTerms | None = None) -> str:
    """Terminal view of a plan: message, tiers with parts and checks, cloud."""
    lines = [_sentences(result.message, result), ""]
    if terms is not None:
        lines += [terms_line(terms, result), ""]
    budget = "no limit" if result.budget_usd is None else _money(result.budget_usd, result)
    lines.append(f"workload: {result.model_name}, quant {result.quant_mode}, "
                 f"{result.prompt_tokens:,} prompt + {result.new_tokens:,} new tokens within "
                 f"{result.context_tokens:,} tokens of context, "
                 f"{count_text(result.users, 'user', 'users')} at "
                 f">= {result.min_tokens_per_s:g} tokens/s each; budget {budget}")
    if result.service is not None:
        lines.append(service_line(result))
    if result.lead_with_cloud:
        lines += ["", "CLOUD", _cloud_table(result, limit=8)]
    previous = None
    for t in result.tiers:
        label = t.tier.upper() + (" (STRETCH, over budget)" if t.stretch else "")
        lines += ["", f"{label}: {_money(t.total_usd, result)}  {t.reason}"]
        same = previous is not None and (t.gpu_id, t.gpu_count, t.gpu_used, t.quant,
                                         t.total_usd) == previous
        previous = (t.gpu_id, t.gpu_count, t.gpu_used, t.quant, t.total_usd)
        if same:
            lines.append("  (same build as above)")
            continue
        for p in t.parts:
            qty = f"{p.quantity} x " if p.quantity > 1 else ""
            name = qty + p.name + (" (your price)" if p.source == OWN_PRICE_SOURCE else "")
            lines.append(f"  {p.kind:<11} {name:<62} {_money(p.total_usd, result)}")
        speed = (f"decode {t.decode_tokens_per_s_per_user:.1f} tokens/s per user"
                 if t.decode_tokens_per_s_per_user else "decode unknown")
        if t.decode_tokens_per_s_low and t.decode_tokens_per_s_high and result.users == 1:
            speed += f" ({t.decode_tokens_per_s_low:.1f}-{t.decode_tokens_per_s_high:.1f})"
        prefill = f", prefill {t.prefill_tokens_per_s:,.0f} tokens/s" if t.prefill_tokens_per_s else ""
        lines.append(f"  {speed}{prefill}; {t.quant} on {t.runtime} ({t.split} split)")
        if t.speculative:
            lines.append(f"  meets the service level with speculative decoding ({t.speculative})")
        lines.append(f"  memory headroom {t.memory_headroom_bytes / 2**30:.1f} GiB "
                     f"({t.memory_headroom_frac:.0%}); GPU {t.gpu_power_w:.0f} W each, system "
                     f"{t.system_power_w:.0f} W, PSU {t.psu_w:.0f} W; GPU {t.gpu_temp_c:.0f} C "
                     f"decoding, {t.gpu_temp_full_load_c:.0f} C at full load "
                     f"({t.throttle_risk} throttle risk)")
        c = t.checks
        lines.append(f"  checks: PCIe {c.pcie_lanes_needed}/{c.pcie_lanes_available} lanes "
                     f"(x{'/x'.join(str(w) for w in c.gpu_lanes_each)}), slot pitch "
                     f"{c.slot_pitch} for {c.card_slot_width:g}-slot cards, case slots "
                     f"{c.case_slots_needed}/{c.case_slots_available}, PSU {c.psu_needed_w:.0f} W "
                     f"needed, {c.pcie_8pin_needed} x 8-pin + {c.connector_12v_2x6_needed} x "
                     f"12V-2x6, wall {c.wall_w:.0f}/{c.wall_limit_w:.0f} W")
        for note in c.notes:
            lines.append(f"  note: {note}")
    if result.within_budget_best is not None:
        w = result.within_budget_best
        lines += ["", f"WITHIN BUDGET: {_money(w.total_usd, result)}  {w.reason}"]
    if not result.lead_with_cloud:
        lines += ["", "CLOUD", _cloud_table(result)]
    lines += ["", "CONSUMER VS PROFESSIONAL", _sentences(result.consumer_vs_pro.summary, result)]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def run_plan(args: argparse.Namespace, cat: Catalog) -> int:
    result, terms = _run_plan(args, cat)
    print(json_text(result.model_dump(mode="json")) if args.format == "json"
          else plan_table(result, terms))
    return 0


def run_cloud(args: argparse.Namespace, cat: Catalog) -> int:
    result, terms = _run_plan(args, cat)
    if args.format == "json":
        print(json_text(comparison_of(result).model_dump(mode="json")))
    else:
        print("\n".join([_sentences(result.message, result), "", terms_line(terms, result), "",
                         *([service_line(result), ""] if result.service is not None else []),
                         _cloud_table(result, limit=40)]))
    return 0


def service_line(result: PlanResult) -> str:
    """The service level every build and instance was sized by, in one line."""
    s = result.service
    return (f"service level: p95 time to first token <= {s.ttft_p95_s:g} s, p95 inter-token "
            f"latency <= {s.itl_p95_ms:g} ms for {count_text(s.users, 'user', 'users')} "
            f"with {s.think_time_s:g} s of "
            "think time; the per-user speed is not the test"
            + ("; speculative decoding allowed" if result.speculative_allowed else ""))


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    _add_workload_flags(p, budget_required=True)


def add_cloud_arguments(p: argparse.ArgumentParser) -> None:
    _add_workload_flags(p, budget_required=False)
