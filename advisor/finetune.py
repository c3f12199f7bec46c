"""Fine-tuning answered whole: memory, time, what fits, and local against cloud cost.

The engine (:mod:`sizing.finetune`, :mod:`sizing.finetune_fit`) sizes the
run; this module adds the money: electricity for the run on the user's GPUs,
the cheapest catalog cloud instance that holds the same setup, and how many
such runs buying the GPUs would take to pay back.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from typing import Literal

from catalog.catalog import Catalog, UnknownIdError
from catalog.errors import UserError
from catalog.market import CloudInstance
from catalog.schema import Gpu, ModelArch
from sizing.box import DEFAULT_CPU_POWER_W, DEFAULT_USD_PER_KWH
from sizing.finetune import FinetuneSetup, finetune_memory
from sizing.finetune_time import finetune_time
from sizing.finetune_fit import cheapest_method, max_micro_batch, max_seq_len, remedies
from sizing.finetune_request import FinetuneRequest, check_for_model, resolve_finetune
from sizing.notices import Notice
from sizing.power import system_power_w, wall_power_w
from sizing.request import RequestError, model_source, parse_request
from sizing.results import Result
from sizing.units import SECONDS_PER_HOUR, gib_to_bytes, wh_to_kwh

Verdict = Literal["local", "cloud", "cloud-only", "neither", "unknown"]


class FinetuneModel(Result):
    id: str
    name: str
    params_total: float
    source: str


class FinetuneMemoryResult(Result):
    """Per-GPU memory. [B]"""

    weights_bytes: float
    trainable_params: float
    gradients_bytes: float
    master_weights_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    overhead_bytes: float
    total_bytes: float
    usable_bytes: float
    fits: bool
    host_bytes: float  # system RAM for offloaded states and checkpoints, whole machine
    system_ram_fits: bool | None  # None: no system RAM given


class FinetuneTimeResult(Result):
    step_s: float
    step_s_low: float
    step_s_high: float
    tokens_per_s: float
    total_s: float | None
    steps: int | None
    compute_bound: bool
    flops_per_token: float


class FinetuneCost(Result):
    """One run's cost at home and in the cloud. [USD]"""

    local_usd: float | None  # electricity for the run; None when it does not fit or no dataset
    energy_kwh: float | None
    wall_power_w: float
    cloud_usd_best: float | None
    cloud_instance: str | None
    cloud_provider: str | None
    cloud_gpus: str | None  # e.g. "8 x h100-sxm"
    cloud_total_s: float | None
    cloud_as_of: str | None
    buy_usd: float | None  # street price of the GPUs, when known
    runs_to_pay_back: float | None  # runs after which buying has cost less than renting
    verdict: Verdict


class FinetuneFit(Result):
    max_micro_batch: int  # at the asked sequence length [sequences]
    max_seq_len: int  # at the asked micro-batch [tokens]
    cheapest_method: str | None


class FinetuneRemedyResult(Result):
    code: str
    text: str
    notices: list[Notice]  # one per change made together
    total_bytes: float


class FinetuneResult(Result):
    model: FinetuneModel
    gpu_id: str
    gpu_name: str
    gpu_memory_gib: float
    gpu_count: int
    setup: dict[str, str | int | float | bool]
    memory: FinetuneMemoryResult
    time: FinetuneTimeResult
    cost: FinetuneCost
    fit: FinetuneFit
    remedies: list[FinetuneRemedyResult]
    warnings: list[Notice]


def _run_wall_w(gpu: Gpu, count: int, gpu_power_w: float) -> float:
    return wall_power_w(system_power_w=system_power_w(
        gpu_power_w_each=gpu_power_w, gpu_count=count, cpu_power_w=DEFAULT_CPU_POWER_W))


def cloud_best(arch: ModelArch, setup: FinetuneSetup, instances: tuple[CloudInstance, ...],
               catalog: Catalog, *, dataset_tokens: float,
               epochs: float) -> tuple[float, CloudInstance, float] | None:
    """The cheapest instance that holds the setup on its GPUs: (USD, instance, seconds).

    On an instance with several GPUs the setup's own sharding is tried, then
    ZeRO-3 when that does not fit.
    """
    best: tuple[float, CloudInstance, float] | None = None
    for inst in instances:
        try:
            gpu = catalog.gpu(inst.gpu_id)
        except UnknownIdError:
            continue  # an instance whose GPU the engine catalog lacks
        if not gpu.memory_bandwidth_gb_per_s:
            continue
        changed = setup.with_(gpu_count=inst.gpu_count)
        memory = finetune_memory(arch, gpu, changed)
        if not memory.fits and inst.gpu_count > 1 and not changed.shards_weights:
            changed = changed.with_(sharding="zero3")
            memory = finetune_memory(arch, gpu, changed)
        if not memory.fits:
            continue
        try:
            seconds = finetune_time(arch, gpu, changed, memory, dataset_tokens=dataset_tokens,
                                    epochs=epochs).total_s
        except ValueError:
            continue  # no published throughput for this GPU
        usd = inst.usd_per_hour * seconds / SECONDS_PER_HOUR
        if best is None or usd < best[0]:
            best = (usd, inst, seconds)
    return best


def _verdict(local_usd: float | None, cloud_usd: float | None) -> Verdict:
    if local_usd is None and cloud_usd is None:
        return "neither"
    if local_usd is None:
        return "cloud-only"
    if cloud_usd is None:
        return "local"
    return "local" if local_usd <= cloud_usd else "cloud"


def finetune_plan(request: FinetuneRequest, catalog: Catalog, *,
                  arch: ModelArch | None = None) -> FinetuneResult:
    """Memory, time, fit, remedies and cost for one fine-tuning request.

    ``arch``: the model already read (the app's sidebar resolves it once);
    the request's model fields then only name its source.
    """
    if arch is None:
        arch, gpu, warnings = resolve_finetune(request, catalog)
    else:
        gpu, warnings = catalog.gpu(request.gpu), check_for_model(request, arch)
    setup = request.setup()
    memory = finetune_memory(arch, gpu, setup)
    try:
        time = finetune_time(arch, gpu, setup, memory, dataset_tokens=request.dataset_tokens,
                             epochs=request.epochs)
    except UserError as exc:
        raise RequestError(str(exc), code=exc.code, params=exc.params) from None
    usd_per_kwh = (request.electricity_usd_per_kwh if request.electricity_usd_per_kwh is not None
                   else DEFAULT_USD_PER_KWH)
    wall_w = _run_wall_w(gpu, setup.gpu_count, time.gpu_power_w)
    local_usd = energy_kwh = None
    if memory.fits and time.total_s is not None:
        energy_kwh = wh_to_kwh(wall_w * time.total_s / SECONDS_PER_HOUR)
        local_usd = energy_kwh * usd_per_kwh
    cloud = None
    if request.dataset_tokens is not None:
        cloud = cloud_best(arch, setup, catalog.market.instances, catalog,
                           dataset_tokens=request.dataset_tokens, epochs=request.epochs)
    price = gpu.street_price.usd if gpu.street_price else None
    buy_usd = price * setup.gpu_count if price else None
    pay_back = None
    if buy_usd and cloud and local_usd is not None and cloud[0] > local_usd:
        pay_back = buy_usd / (cloud[0] - local_usd)
    ram_fits = None
    if request.system_ram_gib is not None:
        ram_fits = memory.host_bytes <= gib_to_bytes(request.system_ram_gib)
    if memory.host_bytes > 0 and request.system_ram_gib is None:
        warnings.append(Notice("ft_host_memory", "Offloaded states or checkpoints need system RAM; "
                               "give system_ram_gib to check it."))
    found = [] if memory.fits else remedies(arch, gpu, setup)
    return FinetuneResult(
        model=FinetuneModel(id=arch.id, name=arch.name, params_total=arch.params_total,
                            source=_source(request)),
        gpu_id=gpu.id, gpu_name=gpu.name, gpu_memory_gib=gpu.memory_gib, gpu_count=setup.gpu_count,
        setup=_setup_fields(request),
        memory=FinetuneMemoryResult(
            weights_bytes=memory.weights_bytes, trainable_params=memory.trainable_params,
            gradients_bytes=memory.gradients_bytes, master_weights_bytes=memory.master_weights_bytes,
            optimizer_bytes=memory.optimizer_bytes, activations_bytes=memory.activations_bytes,
            overhead_bytes=memory.overhead_bytes, total_bytes=memory.total_bytes,
            usable_bytes=memory.usable_bytes, fits=memory.fits, host_bytes=memory.host_bytes,
            system_ram_fits=ram_fits),
        time=FinetuneTimeResult(step_s=time.step_s, step_s_low=time.step_s_low,
                                step_s_high=time.step_s_high, tokens_per_s=time.tokens_per_s,
                                total_s=time.total_s, steps=time.steps,
                                compute_bound=time.compute_bound,
                                flops_per_token=time.flops_per_token),
        cost=FinetuneCost(
            local_usd=local_usd, energy_kwh=energy_kwh, wall_power_w=wall_w,
            cloud_usd_best=cloud[0] if cloud else None,
            cloud_instance=cloud[1].instance_type if cloud else None,
            cloud_provider=cloud[1].provider.value if cloud else None,
            cloud_gpus=f"{cloud[1].gpu_count} x {cloud[1].gpu_id}" if cloud else None,
            cloud_total_s=cloud[2] if cloud else None,
            cloud_as_of=cloud[1].as_of.isoformat() if cloud else None,
            buy_usd=buy_usd, runs_to_pay_back=pay_back,
            verdict=_verdict(local_usd, cloud[0] if cloud else None)
            if request.dataset_tokens is not None else "unknown"),
        fit=FinetuneFit(max_micro_batch=max_micro_batch(arch, gpu, setup),
                        max_seq_len=max_seq_len(arch, gpu, setup),
                        cheapest_method=cheapest_method(arch, gpu, setup)),
        remedies=[FinetuneRemedyResult(code=r.code, text=r.text, notices=list(r.notices),
                                       total_bytes=r.total_bytes) for r in found],
        warnings=warnings)


def _source(request: FinetuneRequest) -> str:
    fields = {n: getattr(request, n) for n in ("model", "hf_config", "hf_id", "params_b")
              if getattr(request, n) is not None}
    return model_source(parse_request(fields))


def _setup_fields(request: FinetuneRequest) -> dict[str, str | int | float | bool]:
    keys = ("method", "optimizer", "lora_rank", "lora_targets", "dora", "seq_len", "micro_batch",
            "grad_accum", "gradient_checkpointing", "sharding", "offload", "precision", "loss",
            "optimizer_in_backward", "frozen_layers", "freeze_embeddings", "epochs")
    out: dict[str, str | int | float | bool] = {k: getattr(request, k) for k in keys}
    if request.dataset_tokens is not None:
        out["dataset_tokens"] = request.dataset_tokens
    return out


__all__ = ["finetune_plan", "FinetuneResult", "cloud_best"]
