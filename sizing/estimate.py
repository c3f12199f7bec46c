"""One call that answers a scenario: memory now, later speed, power and heat.

Front ends build an :class:`~sizing.request.EstimateRequest`, call
:func:`estimate` and render the typed :class:`Estimate`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from catalog.catalog import Catalog, runtime_api
from catalog.schema import ModelArch
from sizing.memory import MemoryEstimate, estimate_memory
from sizing.request import EstimateRequest, check_compatibility, resolve_model


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ModelSummary(_Out):
    id: str
    name: str
    params_total: float
    params_active: float
    max_context_tokens: int


class MemorySection(_Out):
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

    @classmethod
    def of(cls, m: MemoryEstimate) -> MemorySection:
        return cls(
            weights_bytes=m.weights_bytes, kv_cache_bytes=m.kv_cache_bytes,
            activations_bytes=m.activations_bytes, overhead_bytes=m.overhead_bytes,
            total_bytes=m.total_bytes, usable_bytes=m.usable_bytes,
            headroom_bytes=m.headroom_bytes, fits=m.fits, verdict=m.verdict,
            offloaded_bytes=m.offloaded_bytes, host_weights_bytes=m.host_weights_bytes,
            gpu_layers=m.gpu_layers, num_layers=m.num_layers,
            per_device_total_bytes=m.per_device_total_bytes,
            per_device_usable_bytes=m.per_device_usable_bytes, file_bytes=m.file_bytes,
            kv_bytes_per_token=m.kv_bytes_per_token, kv_capacity_tokens=m.kv_capacity_tokens,
            max_concurrent_sequences=m.max_concurrent_sequences)


class Estimate(_Out):
    """Everything RigFit says about one scenario."""

    model: ModelSummary
    gpu_id: str
    gpu_name: str
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
    warnings: list[str]


def default_split(request: EstimateRequest, catalog: Catalog) -> str:
    if request.split:
        return request.split
    runtime = catalog.runtime(request.runtime)
    return "tensor" if runtime.supports_tensor_parallel and request.gpu_count > 1 else "layer"


def memory_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> MemoryEstimate:
    """The memory answer alone (used by sweeps that need nothing else)."""
    return estimate_memory(
        arch, catalog.quant(request.quant), catalog.gpu(request.gpu),
        catalog.runtime(request.runtime),
        context_tokens=request.allocated_context_tokens, prompt_tokens=request.prompt_tokens,
        sequences=request.batch,
        kv_bytes_per_element=catalog.kv_cache_type(request.kv_cache).bytes_per_element,
        gpu_count=request.gpu_count, split=default_split(request, catalog),
        new_tokens=request.new_tokens)


def estimate(request: EstimateRequest, catalog: Catalog, *, arch: ModelArch | None = None) -> Estimate:
    """Answer one scenario. ``arch`` overrides the request's model (uploads)."""
    warnings: list[str] = []
    if arch is None:
        arch, warnings = resolve_model(request, catalog)
    check_compatibility(request, catalog)
    gpu = catalog.gpu(request.gpu)
    runtime = catalog.runtime(request.runtime)
    context = request.allocated_context_tokens
    if context > arch.max_context_tokens:
        warnings.append(
            f"Context of {context:,} tokens is beyond the model's maximum of "
            f"{arch.max_context_tokens:,}; estimated anyway, but quality is not guaranteed.")
    memory = memory_for(request, catalog, arch)
    if not memory.fits and memory.offloaded_bytes > 0 and runtime.supports_offload:
        warnings.append(
            f"Does not fit in GPU memory: {memory.gpu_layers} of {memory.num_layers} layers on the "
            f"GPU, the rest ({memory.offloaded_bytes / 2**30:.1f} GiB) in system RAM, much slower.")
    return Estimate(
        model=ModelSummary(id=arch.id, name=arch.name, params_total=arch.params_total,
                           params_active=arch.params_active,
                           max_context_tokens=arch.max_context_tokens),
        gpu_id=gpu.id, gpu_name=gpu.name, gpu_count=request.gpu_count,
        quant=request.quant, runtime=runtime.id,
        api=(runtime_api(runtime, gpu) or runtime.apis[0]).value,
        split=default_split(request, catalog),
        prompt_tokens=request.prompt_tokens, new_tokens=request.new_tokens,
        context_tokens=context, batch=request.batch, kv_cache=request.kv_cache,
        memory=MemorySection.of(memory), warnings=warnings)
