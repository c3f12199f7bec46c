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
from report.formats import usd_in_currency_text
from rigfit.cost_flags import add_cost_flags, cost_terms
from rigfit.estimate_cli import add_scenario_flags, request_from_args
from rigfit.terminal import format_table, json_text
from sizing.capacity import (DEFAULT_ITL_P95_MS, DEFAULT_THINK_TIME_S, DEFAULT_TTFT_P95_S,
                             ServeResult, ServeSettings, serve)
from sizing.notices import count_text
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
          else serve_table(result, terms))
    return 0


def serve_table(r: ServeResult, terms: RegionTerms | None = None) -> str:
    """Terminal view: the answer, the load, then the curve; money in ``terms``' currency."""
    currency, units = (terms.currency, terms.units_per_usd) if terms else ("USD", 1.0)
    load = (f"{r.requests_per_minute:g} requests/min" if r.requests_per_minute is not None
            else count_text(r.users, "user", "users"))
    lines = [f"{r.model_name} {r.quant} on {r.gpu_count} x {r.gpu_name} with {r.runtime}: "
             f"{r.prompt_tokens:,} prompt + {r.new_tokens:,} new tokens per request",
             f"users at the target (p95 TTFT <= {r.target_ttft_p95_s:g} s, p95 ITL <= "
             f"{r.target_itl_p95_ms:g} ms, {r.think_time_s:g} s think time): {r.max_users_at_target}",
             f"at {load}: {r.throughput_tokens_per_s:,.0f} tokens/s generated, TTFT p50 "
             f"{r.ttft_p50_s:.2f} s / p95 {r.ttft_p95_s:.2f} s, ITL p50 {r.itl_p50_ms:.1f} ms / p95 "
             f"{r.itl_p95_ms:.1f} ms; {'meets' if r.meets_target else 'misses'} the target; "
             f"limited by {r.limiter}",
             f"knee at {r.knee_concurrency} requests in flight; "
             + (f"KV pool {r.kv_pool_tokens:,} tokens ({r.kv_pool_requests} requests)"
                if r.kv_pool_tokens is not None else count_text(r.max_running_requests, "slot", "slots"))]
    if r.requests_per_minute is not None:
        lines.insert(3, "requests per minute within the target: "
                        f"{r.max_requests_per_minute_at_target}")
    if r.cost_usd_per_1m_tokens is not None:
        kwh = usd_in_currency_text(r.usd_per_kwh, currency, units, digits=3)
        lines.append(f"cost {usd_in_currency_text(r.cost_usd_per_1m_tokens, currency, units, digits=3)}"
                     f" per million generated tokens ({r.system_power_w:.0f} W at {kwh}/kWh"
                     + (f" + {r.usd_per_hour:g} USD/h)" if r.usd_per_hour else ")"))
    if r.speculative is not None:
        s = r.speculative
        lines.append(f"speculative ({s.method}, {s.draft_tokens} tokens, acceptance "
                     f"{s.acceptance_frac:.2f}): " + ", ".join(
                         f"batch {row.batch} x{row.speedup:.2f} ({row.speedup_low:.2f}-"
                         f"{row.speedup_high:.2f})" for row in s.speedups))
    lines += ["", format_table([{"in flight": p.concurrency,
                                 "tokens/s": round(p.throughput_tokens_per_s),
                                 "TTFT p95 s": round(p.ttft_p95_s, 2),
                                 "ITL p95 ms": round(p.itl_p95_ms, 1)} for p in r.curve])]
    return "\n".join(lines)
