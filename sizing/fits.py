"""What runs on one machine: every model x weight format x runtime at once (numpy).

The reverse of :func:`sizing.estimate.estimate`: given the GPUs, their count
and the system RAM, size every catalog model in every weight format each
runtime runs, choose per model and runtime the format to show, and rank.

Every quantity is the scalar engine's, evaluated over arrays of rows instead
of one scenario at a time (:mod:`sizing.vector` holds the array forms of
:mod:`sizing.memory` and :mod:`sizing.speed`); ``tests/test_fits.py``
samples rows and checks them against the scalar engine.

Rules, as the page and ``docs/model.md`` state them:

* A use whose requests carry images lists only the models that read images
  (a vision encoder in the catalog entry): vision adds one 1024 x 1024 px
  image to a chat, the agent one phone screenshot of the agent preset's size
  (:mod:`sizing.workloads`) to each step. Each image counts as the tokens the
  model's own rule gives it, in the prompt and the context as the estimate
  adds them; the longest context shown is the text that fits beside them.
* A row *runs* when it fits entirely on the GPU(s), or, on a runtime that
  offloads layers to system RAM, when at least one layer fits on the GPU and
  the offloaded layers fit in the RAM left after the operating system
  (:data:`sizing.system.OS_RESERVE_GIB`).
* Per model and runtime the format shown is, among those that run: one that
  meets the floors (decode speed, context) first; then one of a family of at
  least :data:`MIN_FAITHFUL_BITS_PER_WEIGHT` bits (Q3_K_L is 3-bit); then one that
  fits on the GPU(s) without offload, the most faithful of those (most bits per
  weight); with
  offload, the smallest faithful one (least in RAM, fastest).
* The ranking: rows meeting the floors first; then rows in a faithful
  format (a published score is the full model's); then known quality before
  unknown; then, scores of two leaderboards never being compared, the models
  the first ranking leaderboard scores, higher first, before those only the
  next one scores, higher first (:data:`catalog.quality.RANKING_LEADERBOARDS`:
  the LMArena text arena, then the Open LLM Leaderboard v2); then faster
  decode. The second leaderboard's score (the Intelligence Index) is shown
  beside it and never ranks.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.catalog import Catalog, runtime_api
from catalog.errors import invalid_input
from catalog.quality import RANKING_LEADERBOARDS, SECOND_LEADERBOARD, QualityTable
from catalog.schema import Gpu, ModelArch, Quant, Runtime
from sizing.estimate import DEFAULT_RAM, default_interconnect, speed_constants
from sizing.fit import published_in, runtime_quants
from sizing.request import (DEFAULT_IMAGE_HEIGHT_PX, DEFAULT_IMAGE_WIDTH_PX, MAX_GPUS, MAX_TOKENS,
                            EstimateRequest, RequestError, check_hardware, resolve_gpu,
                            tensor_parallel_problem)
from sizing.results import Result
from sizing.speed import (SpeedUnknownError, bandwidth_bytes_per_s, compute_flops_per_s, memory_class,
                          ram_bandwidth_gb_per_s)
from sizing.memory import usable_bytes_per_device
from sizing.system import OS_RESERVE_GIB, PURCHASABLE_RAM_GIB
from sizing.units import gib_to_bytes
from sizing.model_rows import MemoryModel, ModelArrays, QuantArrays, RowMemory, Rows, row_speed
from sizing.vision import encoder_activation_bytes, image_cost
from sizing.workloads import PRESETS

USES = ("chat", "code", "reasoning", "vision", "agent", "embed")
Use = Literal["chat", "code", "reasoning", "vision", "agent", "embed"]
MAX_RAM_GIB = float(PURCHASABLE_RAM_GIB[-1])
KV_BYTES_PER_ELEMENT = 2.0  # f16 cache, every runtime's default
EMBED_PROMPT_TOKENS = 512  # one passage per request: a typical retrieval chunk
# Below 4-bit formats quality falls off: llama.cpp's own table puts Q4_K_M at
# +0.18 perplexity on Llama-3-8B and Q2_K at +3.52
# (QUANT_OPTIONS in https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/quantize.cpp).
# The floor is on the format's family, the bit width its name carries
# (quant_family_bits), not on bits per weight: Q3_K_L stores 4.19 bits per
# weight with its scales and keeps some tensors at higher types, yet its
# blocks are 3-bit. Formats under this are chosen only when no faithful one runs.
MIN_FAITHFUL_BITS_PER_WEIGHT = 4.0
# The bit width in a format's id: GGUF Q3_K_L / IQ4_XS, int4, fp8, nf4, mxfp4, mlx-4bit, f16.
_FAMILY_BITS = re.compile(r"^i?q(\d+)|^b?f(\d+)$|(?:int|fp|nf)(\d+)|(\d+)bit")
SPEED_KEYS = ("decode", "decode_low", "decode_high", "prefill", "prefill_low", "prefill_high")


@dataclass(frozen=True)
class UseShape:
    """The request one use sizes, and the models it lists. [tokens, images, px]

    ``prompt_tokens`` and ``context_tokens`` count text; each of ``images``
    adds the tokens the model's own rule gives an image of
    ``image_width_px`` x ``image_height_px`` (:func:`image_tokens`).
    """

    prompt_tokens: int
    new_tokens: int
    context_tokens: int
    tasks: tuple[str, ...]  # ModelArch.task values listed
    images: int = 0  # per request
    image_width_px: int = DEFAULT_IMAGE_WIDTH_PX
    image_height_px: int = DEFAULT_IMAGE_HEIGHT_PX

    @property
    def vision_only(self) -> bool:
        """Whether only models that read images are listed: those of a use whose requests
        carry images (a text-only model could not answer them)."""
        return self.images > 0


def _preset(use: str, tasks: tuple[str, ...] = ("generate",), *, images: int | None = None) -> UseShape:
    """A workload preset's request; ``images`` at the size a request's images default to
    replaces the preset's own (None: the preset's images, at the preset's size)."""
    p = PRESETS[use]
    if images is not None:
        return UseShape(p.prompt_tokens, p.new_tokens, p.context_tokens, tasks, images)
    if not p.images:
        return UseShape(p.prompt_tokens, p.new_tokens, p.context_tokens, tasks)
    return UseShape(p.prompt_tokens, p.new_tokens, p.context_tokens, tasks, p.images,
                    p.image_width_px, p.image_height_px)


# Text tokens of each use (sizing.workloads). Reasoning and vision are sized as
# a chat; vision adds one image per request at the size a request's images
# default to (sizing.request: 1024 x 1024 px, a photo or a screen). The agent
# is the phone agent's last step with its own image: one screenshot of the
# preset's phone screen (1080 x 2400 px). Each image counts as the model's own
# image tokens, and a use whose requests carry images lists only the models
# that read them. A reasoning model's longer replies fit the chat context.
USE_SHAPES: dict[str, UseShape] = {
    "chat": _preset("chat"),
    "code": _preset("code"),
    "reasoning": _preset("chat"),
    "vision": _preset("chat", images=1),
    "agent": _preset("agent"),
    "embed": UseShape(EMBED_PROMPT_TOKENS, 0, EMBED_PROMPT_TOKENS, ("embed", "rerank")),
}


class FitsRequest(BaseModel):
    """The user's machine and what they accept."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    gpu: str
    gpu_count: int = Field(default=1, ge=1, le=MAX_GPUS)
    memory_gib: float | None = Field(default=None, gt=0)  # a machine sold in several sizes
    ram_gib: float = Field(default=32.0, ge=0, le=MAX_RAM_GIB)  # system RAM [GiB]
    ram: str | None = None  # RAM type for offload speed, e.g. ddr5-6000x2
    runtimes: tuple[str, ...] = ()  # none: every runtime that runs on the GPU
    use: Use = "chat"
    min_decode_tokens_per_s: float = Field(default=0.0, ge=0, le=1e6)
    min_context_tokens: int = Field(default=0, ge=0, le=MAX_TOKENS)
    all_quants: bool = False  # every format that runs, not only the one chosen per model


def parse_fits_request(data: dict) -> FitsRequest:
    """Validate a mapping into a request; errors become one readable line."""
    try:
        return FitsRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, RequestError) from None


@dataclass(frozen=True)
class Quality:
    """A model's published leaderboard scores. [score on each leaderboard's scale]

    ``score`` is the first ranking leaderboard's that scores the model
    (``board``: its id), ``second_score`` the second leaderboard's; None
    where that leaderboard publishes none.
    """

    score: float | None
    source: str | None  # leaderboard, date and address, in one line
    second_score: float | None = None
    second_source: str | None = None
    board: str | None = None  # the ranking leaderboard ``score`` is on


def _scores(table: QualityTable, leaderboard_id: str) -> dict[str, tuple[float, str]]:
    board = table.leaderboard(leaderboard_id)
    return {model: (s.score, f"{board.name}, {board.as_of.isoformat()}: {s.source}")
            for model, s in table.for_leaderboard(leaderboard_id).items()}


def ranking_quality(table: QualityTable) -> dict[str, Quality]:
    """By model id: the first ranking leaderboard's score that exists and the second
    leaderboard's, each with its source line."""
    second = _scores(table, SECOND_LEADERBOARD)
    ranking = {}
    for board in reversed(RANKING_LEADERBOARDS):  # the earlier leaderboard wins
        ranking |= {model: (*found, board) for model, found in _scores(table, board).items()}
    out = {}
    for model in ranking.keys() | second.keys():
        score, source, board = ranking.get(model, (None, None, None))
        out[model] = Quality(score, source, *second.get(model, (None, None)), board=board)
    return out


def board_rank(board: str | None) -> int:
    """A ranking leaderboard's place in :data:`RANKING_LEADERBOARDS` (after them all: none)."""
    return RANKING_LEADERBOARDS.index(board) if board in RANKING_LEADERBOARDS else len(
        RANKING_LEADERBOARDS)


class FitRow(Result):
    """One model in one weight format on one runtime, on the user's machine."""

    model: str  # model id
    model_name: str
    params_b: float  # total parameters [billions]
    quant: str
    bits_per_weight: float  # of the transformer blocks
    faithful: bool  # a format of MIN_FAITHFUL_BITS_PER_WEIGHT bits or more (its family's)
    runtime: str
    decode_tokens_per_s: float | None  # None: an encoder, or the speed is unknown
    decode_tokens_per_s_low: float | None
    decode_tokens_per_s_high: float | None
    prefill_tokens_per_s: float | None
    prefill_tokens_per_s_low: float | None
    prefill_tokens_per_s_high: float | None
    max_context_tokens: int  # longest context that fits (with offload: that runs), less images
    model_max_context_tokens: int
    image_tokens: int  # the use's images in one request (vision, agent), in the context beside the text
    offload: bool  # some layers live in system RAM
    gpu_layers: int
    num_layers: int
    offloaded_bytes: float
    per_device_total_bytes: float  # at the use's context
    quality: float | None  # on the ranking leaderboard quality_board
    quality_source: str | None
    quality_board: str | None  # id of the leaderboard quality is on
    second_quality: float | None  # on the second leaderboard; never ranks
    second_quality_source: str | None
    meets_floors: bool


class FitTable(Result):
    """The ranked answer for one machine."""

    gpu: str
    gpu_name: str
    gpu_count: int
    gpu_memory_gib: float
    ram_gib: float  # 0 on unified memory, which has no RAM apart from the GPU's
    unified: bool
    use: str
    prompt_tokens: int  # text
    new_tokens: int
    context_tokens: int  # text
    images: int  # per request, each counted as the model's own image tokens
    image_width_px: int
    image_height_px: int
    runtimes: list[str]
    rows: list[FitRow]  # ranked
    not_running: list[str]  # model ids that run on none of the runtimes
    speed_unknown_reason: str | None = None


@dataclass(frozen=True)
class Machine:
    """The resolved hardware of a request."""

    gpu: Gpu
    gpu_count: int
    ram_budget_bytes: float  # RAM the offloaded layers may use
    ram_gb_per_s: float
    runtimes: tuple[Runtime, ...]
    unified: bool = False  # one memory for GPU and CPU: no offload to system RAM


def resolve_machine(request: FitsRequest, catalog: Catalog) -> Machine:
    """GPU, runtimes and RAM of a request, checked as the estimate checks them."""
    probe = EstimateRequest(model="machine", gpu=request.gpu, gpu_count=request.gpu_count,
                            memory_gib=request.memory_gib, ram=request.ram)
    gpu = resolve_gpu(probe, catalog)
    check_hardware(probe, catalog, gpu)
    if request.runtimes:
        runtimes = tuple(catalog.runtime(r) for r in dict.fromkeys(request.runtimes))
        for runtime in runtimes:
            if runtime_api(runtime, gpu) is None:
                able = [r.id for r in catalog.runtimes if runtime_api(r, gpu) is not None]
                raise RequestError(f"runtime '{runtime.id}' does not run on {gpu.name}; "
                                   f"runtimes that do: {', '.join(able)}", code="runtime_not_on_gpu",
                                   params={"runtime": runtime.id, "gpu": gpu.name,
                                           "able": ", ".join(able)})
    else:
        runtimes = tuple(r for r in catalog.runtimes if runtime_api(r, gpu) is not None)
    # Unified memory (a Mac, DGX Spark, Ryzen AI Max) has no RAM apart from the GPU's:
    # nothing is offloaded to it.
    unified = memory_class(gpu) == "unified"
    budget = 0.0 if unified else max(0.0, gib_to_bytes(request.ram_gib - OS_RESERVE_GIB))
    return Machine(gpu=gpu, gpu_count=request.gpu_count, ram_budget_bytes=budget,
                   ram_gb_per_s=ram_bandwidth_gb_per_s(request.ram or DEFAULT_RAM),
                   runtimes=runtimes, unified=unified)


def image_tokens(arch: ModelArch, shape: UseShape) -> int:
    """Tokens the use's images add to one request of ``arch`` (0: no images). [tokens]

    Each image counts as the model's own rule sizes it (:func:`sizing.vision.image_cost`).

    >>> from catalog.catalog import load_catalog
    >>> image_tokens(load_catalog().model("qwen2.5-vl-7b"), USE_SHAPES["vision"])
    1369
    """
    return _image_load(arch, shape)[0]


def _image_load(arch: ModelArch, shape: UseShape) -> tuple[int, float]:
    """The use's image tokens in one request, and the vision encoder's buffer while it
    encodes one image (0, 0: no images). [tokens, B]"""
    if not shape.images or arch.vision is None:
        return 0, 0.0
    cost = image_cost(arch.vision, shape.image_width_px, shape.image_height_px)
    return cost.tokens * shape.images, encoder_activation_bytes(arch.vision, cost)


def listed_models(models: Sequence[ModelArch], use: str) -> list[ModelArch]:
    """The models a use lists: by task, and only vision-language models for a use whose
    requests carry images (vision, the phone agent's screenshot)."""
    shape = USE_SHAPES[use]
    return [m for m in models if m.task in shape.tasks and (m.vision is not None
                                                            or not shape.vision_only)]


@dataclass(frozen=True)
class RuntimeRows:
    """Every (model, format) row of one runtime, evaluated. [arrays over rows]"""

    runtime: Runtime
    rows: Rows
    rank_in_model: np.ndarray  # 0: the model's most faithful format
    memory: RowMemory  # at the use's context
    runs: np.ndarray
    on_gpu: np.ndarray
    max_context_tokens: np.ndarray  # longest context that runs, less the images' tokens
    image_tokens: np.ndarray  # the use's images in one request
    decode: np.ndarray  # tokens/s, NaN: none
    decode_low: np.ndarray
    decode_high: np.ndarray
    prefill: np.ndarray
    prefill_low: np.ndarray
    prefill_high: np.ndarray


def offered(quant: Quant, arch: ModelArch) -> bool:
    """Whether a row sizes ``arch`` in ``quant``: a format it is published in, and for a
    model read from its own file, that file's format only (as the estimate sizes it)."""
    if arch.file_weights is not None:
        return quant.id == arch.file_weights.quant
    return published_in(quant, arch)


def split_of(runtime: Runtime, gpu_count: int) -> str:
    """How a runtime splits a model over several GPUs (as the estimate's default)."""
    return "tensor" if runtime.supports_tensor_parallel and gpu_count > 1 else "layer"


def evaluate_runtime(catalog: Catalog, machine: Machine, runtime: Runtime,
                     models: Sequence[ModelArch], shape: UseShape,
                     model_arrays: ModelArrays | None = None) -> RuntimeRows | None:
    """Memory, fit, longest context and speed of every candidate row of one runtime.

    ``model_arrays`` are ``models``' shapes when the caller already gathered them.
    """
    split = split_of(runtime, machine.gpu_count)
    # Per model, sizing.fit.candidate_quants: the runtime's formats, most faithful
    # first, that the model is published in (sizing.fit.published_in).
    quants = runtime_quants(catalog, runtime)
    usable = np.array([tensor_parallel_problem(a, runtime, machine.gpu_count, split) is None
                       for a in models], dtype=bool)
    published = np.array([[offered(q, a) for q in quants] for a in models],
                         dtype=bool).reshape(len(models), len(quants))
    published &= usable[:, None]
    model_index, quant_index = np.nonzero(published)  # row-major: per model, most faithful first
    if not len(model_index):
        return None
    rank = (np.cumsum(published, axis=1) - 1)[model_index, quant_index]
    rows = Rows.of(model_arrays or ModelArrays.of(models), QuantArrays.of(quants), model_index,
                   quant_index, embeddings_on_host=runtime.embeddings_on_host)
    common = dict(runtime=runtime, gpu_count=machine.gpu_count, tensor=split == "tensor",
                  new_tokens=shape.new_tokens, kv_bytes_per_element=KV_BYTES_PER_ELEMENT)
    # The use's images join the prompt and the context, as the estimate adds them
    # (sizing.estimate.with_images), and the encoder's buffer joins the activations.
    per_model = np.array([_image_load(a, shape) for a in models], dtype=float).reshape(len(models), 2)
    images = per_model[rows.model_index, 0].astype(np.int64)
    model = MemoryModel.of(rows, usable_bytes=usable_bytes_per_device(machine.gpu, runtime),
                           encoder_act_bytes=per_model[rows.model_index, 1], **common)
    max_ctx = rows.models.max_context_tokens[rows.model_index]
    context = np.maximum(np.minimum(shape.context_tokens, max_ctx),
                         shape.prompt_tokens + shape.new_tokens) + images
    prompt = shape.prompt_tokens + images
    memory = model.at(context, prompt)
    on_gpu = memory.fits
    runs = on_gpu | _offload_runs(memory, runtime, machine)

    def fits_at(index: np.ndarray):
        """Whether the rows at ``index`` still run (on the GPU alone where they do at the
        use's context) at another context."""
        part, alone, part_prompt = model.take(index), on_gpu[index], prompt[index]

        def predicate(ctx: np.ndarray) -> np.ndarray:
            m = part.at(ctx, np.minimum(ctx, part_prompt))
            return np.where(alone, m.fits, m.fits | _offload_runs(m, runtime, machine))
        return predicate

    longest = longest_true(fits_at, max_ctx)
    speed = _speeds(catalog, machine, rows, memory, common, prompt)
    return RuntimeRows(runtime=runtime, rows=rows, rank_in_model=rank, memory=memory,
                       runs=runs, on_gpu=on_gpu, max_context_tokens=np.maximum(longest - images, 0),
                       image_tokens=images, **speed)


def _offload_runs(memory: RowMemory, runtime: Runtime, machine: Machine) -> np.ndarray:
    """Rows that run with some layers in system RAM, within the RAM left after the OS."""
    if not runtime.supports_offload:
        return np.zeros_like(memory.fits)
    return (~memory.fits & (memory.gpu_layers > 0)
            & (memory.offloaded_bytes + memory.host_weights_bytes <= machine.ram_budget_bytes))


def longest_true(predicate_for, high: np.ndarray) -> np.ndarray:
    """Per row, the largest n in [1, high] with the predicate true (0: none). [tokens]

    The answer of :func:`sizing.fit.max_context_tokens`, by a binary search of
    every row at once: ``predicate_for(index)`` gives the predicate of the rows at
    ``index``, which must be monotonic (true up to a point, then false). Only
    the rows still undecided after trying 1 and ``high`` are searched.
    """
    high = high.astype(np.int64)
    everything = predicate_for(np.arange(len(high)))
    ok_one = everything(np.ones_like(high))
    ok_high = everything(high)
    answer = np.where(~ok_one, 0, np.where(ok_high, high, 1))
    index = np.flatnonzero(ok_one & ~ok_high)
    if len(index):
        predicate = predicate_for(index)
        low, top = np.ones(len(index), dtype=np.int64), high[index]
        while True:
            open_ = top - low > 1
            if not open_.any():
                break
            mid = (low + top) // 2
            ok = predicate(np.where(open_, mid, low))
            low = np.where(open_ & ok, mid, low)
            top = np.where(open_ & ~ok, mid, top)
        answer[index] = low
    return answer


def _speeds(catalog: Catalog, machine: Machine, rows: Rows, memory: RowMemory, common: dict,
            prompt_tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Speeds of every row at its prompt and the use's reply (NaN: unknown or none). [tokens/s]

    :func:`sizing.model_rows.row_speed` takes one prompt length: rows are evaluated
    in groups of equal prompts (one group without images; with them, one per
    distinct image token count).
    """
    try:
        bandwidth_bytes_per_s(machine.gpu)
        compute_flops_per_s(machine.gpu, rows.quants.quants[0])
    except SpeedUnknownError:
        nan = np.full(memory.fits.shape, np.nan)
        return dict.fromkeys(SPEED_KEYS, nan)
    constants = {kind: speed_constants(catalog, machine.gpu, common["runtime"], kind)
                 for kind in ("float", "int-quant")}
    link = catalog.interconnect(default_interconnect(machine.gpu))
    offloaded_frac = np.where(memory.fits, 0.0, 1.0 - memory.gpu_layers / memory.num_layers)
    out = {key: np.full(len(prompt_tokens), np.nan) for key in SPEED_KEYS}
    for prompt in np.unique(prompt_tokens):
        index = np.flatnonzero(prompt_tokens == prompt)
        group = row_speed(rows.take(index), **common, gpu=machine.gpu, constants=constants,
                          prompt_tokens=int(prompt), offloaded_frac=offloaded_frac[index],
                          ram_gb_per_s=machine.ram_gb_per_s,
                          link_bandwidth_gb_per_s=link.bandwidth_gb_per_s,
                          link_latency_s=link.latency_s)
        for key in SPEED_KEYS:
            out[key][index] = group[key]
    return out


def _chosen(ev: RuntimeRows, meets: np.ndarray, all_quants: bool) -> np.ndarray:
    """Indices of the rows to show: per model the format the rules choose (or every one)."""
    candidates = np.flatnonzero(ev.runs)
    if all_quants:
        return candidates
    faithful = _faithful(ev)[candidates]
    on_gpu, rank = ev.on_gpu[candidates], ev.rank_in_model[candidates]
    # The most faithful format, except with offload among faithful ones: the
    # smallest (the least in RAM, the fastest).
    order_in_group = np.where(on_gpu | ~faithful, rank, -rank)
    # lexsort: the last key is the primary one.
    order = np.lexsort((order_in_group, ~on_gpu, ~faithful, ~meets[candidates],
                        ev.rows.model_index[candidates]))
    picked = candidates[order]
    first = np.ones(len(picked), dtype=bool)
    first[1:] = ev.rows.model_index[picked][1:] != ev.rows.model_index[picked][:-1]
    return picked[first]


def quant_family_bits(quant: Quant) -> float:
    """The bit width of a weight format's family, as its name gives it. [bits]

    GGUF's K- and I-quants carry it after Q (Q3_K_L: 3, IQ4_XS: 4); GPTQ/AWQ
    int4, bitsandbytes NF4 and int8, FP8, MXFP4 and MLX name it too. A format
    whose name carries none (EXL2's average bits) is its blocks' bits per weight.

    >>> from catalog.catalog import load_catalog
    >>> [quant_family_bits(load_catalog().quant(q)) for q in ("q3_k_l", "iq4_xs", "bf16", "exl2-3.5")]
    [3.0, 4.0, 16.0, 3.5]
    """
    match = _FAMILY_BITS.search(quant.id)
    if match is None:
        return quant.body_bits_per_weight
    return float(next(g for g in match.groups() if g is not None))


def faithful(quant: Quant) -> bool:
    """Whether a format's family is at least :data:`MIN_FAITHFUL_BITS_PER_WEIGHT` bits."""
    return quant_family_bits(quant) >= MIN_FAITHFUL_BITS_PER_WEIGHT


def _faithful(ev: RuntimeRows) -> np.ndarray:
    """Rows in a faithful format (:func:`faithful`)."""
    return np.array([faithful(q) for q in ev.rows.quants.quants], dtype=bool)[ev.rows.quant_index]


def _floors(ev: RuntimeRows, request: FitsRequest) -> np.ndarray:
    encoder = np.array([m.task != "generate" for m in ev.rows.models.archs])[ev.rows.model_index]
    speed_ok = encoder | (np.nan_to_num(ev.decode, nan=-1.0) >= request.min_decode_tokens_per_s)
    return speed_ok & (ev.max_context_tokens >= request.min_context_tokens)


def fit_rows(ev: RuntimeRows, request: FitsRequest,
             quality: Mapping[str, Quality]) -> list[FitRow]:
    """The rows to show for one runtime, unranked."""
    meets = _floors(ev, request)
    chosen = _chosen(ev, meets, request.all_quants)
    # Plain Python numbers (NaN: none) for the chosen rows, column by column.
    columns = {name: getattr(ev, name)[chosen].tolist() for name in (
        *SPEED_KEYS, "on_gpu", "max_context_tokens", "image_tokens")}
    columns |= {name: getattr(ev.memory, name)[chosen].tolist() for name in (
        "gpu_layers", "offloaded_bytes", "per_device_total_bytes")}
    columns["meets"] = meets[chosen].tolist()
    out = []
    for k, (m, q) in enumerate(zip(ev.rows.model_index[chosen].tolist(),
                                   ev.rows.quant_index[chosen].tolist())):
        arch, quant = ev.rows.models.archs[m], ev.rows.quants.quants[q]
        speeds = {key: None if math.isnan(columns[key][k]) else columns[key][k]
                  for key in SPEED_KEYS}
        score = quality.get(arch.id) or Quality(None, None)
        out.append(FitRow(
            model=arch.id, model_name=arch.name, params_b=arch.params_total / 1e9,
            quant=quant.id, bits_per_weight=quant.body_bits_per_weight,
            faithful=faithful(quant), runtime=ev.runtime.id,
            decode_tokens_per_s=speeds["decode"], decode_tokens_per_s_low=speeds["decode_low"],
            decode_tokens_per_s_high=speeds["decode_high"],
            prefill_tokens_per_s=speeds["prefill"], prefill_tokens_per_s_low=speeds["prefill_low"],
            prefill_tokens_per_s_high=speeds["prefill_high"],
            max_context_tokens=columns["max_context_tokens"][k],
            model_max_context_tokens=arch.max_context_tokens,
            image_tokens=columns["image_tokens"][k],
            offload=not columns["on_gpu"][k], gpu_layers=columns["gpu_layers"][k],
            num_layers=arch.num_layers, offloaded_bytes=columns["offloaded_bytes"][k],
            per_device_total_bytes=columns["per_device_total_bytes"][k],
            quality=score.score, quality_source=score.source, quality_board=score.board,
            second_quality=score.second_score, second_quality_source=score.second_source,
            meets_floors=columns["meets"][k]))
    return out


def rank_key(row: FitRow) -> tuple:
    """Sort key of the ranking: floors met, a faithful format, quality known, its
    leaderboard (in :data:`RANKING_LEADERBOARDS` order: scores of two are never compared),
    quality, decode speed, then id (a published score is the full model's, so a format of a
    family under :data:`MIN_FAITHFUL_BITS_PER_WEIGHT` bits ranks after the faithful ones)."""
    return (not row.meets_floors, not row.faithful, row.quality is None,
            board_rank(row.quality_board), -(row.quality or 0.0), -(row.decode_tokens_per_s or 0.0),
            row.model, row.runtime, -row.bits_per_weight)


def fits(request: FitsRequest, catalog: Catalog, *, quality: Mapping[str, Quality] | None = None,
         extra_models: Sequence[ModelArch] = ()) -> FitTable:
    """Every model that runs on the machine, ranked (see the module's rules)."""
    machine = resolve_machine(request, catalog)
    shape = USE_SHAPES[request.use]
    models = listed_models([*catalog.models, *extra_models], request.use)
    quality = quality or {}
    rows: list[FitRow] = []
    arrays = ModelArrays.of(models) if models else None
    for runtime in machine.runtimes:
        evaluated = evaluate_runtime(catalog, machine, runtime, models, shape, arrays)
        if evaluated is not None:
            rows += fit_rows(evaluated, request, quality)
    rows.sort(key=rank_key)
    running = {r.model for r in rows}
    reason = None
    try:
        bandwidth_bytes_per_s(machine.gpu)
    except SpeedUnknownError as exc:
        reason = str(exc)
    return FitTable(
        gpu=machine.gpu.id, gpu_name=machine.gpu.name, gpu_count=machine.gpu_count,
        gpu_memory_gib=machine.gpu.memory_gib, ram_gib=0.0 if machine.unified else request.ram_gib,
        unified=machine.unified, use=request.use,
        prompt_tokens=shape.prompt_tokens, new_tokens=shape.new_tokens,
        context_tokens=max(shape.context_tokens, shape.prompt_tokens + shape.new_tokens),
        images=shape.images, image_width_px=shape.image_width_px,
        image_height_px=shape.image_height_px,
        runtimes=[r.id for r in machine.runtimes], rows=rows,
        not_running=[m.id for m in models if m.id not in running], speed_unknown_reason=reason)
