"""Speculative decoding: a draft proposes tokens, the target checks them in one step.

Each round the draft (a small model of the same family, or the model's own
multi-token-prediction modules) proposes k tokens one after another; the
target runs one step over the k + 1 positions of every sequence and keeps
the longest agreeing prefix plus its own next token. With a per-token
acceptance rate a the expected tokens per round are (Leviathan et al. 2023,
"Fast Inference from Transformers via Speculative Decoding", eq. 1,
https://arxiv.org/abs/2211.17192)

    E = (1 - a^(k+1)) / (1 - a)

and the time per token is (k x t_draft(b) + t_verify(b, k + 1)) / E, both
steps from the speed model at the batch b. Verification reads the weights
once for k + 1 tokens, so it is nearly free while decoding is memory-bound
(small batches of a dense model) and costs k + 1 times the FLOPs once
compute binds (large batches); a mixture of experts reads the experts all
k + 1 tokens route to, most of them at once, so its gain is small. A small
target gains little because the draft is not much cheaper than it and the
per-layer launch time does not shrink with either.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from collections.abc import Callable
from dataclasses import replace

from catalog.catalog import Catalog
from catalog.errors import UserError
from catalog.schema import ModelArch
from sizing.architecture import param_breakdown
from sizing.memory import MemoryEstimate, kv_bytes_per_token, weight_bytes
from sizing.request import EstimateRequest
from sizing.results import Result
from sizing.service_level import SpeculativeSettings
from sizing.speed import estimate_speed, workload

# Per-token acceptance rates by task, from published runs. A small draft of the
# same family: LaMDA 137B with 100M, 2B and 8B drafts accepted 0.61-0.75 of tokens on
# dialogue (Leviathan et al. 2023, Table 3, https://arxiv.org/abs/2211.17192);
# code and retrieval answers copy more of their context and are accepted
# more often (EAGLE-2 reports its largest speed-ups on HumanEval,
# https://arxiv.org/abs/2406.16858). DeepSeek-V3's multi-token-prediction
# module proposes the second token with 85-90 % acceptance (DeepSeek-V3
# Technical Report, https://arxiv.org/abs/2412.19437).
DRAFT_ACCEPTANCE_FRAC = {"chat": 0.61, "code": 0.75, "rag": 0.7, "agent": 0.65}
MTP_ACCEPTANCE_FRAC = 0.85
# The band around the acceptance rate: about half the spread of the published rates
# across drafts of one target (0.61-0.75, Leviathan et al. 2023, Table 3).
ACCEPTANCE_BAND_FRAC = 0.1
BATCHES_SHOWN = (1, 8, 32, 128)


class SpeculativeError(UserError):
    """A speculative-decoding setting that cannot be used; says what to change."""


class SpeedupRow(Result):
    batch: int
    speedup: float  # decode time per token without / with speculation
    speedup_low: float  # at the low end of the acceptance band
    speedup_high: float


class SpeculativeSection(Result):
    """What speculation buys on this machine. [fraction, tokens, B]"""

    method: str
    draft_model_id: str | None
    draft_tokens: int
    acceptance_frac: float
    acceptance_low_frac: float
    acceptance_high_frac: float
    expected_tokens_per_step: float
    draft_cost_frac: float  # one draft step over one target step, at batch 1
    draft_weight_bytes: float
    draft_kv_bytes_per_token: float
    draft_kv_pool_tokens: int | None  # the KV pool once the draft's weights and cache are held
    speedups: list[SpeedupRow]


def expected_tokens_per_step(*, acceptance_frac: float, draft_tokens: int) -> float:
    """Tokens a speculative round yields on average. [tokens]

    >>> round(expected_tokens_per_step(acceptance_frac=0.8, draft_tokens=4), 3)
    3.362
    >>> expected_tokens_per_step(acceptance_frac=0.0, draft_tokens=4)
    1.0
    """
    if not 0 <= acceptance_frac < 1 or draft_tokens < 1:
        raise ValueError("acceptance_frac in [0, 1) and draft_tokens >= 1 required")
    a = acceptance_frac
    return (1.0 - a ** (draft_tokens + 1)) / (1.0 - a)


# A draft the build advisor picks is at most a fifth of the target's size: smaller
# drafts cost less per step (Leviathan et al. 2023 paired targets with drafts under a
# tenth of their size).
MAX_DRAFT_SIZE_FRAC = 0.2


def default_speculation(arch: ModelArch, catalog: Catalog, *, task: str = "chat"
                        ) -> SpeculativeSettings | None:
    """The speculation a build may use: the model's own MTP modules (one draft token
    per module), else the smallest catalog model of its family with its tokenizer
    (the same vocabulary) and at most a fifth of its size; None when there is none."""
    if arch.mtp_layers:
        return SpeculativeSettings(method="mtp", draft_tokens=arch.mtp_layers, task=task)
    family = arch.family.split("-")[0]
    drafts = [m for m in catalog.models
              if m.vocab_size == arch.vocab_size and m.family.split("-")[0] == family
              and m.task == "generate" and m.vision is None
              and m.params_total <= MAX_DRAFT_SIZE_FRAC * arch.params_total]
    if not drafts:
        return None
    draft = min(drafts, key=lambda m: m.params_total)
    return SpeculativeSettings(method="draft", draft_model=draft.id, task=task)


def _mtp_workload(w, arch: ModelArch, quant):
    """One MTP module costs one of the target's layers plus its output head."""
    parts = param_breakdown(arch)
    head_params = parts.embedding if arch.tie_word_embeddings else parts.output
    head = head_params * quant.output_bits_per_weight / 8
    per_layer = (w.weight_bytes - head) / arch.num_layers
    params_layer = (w.active_params - head_params) / arch.num_layers
    return replace(w, weight_bytes=per_layer + head, weight_bytes_all_experts=per_layer + head,
                   active_params=params_layer + head_params, num_layers=1,
                   full_attention_layers=1, windowed_layers=0,
                   kv_bytes_at=tuple(x / arch.num_layers for x in w.kv_bytes_at))


def speculative_decode(settings: SpeculativeSettings, *, step, arch: ModelArch,
                       request: EstimateRequest, catalog: Catalog, memory: MemoryEstimate,
                       kv_pool_tokens: int | None
                       ) -> tuple[SpeculativeSection, Callable[[int], tuple[float, bool]]]:
    """The speculative section and the per-token decode time it gives at a batch.

    ``step`` is the target's :class:`sizing.serving.StepModel`.
    """
    quant = catalog.quant(request.quant)
    kv_element = catalog.kv_cache_type(request.kv_cache).bytes_per_element
    runtime = catalog.runtime(request.runtime)
    if settings.method == "mtp":
        if not arch.mtp_layers:
            raise SpeculativeError(f"{arch.name} ships no multi-token-prediction modules: "
                                   "use a draft model", code="spec_no_mtp", params={"model": arch.name})
        draft_w = _mtp_workload(step.w, arch, quant)
        draft_bytes = draft_w.weight_bytes * arch.mtp_layers
        draft_kv_token = kv_bytes_per_token(arch, bytes_per_element=kv_element) / arch.num_layers
        draft_id, draft_options = None, step.speed_options
        acceptance = settings.acceptance_frac or MTP_ACCEPTANCE_FRAC
    else:
        if settings.draft_model is None:
            raise SpeculativeError("a draft model is needed: give its catalog id", code="spec_no_draft")
        draft = catalog.model(settings.draft_model)
        if draft.vocab_size != arch.vocab_size:
            raise SpeculativeError(f"{draft.name} has a vocabulary of {draft.vocab_size:,} tokens, "
                                   f"{arch.name} one of {arch.vocab_size:,}: a draft must share "
                                   "the target's tokenizer", code="spec_vocab",
                                   params={"draft": draft.name, "draft_vocab": f"{draft.vocab_size:,}",
                                           "model": arch.name, "vocab": f"{arch.vocab_size:,}"})
        if draft.params_total >= arch.params_total:
            raise SpeculativeError(f"the draft {draft.name} is not smaller than {arch.name}",
                                   code="spec_not_smaller", params={"draft": draft.name, "model": arch.name})
        draft_w = workload(draft, quant, prompt_tokens=request.prompt_tokens,
                           new_tokens=max(request.new_tokens, 1), kv_bytes_per_element=kv_element,
                           embeddings_on_host=runtime.embeddings_on_host)
        draft_bytes = weight_bytes(draft, quant, embeddings_on_host=runtime.embeddings_on_host).device_bytes
        draft_kv_token = kv_bytes_per_token(draft, bytes_per_element=kv_element)
        draft_id = draft.id
        draft_options = step.speed_options | {"hidden_size": draft.hidden_size}
        acceptance = settings.acceptance_frac or DRAFT_ACCEPTANCE_FRAC[settings.task]
    k = settings.draft_tokens

    pool = None
    if kv_pool_tokens is not None:
        target_kv_token = memory.kv_bytes_per_token
        pool_bytes = kv_pool_tokens * target_kv_token - draft_bytes
        pool = int(pool_bytes // (target_kv_token + draft_kv_token)) if pool_bytes > 0 else 0
        if pool < request.prompt_tokens + request.new_tokens:
            raise SpeculativeError("the draft's weights leave no room in the KV pool for one request",
                                   code="spec_no_pool")
    elif memory.per_device_total_bytes + (draft_bytes + draft_kv_token * request.batch
                                          * request.allocated_context_tokens) / request.gpu_count \
            > memory.per_device_usable_bytes:
        raise SpeculativeError("the draft does not fit next to the model: free memory or drop it",
                               code="spec_no_room")

    draft_cache: dict[int, float] = {}

    def draft_s(batch: int) -> float:
        if batch not in draft_cache:
            est = estimate_speed(draft_w, **(draft_options | {"sequences": batch, "new_tokens": 1}))
            draft_cache[batch] = batch / est.decode_tokens_per_s
        return draft_cache[batch]

    def per_token_s(batch: int, a: float) -> tuple[float, bool]:
        verify_s, bound = step.plain_decode(batch, tokens_per_sequence=k + 1)
        tokens = expected_tokens_per_step(acceptance_frac=a, draft_tokens=k)
        return (verify_s + k * draft_s(batch)) / tokens, bound

    low, high = max(0.01, acceptance - ACCEPTANCE_BAND_FRAC), min(0.99, acceptance + ACCEPTANCE_BAND_FRAC)
    rows = []
    for b in BATCHES_SHOWN:
        plain = step.plain_decode(b)[0]
        rows.append(SpeedupRow(batch=b, speedup=plain / per_token_s(b, acceptance)[0],
                               speedup_low=plain / per_token_s(b, low)[0],
                               speedup_high=plain / per_token_s(b, high)[0]))
    section = SpeculativeSection(
        method=settings.method, draft_model_id=draft_id, draft_tokens=k, acceptance_frac=acceptance,
        acceptance_low_frac=low, acceptance_high_frac=high,
        expected_tokens_per_step=expected_tokens_per_step(acceptance_frac=acceptance, draft_tokens=k),
        draft_cost_frac=draft_s(1) / step.plain_decode(1)[0], draft_weight_bytes=draft_bytes,
        draft_kv_bytes_per_token=draft_kv_token, draft_kv_pool_tokens=pool, speedups=rows)
    return section, lambda batch: per_token_s(batch, acceptance)
