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
from advisor.results import Part, PlanResult
from advisor.workload import (DEFAULT_CIRCUIT_AMPS, DEFAULT_CIRCUIT_VOLTS, DEFAULT_CONTEXT_TOKENS,
                              DEFAULT_HOURS_PER_DAY, DEFAULT_MIN_TOKENS_PER_S, DEFAULT_NEW_TOKENS,
                              DEFAULT_PROMPT_TOKENS, DEFAULT_USERS, SEARCH_QUANT,
                              SEARCH_RUNTIME)
from catalog.catalog import Catalog
from catalog.errors import UserError, invalid_input
from report.formats import money_text, number_text, pattern_text
from report.text import DEFAULT_LANGUAGE, join_notices, translate, translate_notice
from rigfit.terminal import cli_text, format_table, json_text, padded
from sizing.request import parse_request
from sizing.service_level import (DEFAULT_ITL_P95_MS, DEFAULT_THINK_TIME_S, DEFAULT_TTFT_P95_S,
                                  ServeSettings)
from sizing.units import bytes_to_gib


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


def _money(usd: float, result: PlanResult, lang: str = DEFAULT_LANGUAGE) -> str:
    """The chosen currency, then dollars: "¥6,000 ($845)"."""
    text = money_text(usd * result.units_per_usd, result.currency, lang=lang)
    if result.currency == "USD":
        return text
    return f"{text} ({money_text(usd, 'USD')})"


def terms_line(terms: RegionTerms, result: PlanResult, lang: str = DEFAULT_LANGUAGE) -> str:
    """The region's presets, the user's overrides and the exchange rate, said once."""
    kwh = money_text(terms.electricity_in_currency_per_kwh, terms.currency, digits=3)
    if result.electricity_usd_per_kwh != terms.electricity_usd_per_kwh:  # --electricity-region
        kwh = money_text(result.electricity_usd_per_kwh * terms.units_per_usd, terms.currency,
                         digits=3)
    yours = cli_text("plan.yours", lang)
    line = cli_text("plan.terms", lang, region=terms.region_id, kwh=kwh,
                    own="" if terms.electricity_preset else yours,
                    electricity_source=terms.electricity_source,
                    volts=f"{terms.circuit_volts:g}", amps=f"{terms.circuit_amps:g}",
                    circuit="" if terms.circuit_preset else yours,
                    circuit_source=terms.circuit_source)
    if terms.currency != "USD":
        line += "\n" + cli_text("plan.rate", lang, currency=terms.currency,
                                rate=f"{terms.units_per_usd:,.4g}",
                                date=terms.rate_as_of,
                                source=terms.rate_source)
    return line


def _rate(usd: float, result: PlanResult, lang: str, digits: int = 2) -> str:
    return money_text(usd * result.units_per_usd, result.currency, digits=digits, lang=lang)


def part_name(part: Part, lang: str) -> str:
    """A part's name with the planner's English marks ("(used)", "(e.g. BOARD)") in ``lang``."""
    name = part.name.removesuffix(USED_MARK)
    if EXAMPLE_MARK in name:
        name, example = name.split(EXAMPLE_MARK, 1)
        name = cli_text("plan.example", lang, name=name, example=example.removesuffix(")"))
    return name + (cli_text("plan.used", lang) if part.name.endswith(USED_MARK) else "")


# How the planner marks a used part and a board class's example board in a part's name.
USED_MARK = " (used)"
EXAMPLE_MARK = " (e.g. "


def whole(value: float) -> str:
    """A whole number of watts or degrees as the build lines write it: "1384"."""
    return pattern_text(value, "{:.0f}")


def _cloud_table(result: PlanResult, limit: int = 12, lang: str = DEFAULT_LANGUAGE) -> str:
    def say(key: str, **values: object) -> str:
        return cli_text(f"plan.cloud.{key}", lang, **values)

    tiers = [t.tier for t in result.tiers]
    encoder = result.task != "generate"  # its speed and price are per input token embedded
    rows = []
    for c in result.cloud[:limit]:
        row: dict[str, Any] = {
            say("provider"): c.provider, say("instance"): c.instance_type,
            say("gpus"): f"{c.gpu_count}x {c.gpu_id}", say("quant"): c.quant,
            say("per_hour"): _rate(c.usd_per_hour, result, lang),
            say("tokens_per_s_embedded") if encoder else say("tokens_per_s_per_user"):
                number_text(c.prefill_tokens_per_s, 0) if encoder
                else number_text(c.decode_tokens_per_s_per_user),
            say("per_1m_input_tokens" if encoder else "per_1m_tokens"):
                _rate(c.usd_per_1m_tokens, result, lang),
            say("meets"): say("meets_yes" if c.meets_workload else "meets_no")}
        for tier in tiers:
            months = c.break_even_months.get(tier)
            row[say("break_even", tier=say(f"tier_{tier}"))] = (
                say("never") if months is None else say("months", months=number_text(months)))
        rows.append(row)
    if not rows:
        return say("none")
    return format_table(rows)


def _sentences(notices, result: PlanResult, lang: str = DEFAULT_LANGUAGE) -> str:
    """Engine sentences with their dollar amounts in the plan's currency."""
    return join_notices(notices, lang, money=(result.units_per_usd, result.currency))


def plan_table(result: PlanResult, terms: RegionTerms | None = None,
               lang: str = DEFAULT_LANGUAGE) -> str:
    """Terminal view of a plan: message, tiers with parts and checks, cloud."""
    def say(key: str, **values: object) -> str:
        return cli_text(f"plan.{key}", lang, **values)

    def money(usd: float) -> str:
        return _money(usd, result, lang)

    lines = [_sentences(result.message, result, lang), ""]
    if terms is not None:
        lines += [terms_line(terms, result, lang), ""]
    budget = say("no_limit") if result.budget_usd is None else money(result.budget_usd)
    quant = say("quant_best") if result.quant_mode == SEARCH_QUANT else result.quant_mode
    lines.append(say("workload_encoder" if result.task != "generate" else "workload",
                     model=result.model_name, quant=quant,
                     prompt=number_text(result.prompt_tokens, 0),
                     new=number_text(result.new_tokens, 0),
                     context=number_text(result.context_tokens, 0), users=result.users,
                     need=f"{result.min_tokens_per_s:g}", budget=budget))
    if result.service is not None:
        lines.append(service_line(result, lang))
    if result.lead_with_cloud:
        lines += ["", say("cloud_header"), _cloud_table(result, limit=8, lang=lang)]
    previous = None
    for t in result.tiers:
        label = say(f"tier_{t.tier}") + (say("stretch") if t.stretch else "")
        lines += ["", say("tier_line", label=label, total=money(t.total_usd),
                          reason=translate_notice(t.reason, lang))]
        same = previous is not None and (t.gpu_id, t.gpu_count, t.gpu_used, t.quant,
                                         t.total_usd) == previous
        previous = (t.gpu_id, t.gpu_count, t.gpu_used, t.quant, t.total_usd)
        if same:
            lines.append("  " + say("same_build"))
            continue
        for p in t.parts:
            qty = f"{p.quantity} x " if p.quantity > 1 else ""
            name = qty + part_name(p, lang) + (say("your_price") if p.source == OWN_PRICE_SOURCE
                                               else "")
            lines.append(f"  {padded(say(f'kind.{p.kind}'), 11)} {padded(name, 62)} "
                         f"{money(p.total_usd)}")
        speed = (say("decode", value=number_text(t.decode_tokens_per_s_per_user))
                 if t.decode_tokens_per_s_per_user else say("decode_unknown"))
        if t.task != "generate" and t.prefill_tokens_per_s:  # an encoder: its prefill is its speed
            speed = say("embed", value=number_text(t.prefill_tokens_per_s, 0))
        if t.decode_tokens_per_s_low and t.decode_tokens_per_s_high and result.users == 1:
            speed += (f" ({number_text(t.decode_tokens_per_s_low)}-"
                      f"{number_text(t.decode_tokens_per_s_high)})")
        prefill = (say("prefill", value=number_text(t.prefill_tokens_per_s, 0))
                   if t.prefill_tokens_per_s and t.task == "generate" else "")
        lines.append("  " + say("speed", speed=speed, prefill=prefill, quant=t.quant,
                                runtime=t.runtime, split=say(f"split_{t.split}")))
        if t.speculative:
            lines.append("  " + say("speculative", how=t.speculative))
        lines.append("  " + say(
            "memory", headroom=number_text(bytes_to_gib(t.memory_headroom_bytes)),
            frac=f"{t.memory_headroom_frac:.0%}", gpu_w=whole(t.gpu_power_w),
            system_w=whole(t.system_power_w), psu_w=whole(t.psu_w),
            temp_c=whole(t.gpu_temp_c), full_c=whole(t.gpu_temp_full_load_c),
            risk=cli_text(f"estimate.risk_{t.throttle_risk}", lang)))
        c = t.checks
        lines.append("  " + say(
            "checks", lanes_needed=c.pcie_lanes_needed, lanes=c.pcie_lanes_available,
            widths="/x".join(str(w) for w in c.gpu_lanes_each), pitch=c.slot_pitch,
            card_slots=f"{c.card_slot_width:g}", slots_needed=c.case_slots_needed,
            slots=c.case_slots_available, psu_needed_w=whole(c.psu_needed_w),
            eight_pin=c.pcie_8pin_needed, connector=c.connector_12v_2x6_needed,
            wall_w=whole(c.wall_w), wall_limit_w=whole(c.wall_limit_w)))
        for note in c.notes:
            lines.append("  " + say("note", note=translate_notice(note, lang)))
    if result.within_budget_best is not None:
        w = result.within_budget_best
        lines += ["", say("tier_line", label=say("within_budget"), total=money(w.total_usd),
                          reason=translate_notice(w.reason, lang))]
    if not result.lead_with_cloud:
        lines += ["", say("cloud_header"), _cloud_table(result, lang=lang)]
    lines += ["", say("consumer_vs_pro"), _sentences(result.consumer_vs_pro.summary, result, lang)]
    lines += [translate("cli.warning", lang, message=translate_notice(w, lang))
              for w in result.warnings]
    return "\n".join(lines)



def run_plan(args: argparse.Namespace, cat: Catalog) -> int:
    result, terms = _run_plan(args, cat)
    print(json_text(result.model_dump(mode="json")) if args.format == "json"
          else plan_table(result, terms, args.ui_lang))
    return 0


def run_cloud(args: argparse.Namespace, cat: Catalog) -> int:
    result, terms = _run_plan(args, cat)
    if args.format == "json":
        print(json_text(comparison_of(result).model_dump(mode="json")))
    else:
        lang = args.ui_lang
        print("\n".join([_sentences(result.message, result, lang), "",
                         terms_line(terms, result, lang), "",
                         *([service_line(result, lang), ""] if result.service is not None else []),
                         _cloud_table(result, limit=40, lang=lang)]))
    return 0


def service_line(result: PlanResult, lang: str = DEFAULT_LANGUAGE) -> str:
    """The service level every build and instance was sized by, in one line."""
    s = result.service
    return cli_text("plan.service", lang, ttft=f"{s.ttft_p95_s:g}", itl=f"{s.itl_p95_ms:g}",
                    users=s.users, think=f"{s.think_time_s:g}") + (
        cli_text("plan.speculative_allowed", lang) if result.speculative_allowed else "")


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    _add_workload_flags(p, budget_required=True)


def add_cloud_arguments(p: argparse.ArgumentParser) -> None:
    _add_workload_flags(p, budget_required=False)
