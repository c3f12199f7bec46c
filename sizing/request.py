"""The typed question every front end asks: one scenario, validated.

Field names are the command line's flag names with underscores, so a JSONL
request line, a URL query and ``python -m sizing estimate`` share one schema.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.catalog import Catalog, runtime_api
from catalog.errors import UserError, echo, invalid_input, problem, validation_error_text
from catalog.schema import Gpu, ModelArch, Runtime
from sizing.architecture import ModelInputError, arch_from_param_count, read_hf_config
from sizing.guards import MAX_CONFIG_BYTES, read_bounded_bytes
from sizing.notices import Notice
from sizing.speed import ram_bandwidth_gb_per_s
from sizing.vision import MAX_IMAGE_SIDE_PX, MAX_IMAGES
from sizing.workloads import PRESETS

MAX_TOKENS = 10_000_000
MAX_BATCH = 4096
MAX_GPUS = 16
FLASH_ATTENTION = ("auto", "on", "off")  # llama.cpp's --flash-attn values
MAX_UBATCH_TOKENS = 8192  # llama.cpp's -ub cannot exceed its -b (default 2048; 8192 in practice)
_PCIE_LINK = re.compile(r"^pcie(\d)-x\d+$")  # pcie4-x16: generation 4


# Where a model can come from, in the order the command line lists them.
MODEL_SOURCES = ("model", "hf_config", "params_b", "hf_id", "gguf", "safetensors")
# A request's images default to a common photo/screen size.
DEFAULT_IMAGE_WIDTH_PX = 1024
DEFAULT_IMAGE_HEIGHT_PX = 1024


class RequestError(UserError):
    """A request that cannot be answered; the message says what to change."""


class EstimateRequest(BaseModel):
    """One sizing scenario, as ids and numbers."""

    # NaN and infinity are never a scenario: reject them here, naming the field,
    # instead of letting them through bounds such as gt=0 (inf > 0).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: str | None = None
    hf_config: str | None = None  # path to a config.json
    params_b: float | None = Field(default=None, gt=0)
    hf_id: str | None = Field(default=None, max_length=200)  # a Hugging Face repository, ORG/NAME
    revision: str | None = Field(default=None, max_length=200)  # with hf_id: branch, tag or commit
    hf_file: str | None = Field(default=None, max_length=500)  # with hf_id: the GGUF file or quant
    gguf: str | None = None  # path to a GGUF file
    mmproj: str | None = None  # with gguf: path to its vision projector GGUF
    safetensors: str | None = None  # path to a safetensors file, index or model folder
    # A use whose prompt, reply and context lengths (and images, for a
    # vision-language model) fill whatever the request leaves out (sizing.workloads).
    workload: Literal["chat", "code", "rag", "agent"] | None = None
    images: int = Field(default=0, ge=0, le=MAX_IMAGES)  # images in each request
    image_width: int = Field(default=DEFAULT_IMAGE_WIDTH_PX, ge=1, le=MAX_IMAGE_SIDE_PX)  # [px]
    image_height: int = Field(default=DEFAULT_IMAGE_HEIGHT_PX, ge=1, le=MAX_IMAGE_SIDE_PX)  # [px]
    quant: str = "q4_k_m"
    gpu: str = "rtx-4090"
    gpu_count: int = Field(default=1, ge=1, le=MAX_GPUS)
    # Memory of each GPU: one of the sizes a unified-memory machine is sold in
    # (default: the catalog's size); a discrete card has only its own. [GiB]
    memory_gib: float | None = Field(default=None, gt=0)
    runtime: str = "llama.cpp"
    prompt_tokens: int = Field(default=512, ge=0, le=MAX_TOKENS)
    new_tokens: int = Field(default=512, ge=0, le=MAX_TOKENS)
    context_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    batch: int = Field(default=1, ge=1, le=MAX_BATCH)
    kv_cache: str = "f16"
    split: Literal["layer", "tensor"] | None = None
    # llama.cpp's --flash-attn; "auto" (its default) turns it on where the backend supports it.
    flash_attention: Literal["auto", "on", "off"] = "auto"
    ubatch_tokens: int = Field(default=512, ge=1, le=MAX_UBATCH_TOKENS)  # llama.cpp -ub
    ram: str | None = None  # e.g. ddr5-6000x2
    interconnect: str | None = None  # e.g. pcie4-x16, nvlink
    ambient_c: float | None = None
    cooler: str | None = None
    storage: str | None = None
    power_limit_w: float | None = Field(default=None, gt=0)
    electricity_usd_per_kwh: float | None = Field(default=None, ge=0, le=5)

    @model_validator(mode="before")
    @classmethod
    def _workload_fills_the_rest(cls, data: object) -> object:
        _refuse_flags_as_numbers(data)
        preset = PRESETS.get(data.get("workload")) if isinstance(data, dict) else None
        if preset is None:
            return data
        filled = {"prompt_tokens": preset.prompt_tokens, "new_tokens": preset.new_tokens,
                  "context_tokens": preset.context_tokens}
        return filled | {k: v for k, v in data.items() if v is not None or k not in filled}

    @model_validator(mode="after")
    def _one_model_and_some_tokens(self) -> "EstimateRequest":
        given = [n for n in MODEL_SOURCES if getattr(self, n) is not None]
        if len(given) != 1:
            raise one_model_source(MODEL_SOURCES, given)
        for name, needs in (("revision", "hf_id"), ("hf_file", "hf_id"), ("mmproj", "gguf")):
            if getattr(self, name) is not None and getattr(self, needs) is None:
                raise problem(f"{name} goes with {needs}", code="field_goes_with",
                              params={"field": name, "needs": needs})
        if self.prompt_tokens == 0 and self.new_tokens == 0:
            raise problem("prompt_tokens and new_tokens are both 0: there is nothing to run",
                          code="no_tokens")
        tokens = self.prompt_tokens + self.new_tokens
        if tokens > MAX_TOKENS:
            raise problem(f"prompt_tokens + new_tokens ({tokens:,}) exceeds the longest context "
                          f"RigFit sizes ({MAX_TOKENS:,} tokens)", code="tokens_past_max",
                          params={"tokens": f"{tokens:,}", "max_tokens": f"{MAX_TOKENS:,}"})
        if self.context_tokens is not None and self.context_tokens < tokens:
            raise problem(f"context_tokens ({self.context_tokens}) is smaller than prompt + new "
                          f"tokens ({tokens})", code="context_below_tokens",
                          params={"context_tokens": self.context_tokens, "tokens": tokens})
        return self

    def images_for(self, arch: ModelArch) -> tuple[int, int, int]:
        """Images per request and their size: as given, else the workload's for a vision model."""
        preset = PRESETS.get(self.workload) if self.workload else None
        given = "images" in self.model_fields_set
        if preset is None or given or arch.vision is None:
            count = self.images
        else:
            count = preset.images
        width, height = self.image_width, self.image_height
        if preset is not None and preset.images and "image_width" not in self.model_fields_set:
            width = preset.image_width_px
        if preset is not None and preset.images and "image_height" not in self.model_fields_set:
            height = preset.image_height_px
        return count, width, height

    @property
    def allocated_context_tokens(self) -> int:
        """Context the runtime allocates per sequence (default prompt + new)."""
        return self.context_tokens or max(self.prompt_tokens + self.new_tokens, 1)


def one_model_source(sources: tuple[str, ...], given: list[str]) -> Exception:
    """The error for a request that names no model, or more than one."""
    listed = ", ".join(sources)
    if not given:
        return problem(f"give exactly one of {listed}", code="model_source_missing",
                       params={"sources": listed})
    return problem(f"give exactly one of {listed} (got {', '.join(given)})",
                   code="model_source_several", params={"sources": listed, "given": ", ".join(given)})


def parse_request(data: dict) -> EstimateRequest:
    """Validate a mapping into a request; errors become one readable line."""
    try:
        return EstimateRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, RequestError) from None


describe_validation_error = validation_error_text


def _refuse_flags_as_numbers(data: object) -> None:
    """A JSON ``true``/``false`` given for a count or an amount is a mistake, not 1 or 0."""
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        field = EstimateRequest.model_fields.get(name) if isinstance(name, str) else None
        if isinstance(value, bool) and field is not None and _is_number(field.annotation):
            word = "true" if value else "false"
            raise problem(f"{name} must be a number, not {word}", code="flag_not_number",
                          params={"field": echo(name), "value": word})


def _is_number(annotation: object) -> bool:
    return annotation in (int, float, int | None, float | None)


def model_source(request: EstimateRequest) -> str:
    """Where the request's model comes from: catalog, hf-config, params-b, hf-id, gguf, safetensors."""
    name = next(n for n in MODEL_SOURCES if getattr(request, n) is not None)
    return {"model": "catalog"}.get(name, name.replace("_", "-"))


def read_model_files(request: EstimateRequest, catalog: Catalog):
    """The model of a request that names files or a Hub repository (sizing.sources.ReadModel)."""
    from sizing import sources  # reads headers; only requests naming files need it
    what = request.gguf or request.safetensors
    try:
        if request.hf_id is not None:
            return sources.read_hub_source(request.hf_id, catalog, revision=request.revision,
                                           hf_file=request.hf_file)
        if request.gguf is not None:
            return sources.read_gguf_source(request.gguf, catalog, mmproj=request.mmproj)
        return sources.read_safetensors_source(request.safetensors, catalog)
    except UserError:
        raise
    except OSError as exc:
        where = exc.filename or what
        path = echo(where, tail=True)
        raise RequestError(f"cannot read '{path}': {echo(exc.strerror or exc)}",
                           code="source_unreadable",
                           params={"path": path, "reason": echo(exc.strerror or exc)}) from None
    except ValidationError as exc:
        raise invalid_input(exc, RequestError) from None
    except ValueError as exc:  # a reader's own check, worded in English only
        raise RequestError(echo(str(exc), max_chars=400), code="model_source_invalid",
                           params={"reason": echo(str(exc), max_chars=400)}) from None


def file_quant(request: EstimateRequest, arch: ModelArch) -> tuple[EstimateRequest, list[Notice]]:
    """The request in the weight format of the model's own file, when it was read from one.

    A GGUF or safetensors file is one format; its exact tensor sizes are used,
    and a different ``quant`` the user named is replaced, saying so.
    """
    exact = arch.file_weights
    if exact is None or request.quant == exact.quant:
        return request, []
    said = []
    if "quant" in request.model_fields_set:
        said.append(Notice("file_quant_used",
                           f"The file is {exact.quant}: its own tensors are sized, not {request.quant}.",
                           file_quant=exact.quant, asked=request.quant))
    return request.model_copy(update={"quant": exact.quant}), said


def resolve_model(request: EstimateRequest, catalog: Catalog) -> tuple[ModelArch, list[Notice]]:
    """The model a request names, with warnings about how it was obtained."""
    warnings: list[Notice] = []
    if request.model is not None:
        return catalog.model(request.model), warnings
    if request.hf_id is not None or request.gguf is not None or request.safetensors is not None:
        read = read_model_files(request, catalog)
        return read.arch, list(read.notices)
    if request.hf_config is not None:
        path = Path(request.hf_config)
        text = read_bounded_bytes(path, limit_bytes=MAX_CONFIG_BYTES, what="config.json")
        try:
            arch, assumed = read_hf_config(text, model_id="custom", file_name=path.name)
        except ModelInputError as exc:
            raise RequestError(str(exc), code=exc.code, params=exc.params) from None
        warnings.append(Notice("config_params_computed",
                               "Parameter counts were computed from the config.json shapes."))
        warnings += assumed
        return arch, warnings
    try:
        arch = arch_from_param_count(request.params_b * 1e9)
    except ModelInputError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None
    warnings.append(Notice(
        "bare_size_assumed",
        f"Only a size was given: assumed a typical dense {request.params_b:g}B model with "
        f"grouped-query attention ({arch.num_layers} layers, hidden {arch.hidden_size}, "
        f"{arch.num_kv_heads} KV heads of {arch.head_dim}).",
        size_b=f"{request.params_b:g}", layers=arch.num_layers, hidden=arch.hidden_size,
        kv_heads=arch.num_kv_heads, head_dim=arch.head_dim))
    return arch, warnings


def resolve_gpu(request: EstimateRequest, catalog: Catalog) -> Gpu:
    """The GPU a request names, with the memory size it asks for and that size's price."""
    gpu = catalog.gpu(request.gpu)
    if request.memory_gib is None or request.memory_gib == gpu.memory_gib:
        return gpu
    sizes = ", ".join(f"{m:g}" for m in gpu.memory_sizes_gib)
    if request.memory_gib not in gpu.memory_sizes_gib:
        if len(gpu.memory_sizes_gib) == 1:
            raise RequestError(f"memory_gib {request.memory_gib:g}: {gpu.name} has {sizes} GiB "
                               "of memory; leave memory_gib out or give that size",
                               code="memory_size_only", params={
                                   "memory_gib": f"{request.memory_gib:g}", "gpu": gpu.name,
                                   "sizes": sizes})
        raise RequestError(f"memory_gib {request.memory_gib:g}: {gpu.name} is sold with "
                           f"{sizes} GiB; choose one of those sizes", code="memory_size_choices",
                           params={"memory_gib": f"{request.memory_gib:g}", "gpu": gpu.name,
                                   "sizes": sizes})
    return gpu.with_memory(request.memory_gib)


def check_compatibility(request: EstimateRequest, catalog: Catalog) -> None:
    """Runtime x quant x vendor x KV type: raise naming what would work."""
    gpu = catalog.gpu(request.gpu)
    runtime = catalog.runtime(request.runtime)
    quant = catalog.quant(request.quant)
    kv = catalog.kv_cache_type(request.kv_cache)
    if runtime_api(runtime, gpu) is None:
        able = [r.id for r in catalog.runtimes if runtime_api(r, gpu) is not None]
        raise RequestError(
            f"runtime '{runtime.id}' does not run on {gpu.vendor.value.upper()} GPUs "
            f"(it needs {', '.join(a.value for a in runtime.apis)}); for {gpu.name} use: "
            f"{', '.join(able)}", code="runtime_not_on_vendor",
            params={"runtime": runtime.id, "vendor": gpu.vendor.value.upper(), "gpu": gpu.name,
                    "apis": ", ".join(a.value for a in runtime.apis), "able": ", ".join(able)})
    if runtime.id not in quant.runtimes:
        runnable = [q.id for q in catalog.quants if runtime.id in q.runtimes][:8]
        raise RequestError(
            f"runtime '{runtime.id}' cannot run quant '{quant.id}'; runtimes that can: "
            f"{', '.join(quant.runtimes)}; quants '{runtime.id}' runs: {', '.join(runnable)}",
            code="runtime_not_quant",
            params={"runtime": runtime.id, "quant": quant.id, "able": ", ".join(quant.runtimes),
                    "quants": ", ".join(runnable)})
    if runtime.id not in kv.runtimes:
        kinds = [k.id for k in catalog.kv_cache_types if runtime.id in k.runtimes]
        raise RequestError(
            f"runtime '{runtime.id}' has no '{kv.id}' KV cache; choose one of: {', '.join(kinds)}",
            code="runtime_not_kv", params={"runtime": runtime.id, "kv": kv.id,
                                           "kinds": ", ".join(kinds)})
    check_hardware(request, catalog, gpu)
    if request.split == "tensor" and request.gpu_count > 1 and not runtime.supports_tensor_parallel:
        tp = [r.id for r in catalog.runtimes if r.supports_tensor_parallel]
        raise RequestError(
            f"runtime '{runtime.id}' splits layers across GPUs, not tensors; tensor parallel needs "
            f"{', '.join(tp)}", code="runtime_not_tensor",
            params={"runtime": runtime.id, "able": ", ".join(tp)})


def check_hardware(request: EstimateRequest, catalog: Catalog, gpu: Gpu) -> None:
    """Refuse hardware that cannot exist: a count, link, power cap or RAM no machine has."""
    if gpu.form_factor == "soc" and request.gpu_count > 1:
        raise RequestError(
            f"{gpu.name} is one machine with one built-in GPU: gpu_count must be 1 "
            f"(got {request.gpu_count}); several machines joined over a network are not modelled",
            code="soc_one_gpu", params={"gpu": gpu.name, "count": request.gpu_count})
    if request.interconnect is not None:
        link = catalog.interconnect(request.interconnect)
        if link.id.startswith("nvlink") and not gpu.nvlink:
            raise RequestError(f"{gpu.name} has no NVLink: interconnect '{link.id}' is not possible; "
                               "use a PCIe link such as pcie4-x16", code="no_nvlink",
                               params={"gpu": gpu.name, "link": link.id})
        pcie = _PCIE_LINK.match(link.id)
        if pcie and gpu.pcie_gen is not None and int(pcie.group(1)) > gpu.pcie_gen:
            raise RequestError(f"{gpu.name} is a PCIe {gpu.pcie_gen}.0 card: interconnect "
                               f"'{link.id}' would run at PCIe {gpu.pcie_gen}.0", code="pcie_too_new",
                               params={"gpu": gpu.name, "gen": gpu.pcie_gen, "link": link.id})
    if request.power_limit_w is not None and gpu.form_factor == "soc" \
            and gpu.power_limit_max_w is None:
        raise RequestError(f"{gpu.name} has no user-settable GPU power limit; leave power_limit_w "
                           "unset", code="no_power_limit", params={"gpu": gpu.name})
    if request.ram is not None:
        try:
            ram_bandwidth_gb_per_s(request.ram)
        except UserError as exc:
            raise RequestError(str(exc), code=exc.code, params=exc.params) from None


def tensor_parallel_problem(arch: ModelArch, runtime: Runtime, gpu_count: int,
                            split: str) -> str | None:
    """Why a tensor-parallel runtime refuses this GPU count for this model, or None.

    vLLM and SGLang shard attention by heads: the query heads must divide
    evenly across the GPUs, and the KV heads must either divide evenly or be
    replicated a whole number of times (vLLM's ``verify_with_parallel_config``
    and ``QKVParallelLinear``:
    https://github.com/vllm-project/vllm/blob/main/vllm/config/model.py,
    https://github.com/vllm-project/vllm/blob/main/vllm/model_executor/layers/linear.py).
    """
    if split != "tensor" or gpu_count == 1 or not runtime.supports_tensor_parallel:
        return None
    heads, kv_heads = arch.num_attention_heads, arch.num_kv_heads
    if heads % gpu_count:
        return (f"{runtime.name} tensor parallel needs the {heads} attention heads of {arch.name} "
                f"to divide evenly across the GPUs; {gpu_count} GPUs do not")
    if kv_heads % gpu_count and gpu_count % kv_heads:
        return (f"{runtime.name} tensor parallel needs the {kv_heads} KV heads of {arch.name} to "
                f"divide evenly across the GPUs (or the GPUs across them); {gpu_count} GPUs do not")
    return None


def check_parallel(request: EstimateRequest, catalog: Catalog, arch: ModelArch, split: str) -> None:
    """Refuse a GPU count the runtime's tensor parallelism cannot split this model over."""
    problem = tensor_parallel_problem(arch, catalog.runtime(request.runtime), request.gpu_count,
                                      split)
    if problem:
        counts = [n for n in range(1, MAX_GPUS + 1) if tensor_parallel_problem(
            arch, catalog.runtime(request.runtime), n, split) is None]
        runtime = catalog.runtime(request.runtime)
        by_heads = bool(arch.num_attention_heads % request.gpu_count)  # else the KV heads
        heads = arch.num_attention_heads if by_heads else arch.num_kv_heads
        raise RequestError(f"{problem}; GPU counts that work: {', '.join(map(str, counts))}",
                           code="tp_heads" if by_heads else "tp_kv_heads",
                           params={"runtime": runtime.name, "heads": heads,
                                              "model": arch.name, "count": request.gpu_count,
                                              "counts": ", ".join(map(str, counts))})
