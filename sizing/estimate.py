"""One call that answers a scenario: memory, speed, power, heat, load and system.

Front ends build an :class:`~sizing.request.EstimateRequest`, call
:func:`estimate` and render the typed :class:`Estimate`.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from typing import TYPE_CHECKING, Literal

from catalog.catalog import Catalog, runtime_api
from catalog.errors import UserError
from catalog.schema import Gpu, ModelArch, Runtime
from sizing.box import DEFAULT_AMBIENT_C, DEFAULT_USD_PER_KWH, BoxEstimate, box_for, psu_built_in
from sizing.fit import best_quant, considered_formats, max_context_tokens, published_in
from sizing.memory import (MemoryDemand, MemoryEstimate, estimate_memory, memory_demand,
                           vision_weight_bytes)
from sizing.notices import Notice, count_text
from sizing.request import (MAX_TOKENS, EstimateRequest, RequestError, check_compatibility,
                            check_parallel, file_quant, model_source, resolve_gpu, resolve_model)
from sizing.results import Result
from sizing.vision import ImageCost, VisionInputError, encoder_activation_bytes, image_cost
from sizing.speed import (SpeedConstants, SpeedEstimate, SpeedUnknownError, Workload,
                          estimate_speed, memory_class, ram_bandwidth_gb_per_s, resolve_constants,
                          workload)

if TYPE_CHECKING:  # sizing.bench (its parsers and pattern tables) is imported with a benchmark
    from sizing.bench import BenchCalibration

DEFAULT_RAM = "ddr5-5600x2"  # a typical current desktop: dual-channel DDR5-5600
# Runtimes the calibration rows were measured with; others apply their prior on top.
FITTED_RUNTIMES = ("llama.cpp", "llama.cpp-vulkan")
TASK_WORDS = {"embed": "embedding", "rerank": "reranking"}


class ModelSummary(Result):
    id: str
    name: str
    params_total: float
    params_active: float
    max_context_tokens: int
    # The shapes the estimate used, shown back so a user can check an uploaded config.json.
    num_layers: int | None = None
    num_attention_heads: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    num_experts: int | None = None  # None: dense
    num_experts_per_token: int | None = None
    # catalog | hf-config | hf-id | gguf | safetensors | params-b
    source: str = "catalog"


class VisionSection(Result):
    """Images in each request of a vision-language model. [px, tokens, B, s]"""

    images: int
    image_width_px: int
    image_height_px: int
    resized_width_px: int  # as the model's processor resizes it
    resized_height_px: int
    image_tokens_per_image: int
    image_tokens: int  # every image of one request
    text_prompt_tokens: int  # the prompt without its images
    encoder_bytes: float  # encoder and projector weights on the device
    encoder_s_per_image: float | None  # encoding one image, in the time to first token


class MemorySection(Result):
    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    overhead_bytes: float
    total_bytes: float
    usable_bytes: float
    headroom_bytes: float
    fits: bool
    verdict: str
    offloaded_bytes: float
    host_weights_bytes: float
    gpu_layers: int
    num_layers: int
    per_device_total_bytes: float
    per_device_usable_bytes: float
    file_bytes: float
    kv_bytes_per_token: float
    kv_capacity_tokens: int | None = None
    max_concurrent_sequences: int | None = None
    devices: int = 1
    offload_possible: bool = True  # the runtime can keep layers in system RAM

    @classmethod
    def of(cls, m: MemoryEstimate) -> "MemorySection":
        return cls(**vars(m), headroom_bytes=m.headroom_bytes, verdict=m.verdict)


class SpeedSection(Result):
    decode_tokens_per_s: float | None
    decode_tokens_per_s_low: float | None
    decode_tokens_per_s_high: float | None
    decode_tokens_per_s_per_sequence: float | None
    decode_speed_of_light_tokens_per_s: float | None
    prefill_tokens_per_s: float | None
    prefill_tokens_per_s_low: float | None
    prefill_tokens_per_s_high: float | None
    ttft_s: float
    total_time_s: float
    calibrated: bool
    basis: str
    decode_memory_util_frac: float
    decode_compute_util_frac: float
    prefill_compute_util_frac: float
    prefill_compute_time_frac: float = 0.0  # share of the prompt time in compute kernels, per GPU
    prefill_memory_time_frac: float = 0.0  # share of the prompt time streaming weights, per GPU

    @classmethod
    def of(cls, s: SpeedEstimate) -> "SpeedSection":
        return cls(**vars(s))


class FitSection(Result):
    """What else fits on the same GPU(s) with the same runtime."""

    max_context_tokens: int  # longest context per sequence that fits entirely on the GPU(s)
    best_quant: str | None  # highest-precision quant that fits at this context
    # What stops the context growing: "model" (its own maximum; memory would
    # hold more) or "memory" (the GPU(s) are full).
    max_context_limited_by: Literal["model", "memory"] = "memory"
    # Format families best_quant chose among: those the runtime runs and the
    # model is published in (sizing.fit.candidate_quants).
    formats_considered: list[str] = []


class PowerLimitRow(Result):
    cap_w: float
    speed_frac: float  # decode tokens/s relative to uncapped
    power_w: float  # GPU draw while decoding
    prefill_speed_frac: float  # prefill tokens/s relative to uncapped
    prefill_power_w: float  # GPU draw while prefilling


class PowerSection(Result):
    gpu_power_w: float
    gpu_power_prefill_w: float
    system_power_w: float
    system_power_prefill_w: float
    psu_recommended_w: float | None
    psu_needed_w: float
    energy_wh_per_1k_tokens: float | None
    cost_usd_per_1m_tokens: float | None
    energy_wh_per_1k_prompt_tokens: float | None
    cost_usd_per_1m_prompt_tokens: float | None
    power_limit_w: float | None
    decode_speed_frac_at_limit: float
    prefill_speed_frac_at_limit: float
    power_limit_sweet_spot_w: float | None
    power_limit_sweet_spot_prefill_w: float | None
    power_limit_curve: list[PowerLimitRow] = []
    pcie_8pin_count: int
    connector_12v_2x6_count: int
    wall_circuit_120v_ok: bool
    wall_circuit_230v_ok: bool


class ThermalSection(Result):
    gpu_temp_c: float
    gpu_temp_full_load_c: float
    throttle_risk: str
    needs_server_airflow: bool
    heat_w: float
    heat_btu_per_hour: float
    ambient_c: float
    cooler: str


class LoadSection(Result):
    load_time_s: float
    storage: str


class SystemSection(Result):
    ram_recommended_bytes: float | None
    ram_needed_bytes: float
    min_cpu_cores: int
    pcie_lanes_needed: int


class Estimate(Result):
    """Everything RigFit says about one scenario."""

    model: ModelSummary
    gpu_id: str
    gpu_name: str
    gpu_memory_gib: float = 0.0  # memory of each GPU as configured [GiB]
    gpu_price_usd: float | None = None  # price of one GPU (or machine) as configured [USD]
    gpu_count: int
    quant: str
    runtime: str
    api: str
    split: str
    prompt_tokens: int
    new_tokens: int
    context_tokens: int
    batch: int
    kv_cache: str
    memory: MemorySection
    fit: FitSection
    speed: SpeedSection | None  # None when the speed cannot be estimated (see the reason)
    speed_unknown_reason: str | None
    power: PowerSection
    thermal: ThermalSection
    load: LoadSection
    system: SystemSection
    warnings: list[Notice]
    vision: VisionSection | None = None  # vision-language models sent images


def default_split(request: EstimateRequest, catalog: Catalog) -> str:
    if request.split:
        return request.split
    runtime = catalog.runtime(request.runtime)
    return "tensor" if runtime.supports_tensor_parallel and request.gpu_count > 1 else "layer"


def memory_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch, *,
               demand: MemoryDemand | None = None) -> MemoryEstimate:
    """The memory answer alone (used by sweeps that need nothing else); ``demand``:
    :func:`memory_demand_for` of the same scenario on another GPU, when known."""
    return estimate_memory(arch, catalog.quant(request.quant), resolve_gpu(request, catalog),
                           catalog.runtime(request.runtime), **_memory_terms(request, catalog, arch),
                           demand=demand)


def memory_demand_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> MemoryDemand:
    """What the scenario needs on each GPU, whichever GPU it is (:func:`memory_for`'s first half)."""
    return memory_demand(arch, catalog.quant(request.quant), catalog.runtime(request.runtime),
                         **_memory_terms(request, catalog, arch))


def _memory_terms(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> dict:
    return dict(context_tokens=request.allocated_context_tokens,
                prompt_tokens=request.prompt_tokens, sequences=request.batch,
                kv_bytes_per_element=catalog.kv_cache_type(request.kv_cache).bytes_per_element,
                gpu_count=request.gpu_count, split=default_split(request, catalog),
                new_tokens=request.new_tokens,
                encoder_activation_bytes=_encoder_activation(request, arch))


def _encoder_activation(request: EstimateRequest, arch: ModelArch) -> float:
    """The vision encoder's buffer for one of the request's images (0 without images). [B]"""
    if not request.images or arch.vision is None:
        return 0.0
    try:
        cost = image_cost(arch.vision, request.image_width, request.image_height)
    except VisionInputError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None
    return encoder_activation_bytes(arch.vision, cost)


def fit_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> FitSection:
    """Longest context and best quant on this hardware and runtime."""
    gpu, runtime = resolve_gpu(request, catalog), catalog.runtime(request.runtime)
    kv = catalog.kv_cache_type(request.kv_cache).bytes_per_element
    split = default_split(request, catalog)
    context = max_context_tokens(arch, catalog.quant(request.quant), gpu, runtime,
                                 sequences=request.batch, kv_bytes_per_element=kv,
                                 gpu_count=request.gpu_count, split=split,
                                 prompt_tokens=request.prompt_tokens, new_tokens=request.new_tokens)
    quant = best_quant(catalog, arch, gpu, runtime, context_tokens=request.allocated_context_tokens,
                       prompt_tokens=request.prompt_tokens, sequences=request.batch,
                       kv_bytes_per_element=kv, gpu_count=request.gpu_count, split=split,
                       new_tokens=request.new_tokens)
    return FitSection(max_context_tokens=context, best_quant=quant.id if quant else None,
                      max_context_limited_by="model" if context >= arch.max_context_tokens
                      else "memory",
                      formats_considered=considered_formats(catalog, runtime, arch))


def default_interconnect(gpu: Gpu) -> str:
    """The link GPUs of this kind are usually joined by."""
    if gpu.form_factor == "sxm":
        return "nvlink4" if gpu.architecture in ("hopper", "blackwell") else "nvlink"
    gen = min(gpu.pcie_gen or 4, 5)
    lanes = "x8" if (gpu.pcie_lanes or 16) <= 8 else "x16"
    link = f"pcie{max(gen, 3)}-{lanes}"
    return link if link != "pcie3-x8" else "pcie3-x16"


def speed_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch,
              memory: MemoryEstimate, *, w: Workload | None = None) -> SpeedEstimate:
    """Speed of one scenario; raises SpeedUnknownError with a reason. ``w``:
    :func:`workload_for` of the same scenario on another GPU, when known."""
    w, options = speed_inputs(request, catalog, arch, memory, w=w)
    return estimate_speed(w, **options)


def workload_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> Workload:
    """What one decode and prefill of the scenario move and compute, whichever GPU it is."""
    quant, runtime = catalog.quant(request.quant), catalog.runtime(request.runtime)
    return workload(arch, quant, prompt_tokens=request.prompt_tokens,
                    new_tokens=max(request.new_tokens, 1),
                    kv_bytes_per_element=catalog.kv_cache_type(request.kv_cache).bytes_per_element,
                    embeddings_on_host=runtime.embeddings_on_host)


def speed_inputs(request: EstimateRequest, catalog: Catalog, arch: ModelArch,
                 memory: MemoryEstimate, *, w: Workload | None = None) -> tuple[Workload, dict]:
    """The workload (``w`` when known) and the keyword arguments :func:`estimate_speed`
    answers the scenario with; a serving simulation reruns it at other batch sizes."""
    gpu = resolve_gpu(request, catalog)
    quant = catalog.quant(request.quant)
    runtime = catalog.runtime(request.runtime)
    constants = speed_constants(catalog, gpu, runtime, quant.kind,
                                flash_attention=request.flash_attention != "off")
    if w is None:
        w = workload_for(request, catalog, arch)
    link = catalog.interconnect(request.interconnect or default_interconnect(gpu))
    try:
        ram = ram_bandwidth_gb_per_s(request.ram or DEFAULT_RAM)
    except UserError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None
    offloaded_frac = 0.0
    if not memory.fits and memory.offload_possible and memory.gpu_layers > 0:
        offloaded_frac = 1.0 - memory.gpu_layers / memory.num_layers
    elif not memory.fits and memory.offload_possible:
        raise SpeedUnknownError("not even one layer fits on the GPU next to the runtime's buffers; "
                                "shorten the context or choose a smaller quant",
                                code="speed_unknown_no_layer")
    elif not memory.fits and runtime.supports_offload:  # unified memory: no RAM beside it
        raise SpeedUnknownError(f"the model does not fit and {gpu.name} has no system RAM "
                                "apart from the GPU's memory to offload to",
                                code="speed_unknown_no_ram", gpu=gpu.name)
    elif not memory.fits:
        raise SpeedUnknownError("the model does not fit and this runtime cannot offload to RAM",
                                code="speed_unknown_no_offload")
    return w, dict(
        gpu=gpu, quant=quant, constants=constants, prompt_tokens=request.prompt_tokens,
        new_tokens=request.new_tokens, sequences=request.batch, gpu_count=request.gpu_count,
        split=default_split(request, catalog), hidden_size=arch.hidden_size,
        link_bandwidth_gb_per_s=link.bandwidth_gb_per_s, link_latency_s=link.latency_s,
        offloaded_frac=offloaded_frac, ram_gb_per_s=ram, ubatch_tokens=request.ubatch_tokens)


def speed_constants(catalog: Catalog, gpu: Gpu, runtime: Runtime, kind: str, *,
                    flash_attention: bool = True) -> SpeedConstants:
    """The speed constants of a runtime on a GPU for one quant kind (fitted, else priors).

    Resolved once per catalog for each runtime, API, kind, memory family and
    generation: GPUs that share them share their constants.
    """
    api = (runtime_api(runtime, gpu) or runtime.apis[0]).value
    key = (runtime.id, api, kind, memory_class(gpu), gpu.architecture, flash_attention)
    resolved = catalog.derived("speed constants")
    if key not in resolved:  # SpeedUnknownError: not stored, raised again next time
        resolved[key] = resolve_constants(
            catalog.speed_calibration, api=api, kind=kind, memory=memory_class(gpu),
            generation=gpu.architecture, flash_attention=flash_attention,
            api_prior=None if api in fitted_apis(catalog) else catalog.api_prior(api),
            runtime_prior=None if runtime.id in FITTED_RUNTIMES
            else catalog.runtime_prior(runtime.id))
    return resolved[key]


def fitted_apis(catalog: Catalog) -> set[str]:
    """APIs with speed constants of their own (the rest borrow through a prior)."""
    return {key.split("/")[0] for table in catalog.speed_calibration.decode.coefficients.values()
            for key in table} - {"all"}


def prepared_request(request: EstimateRequest, arch: ModelArch
                     ) -> tuple[EstimateRequest, ImageCost | None, list[Notice]]:
    """The request as the model is answered for: in its file's own format, its images'
    tokens in the prompt, nothing generated by an encoder; with what was changed."""
    request, warnings = file_quant(request, arch)
    request, cost = with_images(request, arch)
    if arch.task != "generate" and request.new_tokens:
        if request.prompt_tokens == 0:
            raise RequestError(f"{arch.name} is an encoder-only {TASK_WORDS[arch.task]} model: it "
                               "encodes a prompt and generates nothing; give prompt_tokens",
                               code="encoder_needs_prompt",
                               params={"model": arch.name, "task_term": TASK_WORDS[arch.task]})
        warnings.append(Notice(
            "encoder_only",
            f"{arch.name} only encodes its input ({arch.task}): sized for the prompts of the batch, "
            "with nothing generated.", model=arch.name, task=arch.task))
        request = request.model_copy(update={"new_tokens": 0})
    return request, cost, warnings


def estimate(request: EstimateRequest, catalog: Catalog, *, arch: ModelArch | None = None,
             bench: "BenchCalibration | None" = None) -> Estimate:
    """Answer one scenario. ``arch`` overrides the request's model (uploads); ``bench``
    rescales the speeds with the user's own benchmark (:mod:`sizing.bench`)."""
    warnings: list[Notice] = []
    if arch is None:
        arch, warnings = resolve_model(request, catalog)
    request, cost, said = prepared_request(request, arch)
    warnings += said
    check_compatibility(request, catalog)
    quant = catalog.quant(request.quant)
    if not published_in(quant, arch):
        fmt = quant.format.value.upper()
        warnings.append(Notice(
            "format_not_published",
            f"{arch.name} is not published in {fmt}: only models whose authors ship a {fmt} "
            "checkpoint come in it; estimated anyway.", model=arch.name, format=fmt))
    check_parallel(request, catalog, arch, default_split(request, catalog))
    gpu = resolve_gpu(request, catalog)
    runtime = catalog.runtime(request.runtime)
    context = request.allocated_context_tokens
    if context > arch.max_context_tokens:
        warnings.append(Notice(
            "context_beyond_max",
            f"Context of {context:,} tokens is beyond the model's maximum of "
            f"{arch.max_context_tokens:,}; estimated anyway, but quality is not guaranteed.",
            context=f"{context:,}", max_context=f"{arch.max_context_tokens:,}"))
    memory = memory_for(request, catalog, arch)
    if not memory.fits and memory.gpu_layers > 0 and memory.offload_possible:
        offloaded_gib = f"{memory.offloaded_bytes / 2**30:.1f}"
        warnings.append(Notice(
            "offloaded",
            f"Does not fit in GPU memory: {memory.gpu_layers} of {memory.num_layers} layers on the "
            f"GPU, the rest ({offloaded_gib} GiB) in system RAM, much slower.",
            gpu_layers=memory.gpu_layers, layers=memory.num_layers, offloaded_gib=offloaded_gib))
    speed = reason = None
    try:
        speed = SpeedSection.of(speed_for(request, catalog, arch, memory))
        if not speed.calibrated:
            vendor = gpu.vendor.value.upper()
            warnings.append(Notice(
                "speed_priors",
                f"Speed for {runtime.id} on {vendor} uses documented priors, not fitted "
                "constants: the band is wider.", runtime=runtime.id, vendor=vendor))
    except SpeedUnknownError as exc:
        reason = str(exc)
        warnings.append(exc.notice)
    if bench is not None and speed is not None:
        from sizing.bench import rescale_speed  # only with the user's own benchmark

        speed, said = rescale_speed(speed, bench, gpu_id=gpu.id, gpu_name=gpu.name,
                                    prompt_tokens=request.prompt_tokens, batch=request.batch)
        warnings += said
    box = _box(request, catalog, gpu, memory, speed)
    if box.needs_server_airflow:
        warnings.append(Notice(
            "passive_cooler",
            f"{gpu.name} has a passive cooler: it needs a server chassis's forced airflow and "
            "will overheat in a desktop case.", gpu=gpu.name))
    if psu_built_in(gpu):
        warnings.append(Notice(
            "psu_built_in",
            f"{gpu.name} is a complete machine with its power supply built in: there is no "
            "PSU to choose.", gpu=gpu.name))
    if not box.wall_circuit_120v_ok:
        warnings.append(Notice(
            "wall_circuit_120v",
            "At full power this system exceeds a 120 V / 15 A circuit's 1,440 W continuous limit."))
    f, fp = box.decode_speed_frac_at_limit, box.prefill_speed_frac_at_limit
    if speed is not None and min(f, fp) < 1.0:
        speed = capped_speed(speed, decode_frac=f, prefill_frac=fp,
                             prompt_tokens=request.prompt_tokens * request.batch)
        warnings.append(Notice(
            "power_limited",
            f"Power limit {request.power_limit_w:g} W: decode at {f:.0%} and prompt processing "
            f"at {fp:.0%} of uncapped speed.",
            limit_w=f"{request.power_limit_w:g}", speed_pct=f"{f:.0%}", prefill_pct=f"{fp:.0%}"))
    vision = None
    if cost is not None:
        encoder_s = _encoder_s_per_image(cost, arch, speed)
        if speed is not None and encoder_s is not None:
            added = encoder_s * request.images * request.batch
            speed = speed.model_copy(update={"ttft_s": speed.ttft_s + added,
                                             "total_time_s": speed.total_time_s + added})
        vision = VisionSection(
            images=request.images, image_width_px=request.image_width,
            image_height_px=request.image_height, resized_width_px=cost.resized_width_px,
            resized_height_px=cost.resized_height_px, image_tokens_per_image=cost.tokens,
            image_tokens=cost.tokens * request.images,
            text_prompt_tokens=request.prompt_tokens - cost.tokens * request.images,
            encoder_bytes=vision_weight_bytes(arch), encoder_s_per_image=encoder_s)
    fit = fit_for(request, catalog, arch)
    if fit.max_context_limited_by == "model":
        warnings.append(Notice(
            "context_model_limit",
            f"The longest context, {fit.max_context_tokens:,} tokens, is the model's own maximum: "
            "memory would hold more, the model was not trained for it.",
            max_context=f"{fit.max_context_tokens:,}"))
    cooler_id = request.cooler or gpu.cooler.value
    return Estimate(
        model=ModelSummary(id=arch.id, name=arch.name, params_total=arch.params_total,
                           params_active=arch.params_active,
                           max_context_tokens=arch.max_context_tokens,
                           num_layers=arch.num_layers, num_attention_heads=arch.num_attention_heads,
                           num_kv_heads=arch.num_kv_heads, head_dim=arch.head_dim,
                           num_experts=arch.num_experts,
                           num_experts_per_token=arch.num_experts_per_token,
                           source=model_source(request)),
        gpu_id=gpu.id, gpu_name=gpu.name, gpu_count=request.gpu_count,
        gpu_memory_gib=gpu.memory_gib,
        gpu_price_usd=gpu.price_usd,
        quant=request.quant, runtime=runtime.id,
        api=(runtime_api(runtime, gpu) or runtime.apis[0]).value,
        split=default_split(request, catalog),
        prompt_tokens=request.prompt_tokens, new_tokens=request.new_tokens,
        context_tokens=context, batch=request.batch, kv_cache=request.kv_cache,
        memory=MemorySection.of(memory), fit=fit,
        speed=speed, speed_unknown_reason=reason,
        power=PowerSection(
            **{k: getattr(box, k) for k in PowerSection.model_fields if k != "power_limit_curve"},
            # Rows as dicts: pydantic validates them as PowerLimitRow in one pass.
            power_limit_curve=[vars(p) for p in box.power_limit_curve]),
        thermal=ThermalSection(ambient_c=request.ambient_c if request.ambient_c is not None
                               else DEFAULT_AMBIENT_C, cooler=cooler_id,
                               **{k: getattr(box, k) for k in ThermalSection.model_fields
                                  if k not in ("ambient_c", "cooler")}),
        load=LoadSection(load_time_s=box.load_time_s, storage=request.storage or "nvme-gen4"),
        system=SystemSection(**{k: getattr(box, k) for k in SystemSection.model_fields}),
        vision=vision, warnings=warnings)


def _box(request: EstimateRequest, catalog: Catalog, gpu: Gpu, memory: MemoryEstimate,
         speed: SpeedSection | None) -> BoxEstimate:
    try:
        cooler = catalog.cooler(request.cooler or gpu.cooler.value)
        storage = catalog.storage_class(request.storage or "nvme-gen4")
    except UserError as exc:
        valid = ", ".join(str(c.id) for c in (catalog.coolers if "cooler" in str(exc)
                                              else catalog.storage_classes))
        raise RequestError(f"{exc}; valid ids: {valid}", code=exc.code, params=exc.params) from None
    prefill_s = _prefill_s(speed, request.prompt_tokens * request.batch) if speed else 0.0
    try:
        return box_for(
            gpu=gpu, gpu_count=request.gpu_count,
            tensor_parallel=default_split(request, catalog) == "tensor", cooler=cooler,
            storage=storage,
            decode_memory_util_frac=speed.decode_memory_util_frac if speed else 0.5,
            decode_compute_util_frac=speed.decode_compute_util_frac if speed else 0.05,
            prefill_compute_time_frac=speed.prefill_compute_time_frac if speed else 0.9,
            prefill_memory_time_frac=speed.prefill_memory_time_frac if speed else 0.05,
            decode_tokens_per_s=speed.decode_tokens_per_s if speed else None,
            prefill_tokens_per_s=speed.prefill_tokens_per_s if speed else None,
            prefill_s=prefill_s, decode_s=max(0.0, speed.total_time_s - prefill_s) if speed else 0.0,
            file_bytes=memory.file_bytes, offloaded_bytes=memory.offloaded_bytes,
            ambient_c=request.ambient_c if request.ambient_c is not None else DEFAULT_AMBIENT_C,
            power_limit_w=request.power_limit_w,
            usd_per_kwh=(request.electricity_usd_per_kwh
                         if request.electricity_usd_per_kwh is not None else DEFAULT_USD_PER_KWH))
    except UserError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None


def _prefill_s(speed: SpeedSection, prompt_tokens: int) -> float:
    """Time spent processing the prompts of every sequence. [s]"""
    return prompt_tokens / speed.prefill_tokens_per_s if speed.prefill_tokens_per_s else 0.0


def capped_speed(speed: SpeedSection, *, decode_frac: float, prefill_frac: float,
                 prompt_tokens: int) -> SpeedSection:
    """Speed under a power cap. [tokens/s, s]

    Decode figures scale by ``decode_frac``, prefill figures by
    ``prefill_frac``; the time to first token and the total time are rebuilt
    from their prompt part (``prompt_tokens`` across all sequences) and their
    generation part, each slowed by its own phase.
    """
    def scaled(key: str, frac: float) -> float | None:
        value = getattr(speed, key)
        return None if value is None else value * frac

    update: dict[str, float | None] = {
        key: scaled(key, decode_frac) for key in (
            "decode_tokens_per_s", "decode_tokens_per_s_low", "decode_tokens_per_s_high",
            "decode_tokens_per_s_per_sequence")}
    update |= {key: scaled(key, prefill_frac) for key in (
        "prefill_tokens_per_s", "prefill_tokens_per_s_low", "prefill_tokens_per_s_high")}
    prefill_s = _prefill_s(speed, prompt_tokens)
    for key in ("ttft_s", "total_time_s"):
        update[key] = (prefill_s / prefill_frac
                       + max(0.0, getattr(speed, key) - prefill_s) / decode_frac)
    return speed.model_copy(update=update)


def with_images(request: EstimateRequest, arch: ModelArch) -> tuple[EstimateRequest, ImageCost | None]:
    """The request with its images' tokens in the prompt (and the context), and their cost.

    ``prompt_tokens`` counts text; each image adds the tokens the model's own
    rule gives it (:mod:`sizing.vision`), to the prompt and to an explicit context.
    """
    images, width, height = request.images_for(arch)
    if images != request.images or (width, height) != (request.image_width, request.image_height):
        request = request.model_copy(update={"images": images, "image_width": width,
                                             "image_height": height})
    if request.images == 0:
        return request, None
    if arch.vision is None:
        raise RequestError(f"{arch.name} reads no images: set images to 0 or choose a "
                           "vision-language model", code="model_reads_no_images",
                           params={"model": arch.name})
    try:
        cost = image_cost(arch.vision, request.image_width, request.image_height)
    except VisionInputError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None
    added = cost.tokens * request.images
    context = request.context_tokens + added if request.context_tokens else None
    if request.prompt_tokens + added + request.new_tokens > MAX_TOKENS:
        raise RequestError(f"{count_text(request.images, 'image', 'images')} of {cost.tokens:,} "
                           "tokens each take the "
                           f"prompt past the longest context RigFit sizes ({MAX_TOKENS:,} tokens)",
                           code="images_past_max_tokens",
                           params={"images": request.images, "tokens": f"{cost.tokens:,}",
                                   "max_tokens": f"{MAX_TOKENS:,}"})
    return request.model_copy(update={"prompt_tokens": request.prompt_tokens + added,
                                      "context_tokens": context}), cost


def _encoder_s_per_image(cost: ImageCost, arch: ModelArch, speed: SpeedSection | None) -> float | None:
    """Time to encode one image, at the FLOP rate the model's own prompt processing reaches. [s]

    The encoder is a transformer like the language model, run over the image's
    patches: its FLOPs over the achieved prompt FLOP rate (2 x active
    parameters x prefill tokens/s) carries the prefill calibration over.
    """
    if speed is None or not speed.prefill_tokens_per_s:
        return None
    achieved_flops_per_s = 2.0 * arch.params_active * speed.prefill_tokens_per_s
    return cost.encoder_flops / achieved_flops_per_s
