"""Capacity at a service level: how many users one machine serves within latency targets.

:func:`serve` answers a team lead's question for one model on one machine
and runtime: the users it holds while the 95th-percentile time to first
token and inter-token latency stay within the targets, the throughput
against concurrency with its knee, p50/p95 latencies at the chosen load,
what limits first and the cost per million generated tokens there. The
mechanics (iteration times, admission, the simulation) are in
:mod:`sizing.serving`; speculative decoding in :mod:`sizing.speculative`.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import math
from dataclasses import dataclass

from catalog.catalog import Catalog
from catalog.schema import ModelArch
from sizing.box import DEFAULT_USD_PER_KWH
from sizing.estimate import TASK_WORDS, estimate, memory_for, speed_inputs
from sizing.request import (EstimateRequest, check_compatibility, check_parallel, file_quant,
                            resolve_gpu, resolve_model)
from sizing.notices import count_text
from sizing.limits import largest_passing
from sizing.results import Result
from sizing.serving import (Scheduler, SimResult, StepModel, curve_concurrencies,
                            knee_concurrency, limiter_of, max_users_at_target, scheduler_for,
                            simulate)
from sizing.service_level import (DEFAULT_ITL_P95_MS, DEFAULT_THINK_TIME_S, DEFAULT_TTFT_P95_S,
                                  MAX_SERVE_USERS, ServeError, ServeSettings, serve_settings)
from sizing.speculative import SpeculativeSection, speculative_decode
from sizing.speed import SpeedUnknownError
from sizing.units import SECONDS_PER_HOUR, wh_to_kwh

SECONDS_PER_MINUTE = 60.0
TOKENS_PER_MILLION = 1_000_000


class CurvePoint(Result):
    """Throughput and p95 latencies with ``concurrency`` requests always in flight."""

    concurrency: int
    throughput_tokens_per_s: float  # generated tokens, all requests
    ttft_p95_s: float
    itl_p95_ms: float


class ServeResult(Result):
    """A machine serving a team: capacity at the targets, the curve, the load. [units in names]"""

    model_id: str
    model_name: str
    gpu_id: str
    gpu_name: str
    gpu_count: int
    runtime: str
    quant: str
    prompt_tokens: int
    new_tokens: int
    prefill_tokens: int  # prompt tokens processed per request after prefix-cache hits
    users: int
    think_time_s: float
    target_ttft_p95_s: float
    target_itl_p95_ms: float
    max_users_at_target: int
    requests_per_minute: float | None = None  # the load was this arrival rate, not the users
    max_requests_per_minute_at_target: int | None = None  # with an arrival rate
    meets_target: bool  # the chosen number of users is within the targets
    throughput_tokens_per_s: float  # generated tokens at the chosen load
    total_tokens_per_s: float  # prompt and generated tokens at the chosen load
    ttft_p50_s: float
    ttft_p95_s: float
    itl_p50_ms: float
    itl_p95_ms: float
    mean_running_requests: float
    limiter: str  # kv_pool | slots | compute | bandwidth
    scheduler: str  # continuous | slots
    max_running_requests: int  # max_num_seqs or the slots
    kv_pool_tokens: int | None  # continuous batching: tokens the KV pool holds
    kv_pool_requests: int | None  # requests of prompt + reply the pool holds at once
    knee_concurrency: int
    curve: list[CurvePoint]
    system_power_w: float
    usd_per_kwh: float
    usd_per_hour: float | None
    cost_usd_per_1m_tokens: float | None  # generated tokens, power (and rent when given)
    scheduler_source: str
    speculative: SpeculativeSection | None = None


def _resolved(request: EstimateRequest, catalog: Catalog, arch: ModelArch | None = None):
    if arch is None:
        arch, _ = resolve_model(request, catalog)
    request, _ = file_quant(request, arch)
    check_compatibility(request, catalog)
    return request, arch


@dataclass(frozen=True)
class ServingSetup:
    """A model, machine and runtime ready to simulate. [tokens]"""

    request: EstimateRequest  # batch 1, context at least prompt + reply
    arch: ModelArch
    gpu_id: str
    gpu_name: str
    runtime_id: str
    scheduler: Scheduler
    step: StepModel
    prompt: int
    new: int
    prefill_tokens: int
    kv_pool: int | None
    pool_requests: int | None
    spec: SpeculativeSection | None

    def simulate(self, users: int, think_time_s: float, *,
                 requests_per_minute: float | None = None,
                 total_requests: int | None = None) -> SimResult:
        return simulate(self.step, self.scheduler, users=users, prompt_tokens=self.prompt,
                        new_tokens=self.new, think_time_s=think_time_s,
                        kv_pool_tokens=self.kv_pool,
                        requests_per_s=None if requests_per_minute is None
                        else requests_per_minute / SECONDS_PER_MINUTE,
                        total_requests=total_requests)


def serving_setup(request: EstimateRequest, settings: ServeSettings, catalog: Catalog,
                  arch: ModelArch | None) -> ServingSetup:
    """Resolve the scenario, check the memory and build the iteration model; raises ServeError."""
    request, arch = _resolved(request, catalog, arch)
    gpu = resolve_gpu(request, catalog)
    runtime = catalog.runtime(request.runtime)
    try:
        scheduler = scheduler_for(runtime.id, gpu, slots=settings.parallel)
    except ValueError as exc:
        raise ServeError(str(exc), code="serve_runtime", params={"runtime": runtime.id}) from None
    prompt, new = request.prompt_tokens, max(request.new_tokens, 1)
    per_request = prompt + new
    base = request.model_copy(update={"batch": 1, "new_tokens": new,
                                      "context_tokens": max(request.allocated_context_tokens,
                                                            per_request)})
    check_parallel(base, catalog, arch, base.split or "layer")
    kv_pool = pool_requests = None
    if scheduler.kind == "slots":
        # llama.cpp's server splits its context (-c) among the slots; Ollama gives each
        # slot the whole num_ctx (OLLAMA_NUM_PARALLEL x OLLAMA_CONTEXT_LENGTH, docs/faq.mdx).
        slots = scheduler.max_running
        total = (slots * base.allocated_context_tokens if runtime.id == "ollama"
                 else max(base.allocated_context_tokens, slots * per_request))
        sized = base.model_copy(update={"context_tokens": total})
        memory = memory_for(sized, catalog, arch)
        if not memory.fits:
            raise ServeError(
                f"{count_text(slots, 'slot', 'slots')} sharing {total:,} tokens of context of "
                f"{arch.name} do not fit on {request.gpu_count} x {gpu.name} with {runtime.id}: "
                "lower the parallel slots, the context or the quant", code="serve_slots_do_not_fit",
                params={"slots": slots, "context": f"{total:,}",
                        "model": arch.name, "count": request.gpu_count, "gpu": gpu.name,
                        "runtime": runtime.id})
    else:
        memory = memory_for(base, catalog, arch)
        if not memory.fits or not memory.kv_capacity_tokens:
            raise ServeError(f"{arch.name} at {request.quant} leaves no KV pool on "
                             f"{request.gpu_count} x {gpu.name} with {runtime.id}: use more GPUs "
                             "or a smaller quant", code="serve_no_kv_pool",
                             params={"model": arch.name, "quant": request.quant,
                                     "count": request.gpu_count, "gpu": gpu.name,
                                     "runtime": runtime.id})
        kv_pool = memory.kv_capacity_tokens
        pool_requests = kv_pool // (math.ceil(per_request / 16) * 16)
        if pool_requests < 1:
            raise ServeError(f"the KV pool ({kv_pool:,} tokens) holds no request of "
                             f"{per_request:,} tokens: shorten the prompt or reply, or add memory",
                             code="serve_pool_too_small",
                             params={"pool": f"{kv_pool:,}", "tokens": f"{per_request:,}"})
    try:
        w, options = speed_inputs(sized if scheduler.kind == "slots" else base, catalog, arch, memory)
    except SpeedUnknownError as exc:
        raise ServeError(f"speed unknown: {exc}", code=exc.code, params=exc.params) from None
    if scheduler.kind == "continuous":
        # A batching server runs each prompt chunk as one pass: the weights are read once per chunk.
        options = options | {"ubatch_tokens": scheduler.chunk_tokens}
    prefill_tokens = max(1, math.ceil(prompt * (1.0 - settings.prefix_hit_frac)))
    step = StepModel(w=w, arch=arch, speed_options=options, prefill_tokens=prefill_tokens,
                     pass_tokens=scheduler.chunk_tokens)
    spec = None
    if settings.speculative is not None:
        spec, step.decode_override = speculative_decode(
            settings.speculative, step=step, arch=arch,
            request=sized if scheduler.kind == "slots" else base, catalog=catalog, memory=memory,
            kv_pool_tokens=kv_pool)
        if spec.draft_kv_pool_tokens is not None and kv_pool is not None:
            kv_pool = spec.draft_kv_pool_tokens
            pool_requests = kv_pool // (math.ceil(per_request / 16) * 16)
    return ServingSetup(request=base, arch=arch, gpu_id=gpu.id, gpu_name=gpu.name, runtime_id=runtime.id,
                    scheduler=scheduler, step=step, prompt=prompt, new=new,
                    prefill_tokens=prefill_tokens, kv_pool=kv_pool, pool_requests=pool_requests,
                    spec=spec)


def within_targets(result: SimResult, settings: ServeSettings) -> bool:
    """Whether a load's p95 time to first token and inter-token latency meet the targets."""
    return (result.ttft_p95_s <= settings.ttft_p95_s
            and result.itl_p95_s * 1000.0 <= settings.itl_p95_ms)


def load_at(request: EstimateRequest, settings: ServeSettings, catalog: Catalog, *,
            arch: ModelArch | None = None) -> SimResult:
    """One simulation at ``settings.users`` users, or at its arrival rate (what the build
    advisor checks a build with)."""
    return serving_setup(request, settings, catalog, arch).simulate(
        settings.users, settings.think_time_s, requests_per_minute=settings.requests_per_minute)


def serve(request: EstimateRequest, settings: ServeSettings, catalog: Catalog, *,
          arch: ModelArch | None = None) -> ServeResult:
    """Capacity of the request's machine and runtime for ``settings.users`` users.

    The request gives the model, GPU(s), runtime, weight format, KV cache and
    each request's prompt and reply lengths; its batch is ignored. ``arch``
    overrides the request's model (an uploaded config).
    """
    setup = serving_setup(request, settings, catalog, arch)
    arch, base, scheduler = setup.arch, setup.request, setup.scheduler
    if arch.task != "generate":  # no reply: no inter-token latency, no generated tokens to count
        raise ServeError(f"{arch.name} is an encoder-only {TASK_WORDS[arch.task]} model: it "
                         "generates nothing, and serving is modelled for models that generate tokens",
                         code="serve_encoder",
                         params={"model": arch.name, "task_term": TASK_WORDS[arch.task]})
    kv_pool, pool_requests, spec = setup.kv_pool, setup.pool_requests, setup.spec
    prompt, new, prefill_tokens = setup.prompt, setup.new, setup.prefill_tokens
    runs: dict[tuple[int, float], SimResult] = {}

    def run(users: int, think_s: float) -> SimResult:
        if (users, think_s) not in runs:
            runs[users, think_s] = setup.simulate(users, think_s)
        return runs[users, think_s]

    limit = min(scheduler.max_running, pool_requests or scheduler.max_running)
    curve = [run(c, 0.0) for c in curve_concurrencies(limit, settings.users)]
    itl_target_s = settings.itl_p95_ms / 1000.0
    most = max_users_at_target(lambda n: run(n, settings.think_time_s),
                               ttft_p95_s=settings.ttft_p95_s, itl_p95_s=itl_target_s)
    rate = settings.requests_per_minute
    most_rate = None
    if rate is None:
        load = run(settings.users, settings.think_time_s)
    else:
        load = setup.simulate(settings.users, 0.0, requests_per_minute=rate)
        # Past twice the rate the peak throughput sustains, every request waits longer and longer.
        peak = max(r.output_tokens_per_s for r in curve)
        top = max(1, math.ceil(2 * SECONDS_PER_MINUTE * peak / new))
        most_rate = largest_passing(lambda r: within_targets(
            setup.simulate(settings.users, 0.0, requests_per_minute=float(r)), settings), high=top)
    power_w, usd_per_kwh = _power(base, catalog, arch, load)
    cost = None
    if load.output_tokens_per_s > 0:
        usd_per_s = (wh_to_kwh(power_w) * usd_per_kwh + (settings.usd_per_hour or 0.0)) / SECONDS_PER_HOUR
        cost = usd_per_s / load.output_tokens_per_s * TOKENS_PER_MILLION
    return ServeResult(
        model_id=arch.id, model_name=arch.name, gpu_id=setup.gpu_id, gpu_name=setup.gpu_name,
        gpu_count=base.gpu_count, runtime=setup.runtime_id, quant=base.quant,
        prompt_tokens=prompt, new_tokens=new, prefill_tokens=prefill_tokens,
        users=settings.users, think_time_s=settings.think_time_s,
        target_ttft_p95_s=settings.ttft_p95_s, target_itl_p95_ms=settings.itl_p95_ms,
        max_users_at_target=most, requests_per_minute=rate,
        max_requests_per_minute_at_target=most_rate,
        meets_target=within_targets(load, settings),
        throughput_tokens_per_s=load.output_tokens_per_s, total_tokens_per_s=load.total_tokens_per_s,
        ttft_p50_s=load.ttft_p50_s, ttft_p95_s=load.ttft_p95_s,
        itl_p50_ms=load.itl_p50_s * 1000.0, itl_p95_ms=load.itl_p95_s * 1000.0,
        mean_running_requests=load.mean_running, limiter=limiter_of(load),
        scheduler=scheduler.kind, max_running_requests=scheduler.max_running,
        kv_pool_tokens=kv_pool, kv_pool_requests=pool_requests,
        knee_concurrency=knee_concurrency([(r.users, r.output_tokens_per_s) for r in curve]),
        curve=[CurvePoint(concurrency=r.users, throughput_tokens_per_s=r.output_tokens_per_s,
                          ttft_p95_s=r.ttft_p95_s, itl_p95_ms=r.itl_p95_s * 1000.0) for r in curve],
        system_power_w=power_w, usd_per_kwh=usd_per_kwh, usd_per_hour=settings.usd_per_hour,
        cost_usd_per_1m_tokens=cost, scheduler_source=scheduler.source, speculative=spec)


def _power(base: EstimateRequest, catalog: Catalog, arch: ModelArch, load: SimResult) -> tuple[float, float]:
    """The machine's draw at the load's mean batch, and the electricity price. [W, USD/kWh]"""
    batch = max(1, min(round(load.mean_running), MAX_SERVE_USERS))
    answer = estimate(base.model_copy(update={"batch": batch}), catalog, arch=arch)
    price = (base.electricity_usd_per_kwh if base.electricity_usd_per_kwh is not None
             else DEFAULT_USD_PER_KWH)
    return answer.power.system_power_w, price


__all__ = ["ServeError", "ServeResult", "ServeSettings", "CurvePoint", "serve", "Scheduler",
           "serve_settings", "DEFAULT_ITL_P95_MS", "DEFAULT_THINK_TIME_S", "DEFAULT_TTFT_P95_S"]
