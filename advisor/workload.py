"""The workload a plan sizes for, and its defaults, for every front end.

``rigfit plan`` and ``rigfit cloud``, the Builds and Cloud pages and the report
size one thing: each of ``users`` sends a prompt of ``prompt_tokens``, gets
``new_tokens`` back within a context of ``context_tokens``, and must decode at
``min_tokens_per_s`` or more. Decode speed is estimated at the depth the
prompt and the reply reach, so the prompt length matters as much as the
context. Every front end takes its defaults from here, so the same inputs give
the same builds, speeds and prices on every page, in the report and on the
command line.
"""

from __future__ import annotations

from advisor.candidates import READING_TOKENS_PER_S
from advisor.errors import PlanError
from catalog.errors import echo
from sizing.request import MAX_TOKENS, EstimateRequest

DEFAULT_PROMPT_TOKENS = 512
DEFAULT_NEW_TOKENS = 512
DEFAULT_CONTEXT_TOKENS = 8192  # allocated per user
DEFAULT_USERS = 1
DEFAULT_MIN_TOKENS_PER_S = READING_TOKENS_PER_S
DEFAULT_HOURS_PER_DAY = 8.0
DEFAULT_CIRCUIT_VOLTS = 120.0  # a North American 15 A outlet
DEFAULT_CIRCUIT_AMPS = 15.0
# "best": search the runtimes and weight formats (advisor.candidates.quant_ladder)
# for the most faithful one that fits and meets the speed.
SEARCH_QUANT = "best"


def workload_request(request: EstimateRequest, users: int, context_tokens: int | None) -> EstimateRequest:
    """The request as the plan sizes it: ``users`` sequences, the prompt and new
    tokens as given, within ``context_tokens`` (default the request's context).

    Prompt and new tokens are shortened only where they would overflow the
    context (new tokens to at most half of it); a plan needs at least one new
    token, so a request with none generates the default number, within the context.
    """
    context = context_tokens or request.allocated_context_tokens
    if context < 2:
        raise PlanError(f"context must be at least 2 tokens (got {context})",
                        code="context_too_short", params={"got": context})
    if context > MAX_TOKENS:  # the request's own bound, which model_copy below skips
        raise PlanError(f"context must be at most {MAX_TOKENS:,} tokens (got {echo(context)})",
                        code="context_too_long", params={"high": f"{MAX_TOKENS:,}",
                                                         "got": echo(context)})
    new = request.new_tokens or DEFAULT_NEW_TOKENS
    prompt = request.prompt_tokens
    if prompt + new > context:
        new = min(new, context // 2) or 1
        prompt = min(prompt, context - new)
    # The GPU fields belong to the sidebar's machine, not to the builds searched.
    return request.model_copy(update={"batch": users, "context_tokens": context,
                                      "prompt_tokens": prompt, "new_tokens": new,
                                      "gpu_count": 1, "split": None, "memory_gib": None})


# Where the search starts: llama.cpp's ladder, with vLLM's added for several users
# (advisor.candidates.quant_ladder), on the KV cache every runtime has.
SEARCH_RUNTIME = "llama.cpp"
SEARCH_KV_CACHE = "f16"


def plan_request(request: EstimateRequest, *, search: bool) -> tuple[EstimateRequest, str | None]:
    """The request and the ``quant`` a plan runs with.

    ``search``: the runtimes and weight formats are searched (``quant`` "best",
    starting from :data:`SEARCH_RUNTIME` with :data:`SEARCH_KV_CACHE`), as
    ``rigfit plan`` does by default; otherwise the request's own runtime, weight
    format and KV cache are used (``quant`` None).
    """
    if not search:
        return request, None
    return request.model_copy(update={"runtime": SEARCH_RUNTIME,
                                      "kv_cache": SEARCH_KV_CACHE}), SEARCH_QUANT
