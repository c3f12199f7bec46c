"""``rigfit serve``: how many users one machine serves within latency targets.

Takes the scenario flags of ``rigfit estimate`` (model, GPU, runtime, quant,
prompt and reply lengths) plus the team's traffic and service level, and
prints the users at the target, the throughput curve against concurrency
and the latencies at the chosen load (:func:`sizing.capacity.serve`).
"""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from advisor.region import RegionTerms
from catalog.catalog import Catalog
from catalog.errors import invalid_input
from report.formats import number_text, pattern_text, usd_in_currency_text
from report.text import DEFAULT_LANGUAGE
from rigfit.cost_flags import add_cost_flags, cost_terms
from rigfit.estimate_cli import add_scenario_flags, request_from_args
from rigfit.terminal import cli_text, format_table, json_text
from sizing.capacity import (DEFAULT_ITL_P95_MS, DEFAULT_THINK_TIME_S, DEFAULT_TTFT_P95_S,
                             ServeResult, ServeSettings, serve)
from sizing.request import parse_request
from sizing.speculative import SpeculativeSettings

# A team's server: vLLM at the precision models are published in, unless told otherwise.
DEFAULT_SERVE_RUNTIME = "vllm"
BATCHING_QUANT = "bf16"
BATCHING_RUNTIMES = ("vllm", "sglang")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scenario_flags(p)
    p.add_argument("--preset", choices=("chat", "code", "rag", "agent"),
                   help="request mix: prompt, reply and context lengths of one use")
    p.add_argument("--users", type=int, required=True, help="people using the machine")
    p.add_argument("--think-time-s", type=float, default=DEFAULT_THINK_TIME_S,
                   help="mean pause between a reply and the user's next request [s] "
                        f"(default {DEFAULT_THINK_TIME_S:g}; 0: requests back to back)")
    p.add_argument("--requests-per-minute", type=float,
                   help="requests arriving at this rate (Poisson) instead of users waiting for "
                        "replies; --users still sets the users-at-target figure")
    p.add_argument("--ttft-p95-s", type=float, default=DEFAULT_TTFT_P95_S,
                   help=f"95th-percentile time to first token target [s] (default {DEFAULT_TTFT_P95_S:g})")
    p.add_argument("--itl-p95-ms", type=float, default=DEFAULT_ITL_P95_MS,
                   help="95th-percentile inter-token latency target [ms] "
                        f"(default {DEFAULT_ITL_P95_MS:g})")
    p.add_argument("--prefix-hit-frac", type=float, default=0.0,
                   help="share of each prompt found in the prefix cache, 0-0.99 (default 0)")
    p.add_argument("--parallel", type=int, help="llama.cpp --parallel / OLLAMA_NUM_PARALLEL slots")
    p.add_argument("--usd-per-hour", type=float, help="rental price of the machine [USD/h]")
    add_cost_flags(p)
    p.add_argument("--speculative", choices=("draft", "mtp"),
                   help="speculative decoding with a draft model or the model's MTP modules")
    p.add_argument("--draft-model", help="catalog id of the draft model (--speculative draft)")
    p.add_argument("--draft-tokens", type=int, help="tokens the draft proposes per step (default 3)")
    p.add_argument("--acceptance-frac", type=float,
                   help="share of draft tokens accepted (default: the preset's published rate)")
    p.add_argument("--format", choices=("json", "table"), default="table")


def _validated(model, data: dict[str, Any]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    speculative = None
    if args.speculative:
        spec = {"method": args.speculative, "draft_model": args.draft_model,
                "draft_tokens": args.draft_tokens, "acceptance_frac": args.acceptance_frac,
                "task": args.preset}
        speculative = _validated(SpeculativeSettings, {k: v for k, v in spec.items() if v is not None})
    data = {"users": args.users, "think_time_s": args.think_time_s,
            "requests_per_minute": args.requests_per_minute, "ttft_p95_s": args.ttft_p95_s,
            "itl_p95_ms": args.itl_p95_ms, "prefix_hit_frac": args.prefix_hit_frac,
            "parallel": args.parallel, "usd_per_hour": args.usd_per_hour, "speculative": speculative}
    return _validated(ServeSettings, data)


def run(args: argparse.Namespace, cat: Catalog) -> int:
    data = request_from_args(args)
    if args.preset:
        data["workload"] = args.preset
    data.setdefault("runtime", DEFAULT_SERVE_RUNTIME)
    if data["runtime"] in BATCHING_RUNTIMES:
        data.setdefault("quant", BATCHING_QUANT)
    terms = cost_terms(args, cat, data)
    result = serve(parse_request(data), settings_from_args(args), cat)
    print(json_text(result.model_dump(mode="json")) if args.format == "json"
          else serve_table(result, terms, args.ui_lang))
    return 0


def serve_table(r: ServeResult, terms: RegionTerms | None = None,
                lang: str = DEFAULT_LANGUAGE) -> str:
    """Terminal view: the answer, the load, then the curve; money in ``terms``' currency."""
    def say(key: str, **values: object) -> str:
        return cli_text(f"serve.{key}", lang, **values)

    currency, units = (terms.currency, terms.units_per_usd) if terms else ("USD", 1.0)
    load = (say("load_rate", rate=f"{r.requests_per_minute:g}")
            if r.requests_per_minute is not None else say("load_users", users=r.users))
    lines = [say("head", model=r.model_name, quant=r.quant, count=r.gpu_count, gpu=r.gpu_name,
                 runtime=r.runtime, prompt=number_text(r.prompt_tokens, 0),
                 new=number_text(r.new_tokens, 0)),
             say("users_at_target", ttft=f"{r.target_ttft_p95_s:g}",
                 itl=f"{r.target_itl_p95_ms:g}", think=f"{r.think_time_s:g}",
                 users=r.max_users_at_target),
             say("at_load", load=load, tokens_per_s=number_text(r.throughput_tokens_per_s, 0),
                 ttft_p50=number_text(r.ttft_p50_s, 2), ttft_p95=number_text(r.ttft_p95_s, 2),
                 itl_p50=number_text(r.itl_p50_ms), itl_p95=number_text(r.itl_p95_ms),
                 meets=say("meets" if r.meets_target else "misses"),
                 limiter=say(f"limiter_{r.limiter}")),
             say("knee", requests=r.knee_concurrency)
             + (say("kv_pool", tokens=number_text(r.kv_pool_tokens, 0),
                    requests=r.kv_pool_requests)
                if r.kv_pool_tokens is not None else say("slots", slots=r.max_running_requests))]
    if r.requests_per_minute is not None:
        lines.insert(3, say("rate_at_target", rate=r.max_requests_per_minute_at_target))
    if r.cost_usd_per_1m_tokens is not None:
        lines.append(say(
            "cost", cost=usd_in_currency_text(r.cost_usd_per_1m_tokens, currency, units, digits=3),
            power_w=pattern_text(r.system_power_w, "{:.0f}"),
            kwh=usd_in_currency_text(r.usd_per_kwh, currency, units, digits=3),
            rent=say("rent", usd_per_hour=f"{r.usd_per_hour:g}") if r.usd_per_hour else ""))
    if r.speculative is not None:
        s = r.speculative
        lines.append(say("speculative", method=say(f"method_{s.method}"), tokens=s.draft_tokens,
                         acceptance=number_text(s.acceptance_frac, 2),
                         speedups=say("list_sep").join(
                             say("speedup", batch=row.batch, speedup=number_text(row.speedup, 2),
                                 low=number_text(row.speedup_low, 2),
                                 high=number_text(row.speedup_high, 2))
                             for row in s.speedups)))
    lines += ["", format_table([{say("col_in_flight"): p.concurrency,
                                 say("col_tokens_per_s"): round(p.throughput_tokens_per_s),
                                 say("col_ttft_p95_s"): round(p.ttft_p95_s, 2),
                                 say("col_itl_p95_ms"): round(p.itl_p95_ms, 1)} for p in r.curve])]
    return "\n".join(lines)
