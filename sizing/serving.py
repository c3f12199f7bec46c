"""Serving a team: how a runtime shares one machine among many users.

A serving engine runs in iterations. Each iteration decodes one token for
every running request and, in the same forward pass, processes a chunk of
waiting prompts (chunked prefill). The time of an iteration comes from the
speed model (:mod:`sizing.speed`) at the batch it carries:

    t(b, c) = max(t_decode(max(b, 1)), (c + b) x t_prefill_token)

with t_decode(b) the decode step of b sequences (weights read once, cache
read per sequence, matmul FLOPs growing with b: memory-bound at small b,
compute-bound at large b), c the prompt tokens of the chunk and
t_prefill_token the prompt time per token when prompts fill a whole pass:
the weights are read once per pass, not once per prompt, so a short prompt
riding along with the decodes costs its FLOPs, not another read of the
weights; no pass is quicker than reading the weights once. A mixture-of-experts model reads
the experts its batch routes to: 1 - (1 - k/E)^tokens of them.

Admission differs by runtime (:data:`SCHEDULERS`): vLLM and SGLang admit a
request while the paged KV pool (16-token blocks) holds its prompt and reply
and the running count is under ``max_num_seqs``; llama.cpp's server and
Ollama give each request one of a fixed number of slots, each with its share
of the context. Requests that cannot start wait in order.

Users form a closed loop: each sends a request, reads the reply, thinks for
an exponentially distributed time and sends the next. A discrete-event
simulation with a fixed seed gives the time to first token (TTFT) and the
inter-token latency (ITL) of every request and token, hence their
percentiles; iterations that change nothing but the clock are taken in one
leap, so a whole curve takes a fraction of a second. Formulas and sources:
docs/model.md, Serving.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from catalog.schema import Gpu, ModelArch
from sizing.limits import largest_passing
from sizing.service_level import MAX_SERVE_USERS
from sizing.speed import Workload, estimate_speed

# vLLM's paged KV cache allocates blocks of 16 tokens (--block-size default,
# https://docs.vllm.ai/en/latest/configuration/engine_args.html).
KV_BLOCK_TOKENS = 16
# Requests a simulation completes per user before it measures, then measures.
WARMUP_ROUNDS = 1
MEASURED_ROUNDS = 4
MIN_MEASURED_REQUESTS = 40
# Open loop (requests arriving at a rate, whoever sends them): requests before and while measuring.
OPEN_WARMUP_REQUESTS = 20
OPEN_MEASURED_REQUESTS = 200
SEED = 17
# The curve's knee: the first concurrency reaching this share of the peak throughput.
KNEE_FRAC = 0.9
LIMITERS = ("kv_pool", "slots", "compute", "bandwidth")
# Share of the measured time requests may wait on a full pool or all slots
# before that wait, not the GPU, is named the limiter.
QUEUE_LIMIT_FRAC = 0.05


@dataclass(frozen=True)
class Scheduler:
    """How a runtime admits and batches requests. [requests, tokens]"""

    kind: str  # "continuous": paged KV pool; "slots": a fixed number of parallel slots
    max_running: int  # most requests decoding at once (max_num_seqs, or the slots)
    chunk_tokens: int  # tokens one iteration processes: decodes plus a prompt chunk
    source: str


def scheduler_for(runtime_id: str, gpu: Gpu, *, slots: int | None = None) -> Scheduler:
    """The scheduler a runtime runs with by default on ``gpu``.

    vLLM's OpenAI server: ``max_num_seqs`` 1024 and ``max_num_batched_tokens``
    8192 on GPUs of 70 GiB or more other than the A100, else 256 and 2048
    (``EngineArgs.get_batch_defaults``,
    https://github.com/vllm-project/vllm/blob/main/vllm/engine/arg_utils.py).
    SGLang: ``chunked_prefill_size`` 8192, running requests bounded by its
    pool (https://docs.sglang.ai/advanced_features/server_arguments.html).
    llama.cpp's server: 4 slots when ``--parallel`` is left at auto
    (https://github.com/ggml-org/llama.cpp/issues/17989), batches of 2048
    tokens (``-b``). Ollama: ``OLLAMA_NUM_PARALLEL`` 1 by default (earlier
    releases chose 4 or 1 by free memory), llama.cpp's 512-token batch
    (https://github.com/ollama/ollama/blob/main/docs/faq.mdx).
    """
    if runtime_id == "vllm":
        big = gpu.memory_gib >= 70 and "a100" not in gpu.id
        return Scheduler("continuous", 1024 if big else 256, 8192 if big else 2048,
                         "https://github.com/vllm-project/vllm/blob/main/vllm/engine/arg_utils.py")
    if runtime_id == "sglang":
        return Scheduler("continuous", MAX_SERVE_USERS, 8192,
                         "https://docs.sglang.ai/advanced_features/server_arguments.html")
    if runtime_id in ("llama.cpp", "llama.cpp-vulkan"):
        return Scheduler("slots", slots or 4, 2048,
                         "https://github.com/ggml-org/llama.cpp/issues/17989")
    if runtime_id == "ollama":
        return Scheduler("slots", slots or 1, 512,
                         "https://github.com/ollama/ollama/blob/main/docs/faq.mdx")
    raise ValueError(f"serving is modelled for vllm, sglang, llama.cpp and ollama, not {runtime_id}")


def experts_read_frac(*, experts: int, experts_per_token: int, tokens: int) -> float:
    """Share of a layer's routed experts that ``tokens`` tokens touch. [fraction]

    Each token picks ``experts_per_token`` of ``experts``; with independent
    routing an expert is missed by all tokens with probability (1 - k/E)^tokens.

    >>> round(experts_read_frac(experts=128, experts_per_token=8, tokens=1), 4)
    0.0625
    >>> round(experts_read_frac(experts=128, experts_per_token=8, tokens=64), 3)
    0.984
    """
    if experts < 1 or not 1 <= experts_per_token <= experts or tokens < 1:
        raise ValueError("experts >= experts_per_token >= 1 and tokens >= 1 required")
    return 1.0 - (1.0 - experts_per_token / experts) ** tokens


def batch_workload(w: Workload, arch: ModelArch, tokens: int) -> Workload:
    """The workload with the weight bytes a step of ``tokens`` tokens reads. [B]

    Dense models read every weight whatever the batch; a mixture of experts
    reads the experts its tokens route to, between the active and the full bytes.
    """
    if not arch.num_experts or not arch.num_experts_per_token or (
            w.weight_bytes_all_experts <= w.weight_bytes):
        return w
    k, e = arch.num_experts_per_token, arch.num_experts
    one = k / e
    more = (experts_read_frac(experts=e, experts_per_token=k, tokens=tokens) - one) / (1.0 - one)
    extra = (w.weight_bytes_all_experts - w.weight_bytes) * max(0.0, more)
    return replace(w, weight_bytes=w.weight_bytes + extra)


@dataclass
class StepModel:
    """Iteration times of one model on one machine, from the speed model. [s]

    ``speed_options`` are :func:`sizing.speed.estimate_speed`'s keyword
    arguments for the scenario (``sizing.estimate.speed_inputs``);
    ``decode_s_per_token`` may replace the plain decode step (speculative
    decoding: :mod:`sizing.speculative`).
    """

    w: Workload
    arch: ModelArch
    speed_options: dict
    prefill_tokens: int  # prompt tokens each request processes (after prefix-cache hits)
    pass_tokens: int = 1  # most tokens one iteration carries (the scheduler's chunk_tokens)
    decode_override: Callable[[int], tuple[float, bool]] | None = None
    _decode: dict[int, tuple[float, bool]] = field(default_factory=dict)
    _prefill_token_s: float | None = None

    def plain_decode(self, batch: int, tokens_per_sequence: int = 1) -> tuple[float, bool]:
        """Time of one decode step of ``batch`` sequences and whether compute binds it. [s]"""
        w = batch_workload(self.w, self.arch, batch * tokens_per_sequence)
        est = estimate_speed(w, **(self.speed_options | {"sequences": batch, "new_tokens": 1,
                                                         "tokens_per_sequence": tokens_per_sequence}))
        step_s = batch / est.decode_tokens_per_s
        return step_s, est.decode_compute_util_frac >= est.decode_memory_util_frac

    def decode(self, batch: int) -> tuple[float, bool]:
        """Time per generated token of a decode step at ``batch``, and compute-bound. [s]"""
        if batch not in self._decode:
            self._decode[batch] = (self.decode_override(batch) if self.decode_override
                                   else self.plain_decode(batch))
        return self._decode[batch]

    def prefill_token_s(self) -> float:
        """Prompt processing time per token when this request's prompts fill a pass. [s]

        As many prompts as one iteration carries (``pass_tokens``, at least one)
        share the weight reads and kernel launches of the pass; each keeps its
        own attention over its prompt.
        """
        if self._prefill_token_s is None:
            prompt = max(self.prefill_tokens, 1)
            prompts = max(1, self.pass_tokens // prompt)
            est = estimate_speed(self.w, **(self.speed_options | {
                "sequences": prompts, "prompt_tokens": prompt, "new_tokens": 1}))
            self._prefill_token_s = 1.0 / est.prefill_tokens_per_s
        return self._prefill_token_s

    def iteration(self, decoding: int, chunk_tokens: int) -> tuple[float, bool]:
        """One iteration with ``decoding`` decodes and a prompt chunk: time, compute-bound. [s]"""
        if chunk_tokens <= 0:
            return self.decode(decoding) if decoding else (0.0, False)
        # Every pass reads the weights at least once: a lone prompt chunk costs a decode step's reads.
        decode_s, compute_bound = self.decode(max(decoding, 1))
        chunk_s = (chunk_tokens + decoding) * self.prefill_token_s()
        return (chunk_s, True) if chunk_s >= decode_s else (decode_s, compute_bound)


@dataclass(frozen=True)
class SimResult:
    """What a simulation measured. [s, tokens/s, fractions]"""

    users: int
    output_tokens_per_s: float
    total_tokens_per_s: float
    ttft_p50_s: float
    ttft_p95_s: float
    itl_p50_s: float
    itl_p95_s: float
    mean_running: float  # requests decoding or prefilling, time-averaged
    queue_blocked_frac: float  # share of time a request waited on the pool or the slots
    compute_bound_frac: float  # share of busy time in compute-bound iterations
    blocked_by: str  # "kv_pool" or "slots": what stopped admission most often


@dataclass
class _Request:
    user: int
    arrival_s: float
    prompt_left: int
    first_token_s: float | None = None


def _percentile(values: list[float], frac: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(frac * len(ordered)) - 1))]


def _weighted_percentile(pairs: list[tuple[float, int]], frac: float) -> float:
    total = sum(n for _, n in pairs)
    if total == 0:
        return 0.0
    need = frac * total
    seen = 0
    for value, n in sorted(pairs):
        seen += n
        if seen >= need:
            return value
    return pairs[-1][0]


def simulate(step: StepModel, scheduler: Scheduler, *, users: int, prompt_tokens: int,
             new_tokens: int, think_time_s: float, kv_pool_tokens: int | None,
             requests_per_s: float | None = None, total_requests: int | None = None,
             seed: int = SEED) -> SimResult:
    """Serve ``users`` users in a closed loop and measure latency and throughput.

    ``kv_pool_tokens``: tokens the paged KV pool holds (continuous batching;
    each request reserves blocks for its prompt and reply), None for slots.
    ``requests_per_s``: an open loop instead, requests arriving as a Poisson
    process at that rate whatever the server's progress (``users`` and
    ``think_time_s`` are then unused). ``total_requests``: a finite closed-loop
    run instead of the steady state, as a serving benchmark sends it
    (``vllm bench serve --num-prompts N --max-concurrency users``): the users
    send that many requests in all, measured from the first sent to the last
    answered, the ramp at the start and the partly empty last wave included.
    """
    if users < 1 or new_tokens < 1:
        raise ValueError("users and new_tokens must be at least 1")
    if requests_per_s is not None and not requests_per_s > 0:
        raise ValueError("requests_per_s must be above 0")
    if total_requests is not None and (total_requests < 1 or requests_per_s is not None):
        raise ValueError("total_requests must be at least 1, and only in a closed loop")
    rng = random.Random(seed)
    open_loop = requests_per_s is not None

    def think() -> float:
        return rng.expovariate(1.0 / think_time_s) if think_time_s > 0 else 0.0

    blocks_each = math.ceil((prompt_tokens + new_tokens) / KV_BLOCK_TOKENS)
    pool_blocks = None if kv_pool_tokens is None else kv_pool_tokens // KV_BLOCK_TOKENS
    prefill_each = max(step.prefill_tokens, 1)
    first_users = users if total_requests is None else min(users, total_requests)
    arrivals = ([(rng.expovariate(requests_per_s), 0)] if open_loop else
                [(think() * 0.5 if think_time_s > 0 else 0.0, u) for u in range(first_users)])
    sent = first_users
    heapq.heapify(arrivals)
    waiting: deque[_Request] = deque()
    prefilling: list[_Request] = []
    finish: list[tuple[int, int, float, int]] = []  # (decode step it ends at, order, arrival, user)
    decode_steps = 0  # decode iterations so far: a request's tokens follow this clock
    order = 0
    now = 0.0
    warmup = OPEN_WARMUP_REQUESTS if open_loop else users * WARMUP_ROUNDS
    measure = OPEN_MEASURED_REQUESTS if open_loop else max(users * MEASURED_ROUNDS,
                                                           MIN_MEASURED_REQUESTS)
    completed = 0
    start_s = None
    if total_requests is not None:
        warmup, measure, start_s = 0, total_requests, 0.0
    ttfts: list[float] = []
    itls: list[tuple[float, int]] = []
    running_time = blocked_time = busy_time = compute_time = 0.0
    blocked = {"kv_pool": 0.0, "slots": 0.0}
    out_tokens = 0

    while completed < warmup + measure:
        while arrivals and arrivals[0][0] <= now + 1e-12:
            t, u = heapq.heappop(arrivals)
            waiting.append(_Request(u, t, prefill_each))
            if open_loop:
                heapq.heappush(arrivals, (t + rng.expovariate(requests_per_s), 0))
        running = len(prefilling) + len(finish)
        # Admit in order while the pool (or a slot) and a running place are free.
        reason = None
        while waiting:
            if running >= scheduler.max_running:
                reason = "slots"
                break
            if pool_blocks is not None and (running + 1) * blocks_each > pool_blocks:
                reason = "kv_pool"
                break
            prefilling.append(waiting.popleft())
            running += 1
        if not prefilling and not finish:
            if not arrivals:
                break
            now = max(now, arrivals[0][0])
            continue
        decoding = len(finish)
        budget = max(0, scheduler.chunk_tokens - decoding)
        chunk = 0
        done_prefill: list[_Request] = []
        for req in prefilling:
            if chunk >= budget:
                break
            take = min(req.prompt_left, budget - chunk)
            req.prompt_left -= take
            chunk += take
            if req.prompt_left == 0:
                done_prefill.append(req)
        if chunk == 0 and decoding:
            # Pure decode: leap to the next completion or the next admissible arrival.
            dt, bound = step.iteration(decoding, 0)
            leap = finish[0][0] - decode_steps
            if arrivals and reason is None:
                leap = min(leap, max(1, math.ceil((arrivals[0][0] - now) / dt)))
            leap = max(1, leap)
        else:
            dt, bound = step.iteration(decoding, chunk)
            leap = 1
        span = dt * leap
        measuring = start_s is not None
        if measuring:
            running_time += running * span
            busy_time += span
            compute_time += span if bound else 0.0
            if waiting and reason:
                blocked_time += span
                blocked[reason] += span
            if decoding:
                itls.append((dt, decoding * leap))
                out_tokens += decoding * leap
        now += span
        decode_steps += leap if decoding else 0
        for req in done_prefill:
            prefilling.remove(req)
            req.first_token_s = now
            if measuring:
                ttfts.append(now - req.arrival_s)
                out_tokens += 1
            order += 1
            heapq.heappush(finish, (decode_steps + new_tokens - 1, order, req.arrival_s, req.user))
        while finish and finish[0][0] <= decode_steps:
            _, _, _, user = heapq.heappop(finish)
            completed += 1
            if completed == warmup:
                start_s = now
            if not open_loop and (total_requests is None or sent < total_requests):
                heapq.heappush(arrivals, (now + think(), user))
                sent += 1
    elapsed = max(now - (start_s or 0.0), 1e-12)
    out_rate = out_tokens / elapsed
    in_rate = len(ttfts) * prompt_tokens / elapsed
    return SimResult(
        users=users, output_tokens_per_s=out_rate, total_tokens_per_s=out_rate + in_rate,
        ttft_p50_s=_percentile(ttfts, 0.5), ttft_p95_s=_percentile(ttfts, 0.95),
        itl_p50_s=_weighted_percentile(itls, 0.5), itl_p95_s=_weighted_percentile(itls, 0.95),
        mean_running=running_time / elapsed, queue_blocked_frac=blocked_time / elapsed,
        compute_bound_frac=compute_time / max(busy_time, 1e-12),
        blocked_by=max(blocked, key=lambda k: blocked[k]))


def limiter_of(result: SimResult) -> str:
    """What limits the load: the pool or the slots when requests wait on them,
    else compute or bandwidth, whichever binds the busy time. [label]"""
    if result.queue_blocked_frac > QUEUE_LIMIT_FRAC:
        return result.blocked_by
    return "compute" if result.compute_bound_frac >= 0.5 else "bandwidth"


def curve_concurrencies(limit: int, users: int) -> list[int]:
    """Concurrency levels of the curve: powers of two to twice the running
    limit (or the users), at most :data:`MAX_SERVE_USERS`, with ``users`` itself."""
    top = min(MAX_SERVE_USERS, max(2 * limit, users, 2))
    levels = {1 << i for i in range(int(math.log2(top)) + 1)} | {min(users, MAX_SERVE_USERS), top}
    return sorted(levels)


def knee_concurrency(points: list[tuple[int, float]]) -> int:
    """The first concurrency whose throughput reaches KNEE_FRAC of the peak. [requests]

    >>> knee_concurrency([(1, 100.0), (2, 190.0), (4, 290.0), (8, 330.0), (16, 331.0)])
    8
    """
    peak = max(tps for _, tps in points)
    return next(c for c, tps in points if tps >= KNEE_FRAC * peak)


def max_users_at_target(run: Callable[[int], SimResult], *, ttft_p95_s: float, itl_p95_s: float,
                        hi: int = MAX_SERVE_USERS) -> int:
    """Most users whose p95 TTFT and ITL stay within the targets (0: not even one).

    Latency grows with load, so a search over the user count finds the edge.
    """
    def ok(n: int) -> bool:
        r = run(n)
        return r.ttft_p95_s <= ttft_p95_s and r.itl_p95_s <= itl_p95_s

    return largest_passing(ok, high=hi)
