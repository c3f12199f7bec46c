"""The typed fine-tuning question: a model, a GPU and a training setup, validated.

Field names are the ``rigfit finetune`` flags with underscores. The model is
named exactly as for ``estimate`` (catalog id, config.json, Hub id or a bare
size) and resolved by :func:`sizing.request.resolve_model`.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.catalog import Catalog
from catalog.errors import invalid_input, problem
from catalog.schema import Gpu, ModelArch
from sizing.finetune import (CHECKPOINTING, LORA_TARGETS, LOSSES, MAX_GPUS, MAX_GRAD_ACCUM,
                             MAX_LAYERS, MAX_LORA_RANK, MAX_MICRO_BATCH, MAX_SEQ_LEN, METHODS, OFFLOADS,
                             OPTIMIZERS, PRECISIONS, SHARDINGS, Checkpointing, FinetuneSetup, Loss,
                             LoraTargets, Method, Offload, Optimizer, Precision, Sharding)
from sizing.notices import Notice
from sizing.request import (EstimateRequest, RequestError, one_model_source, parse_request,
                            resolve_model)

# The model sources a fine-tuning request takes, as for ``estimate``.
FINETUNE_MODEL_SOURCES = ("model", "hf_config", "hf_id", "params_b")
MAX_DATASET_TOKENS = 1e13  # far beyond any fine-tuning set (Llama 3 pre-trained on 15T)
MAX_EPOCHS = 1000.0
MAX_SYSTEM_RAM_GIB = 65536.0

__all__ = ["FinetuneRequest", "parse_finetune_request", "resolve_finetune", "FINETUNE_MODEL_SOURCES",
           "CHOICES", "model_fields_of"]

# The allowed values of each choice field, for the command line and the page.
CHOICES: dict[str, tuple[str, ...]] = {
    "method": METHODS, "sharding": SHARDINGS, "optimizer": OPTIMIZERS,
    "lora_targets": LORA_TARGETS, "gradient_checkpointing": CHECKPOINTING,
    "offload": OFFLOADS, "precision": PRECISIONS, "loss": LOSSES}


class FinetuneRequest(BaseModel):
    """One fine-tuning scenario, as ids and numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: str | None = None
    hf_config: str | None = None
    hf_id: str | None = Field(default=None, max_length=200)
    revision: str | None = Field(default=None, max_length=200)
    params_b: float | None = Field(default=None, gt=0)
    method: Method = "lora"
    gpu: str = "rtx-4090"
    gpu_count: int = Field(default=1, ge=1, le=MAX_GPUS)
    sharding: Sharding = "ddp"
    optimizer: Optimizer = "adamw"
    lora_rank: int = Field(default=16, ge=1, le=MAX_LORA_RANK)
    lora_targets: LoraTargets = "all-linear"
    dora: bool = False
    seq_len: int = Field(default=2048, ge=1, le=MAX_SEQ_LEN)
    micro_batch: int = Field(default=1, ge=1, le=MAX_MICRO_BATCH)
    grad_accum: int = Field(default=1, ge=1, le=MAX_GRAD_ACCUM)
    gradient_checkpointing: Checkpointing = "on"
    offload: Offload = "none"
    precision: Precision = "mixed"
    loss: Loss = "standard"
    optimizer_in_backward: bool = False
    frozen_layers: int = Field(default=0, ge=0, le=MAX_LAYERS)
    freeze_embeddings: bool = False
    dataset_tokens: float | None = Field(default=None, gt=0, le=MAX_DATASET_TOKENS)
    epochs: float = Field(default=1.0, gt=0, le=MAX_EPOCHS)
    system_ram_gib: float | None = Field(default=None, gt=0, le=MAX_SYSTEM_RAM_GIB)
    electricity_usd_per_kwh: float | None = Field(default=None, ge=0, le=5)

    @model_validator(mode="after")
    def _one_model(self) -> "FinetuneRequest":
        given = [n for n in FINETUNE_MODEL_SOURCES if getattr(self, n) is not None]
        if len(given) != 1:
            raise one_model_source(FINETUNE_MODEL_SOURCES, given)
        if self.revision is not None and self.hf_id is None:
            raise problem("revision goes with hf_id", code="field_goes_with",
                          params={"field": "revision", "needs": "hf_id"})
        if self.offload == "parameters" and self.sharding not in ("fsdp", "zero3"):
            raise problem("offload parameters needs sharding fsdp or zero3",
                          code="offload_parameters_sharding")
        if self.optimizer_in_backward and self.grad_accum > 1:
            raise problem("optimizer_in_backward steps during backward: it needs grad_accum 1",
                          code="optimizer_in_backward_accum")
        if self.method != "full" and (self.frozen_layers or self.freeze_embeddings):
            raise problem("frozen_layers and freeze_embeddings go with method full "
                          "(LoRA and QLoRA already freeze the whole base)", code="freeze_needs_full")
        return self

    def setup(self) -> FinetuneSetup:
        """The engine's training setup of this request."""
        return FinetuneSetup(
            method=self.method, optimizer=self.optimizer, lora_rank=self.lora_rank,
            lora_targets=self.lora_targets, dora=self.dora, seq_len=self.seq_len,
            micro_batch=self.micro_batch, grad_accum=self.grad_accum,
            gradient_checkpointing=self.gradient_checkpointing, gpu_count=self.gpu_count,
            sharding=self.sharding, offload=self.offload, precision=self.precision,
            loss=self.loss, optimizer_in_backward=self.optimizer_in_backward,
            frozen_layers=self.frozen_layers, freeze_embeddings=self.freeze_embeddings)


def parse_finetune_request(data: dict) -> FinetuneRequest:
    """Validate a mapping into a request; errors become one readable line."""
    try:
        return FinetuneRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, RequestError) from None


def resolve_finetune(request: FinetuneRequest, catalog: Catalog) -> tuple[ModelArch, Gpu, list[Notice]]:
    """The model and GPU records a request names, with notes on how the model was read."""
    source = {n: getattr(request, n) for n in (*FINETUNE_MODEL_SOURCES, "revision")
              if getattr(request, n) is not None}
    arch, notices = resolve_model(parse_request(source), catalog)
    gpu = catalog.gpu(request.gpu)
    notices += check_for_model(request, arch)
    return arch, gpu, notices


def check_for_model(request: FinetuneRequest, arch: ModelArch) -> list[Notice]:
    """What a request asks that this model cannot do (an error), or should hear (notices)."""
    notices: list[Notice] = []
    if request.frozen_layers >= arch.num_layers:
        raise RequestError(f"frozen_layers {request.frozen_layers}: {arch.name} has "
                           f"{arch.num_layers} layers; freeze fewer", code="frozen_layers_too_many",
                           params={"frozen": request.frozen_layers, "model": arch.name,
                                   "layers": arch.num_layers})
    if request.seq_len > arch.max_context_tokens:
        notices.append(Notice("ft_seq_over_context",
                              f"seq_len {request.seq_len:,} is longer than the model's context "
                              f"({arch.max_context_tokens:,} tokens).",
                              seq_len=request.seq_len, context=arch.max_context_tokens))
    return notices


def model_fields_of(request: EstimateRequest, arch: ModelArch) -> dict[str, str | float]:
    """The model fields of a fine-tuning request for the model an inference
    request names: its own source, or its size when it came from a file (the
    read ``arch`` is then passed to the engine as it is)."""
    fields = {n: getattr(request, n) for n in (*FINETUNE_MODEL_SOURCES, "revision")
              if getattr(request, n) is not None}
    return fields if set(fields) & set(FINETUNE_MODEL_SOURCES) else {"params_b": arch.params_total / 1e9}
