"""A model read from its files or the Hugging Face Hub, as an architecture with exact weights.

:mod:`sizing.gguf_file`, :mod:`sizing.safetensors_file` and :mod:`sizing.hub`
say what the headers hold; this module turns that into the
:class:`~catalog.schema.ModelArch` the engine sizes, with the exact tensor
bytes (:class:`~catalog.schema.FileWeights`) split the way the engine places
them: the token-embedding table (llama.cpp keeps it in host memory), the
output head, the routed experts and the rest.

Reading a file's header takes a fraction of a second; the answers are kept per
process, keyed by the file's path, size and modification time (or the Hub
repository, revision and file), so a page rerun or a report reads nothing again.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.catalog import Catalog
from catalog.errors import echo
from catalog.schema import FileWeights, ModelArch, Quant, QuantFormat, VisionEncoder
from sizing.guards import ModelInputError
from sizing.notices import Notice
from sizing.safetensors_file import SafetensorsModel, read_safetensors
from sizing.vision import vision_from_hf_config

if TYPE_CHECKING:  # the gguf package (and numpy) are imported when a GGUF file is read
    from sizing.gguf_file import GgufModel, GgufVision

SourceKind = str  # catalog | hf-config | hf-id | gguf | safetensors | params-b
_EXPERTS_GGUF = re.compile(r"_exps\b|_exps\.")
_EXPERTS_ST = re.compile(r"\.experts\.\d+\.|\.experts\.(gate|up|down)")
_EMBED_ST = re.compile(r"(^|\.)(embed_tokens|wte|word_embeddings|tok_embeddings)\.weight$")
_OUTPUT_ST = re.compile(r"(^|\.)(lm_head|output)\.weight$")
# Projectors whose image tokens follow the Qwen2-VL rule (patches merged 2 x 2 within a
# pixel budget): llama.cpp's clip projector types (tools/mtmd/clip-impl.h).
_PATCH_PROJECTORS = ("qwen2vl", "qwen25vl", "qwen3vl", "glm4v")
# Qwen2-VL's default pixel budget (preprocessor_config.json of Qwen/Qwen2-VL-7B-Instruct).
_DEFAULT_MIN_PIXELS, _DEFAULT_MAX_PIXELS = 3136, 12845056
GGUF_PROJECTOR_URL = "https://github.com/ggml-org/llama.cpp/blob/master/tools/mtmd/clip-impl.h"


@dataclass(frozen=True)
class ReadModel:
    """A model read from files: its architecture, where it came from and what was read."""

    arch: ModelArch
    source: SourceKind
    label: str  # the file or repository, for display
    quant: str | None  # the catalog quant of the file (None: the request's quant applies)
    facts: dict[str, object] = field(default_factory=dict)  # what was read, for display
    notices: tuple[Notice, ...] = ()


def nearest_quant(catalog: Catalog, bits_per_weight: float, fmt: QuantFormat) -> Quant:
    """The catalog quant of this format closest in bits per weight."""
    options = [q for q in catalog.quants if q.format is fmt] or list(catalog.quants)
    return min(options, key=lambda q: abs(q.body_bits_per_weight - bits_per_weight))


def _catalog_quant(catalog: Catalog, quant_id: str | None, bits: float, fmt: QuantFormat) -> Quant:
    if quant_id and any(q.id == quant_id for q in catalog.quants):
        return catalog.quant(quant_id)
    return nearest_quant(catalog, bits, fmt)


def vision_from_gguf(projector: GgufModel) -> VisionEncoder | None:
    """The image-token rule of a GGUF vision projector (mmproj), from its clip keys."""
    v: GgufVision | None = projector.vision
    if v is None or not v.patch_size or not v.embedding_length or not v.block_count:
        return None
    common = dict(params=float(max(projector.params_total, 1)), layers=v.block_count,
                  hidden_size=v.embedding_length, patch_size=v.patch_size,
                  source=GGUF_PROJECTOR_URL)
    if (v.projector_type or "") in _PATCH_PROJECTORS or v.spatial_merge_size:
        return VisionEncoder(**common, image_tokens="patches", merge_size=v.spatial_merge_size or 2,
                             min_pixels=v.image_min_pixels or _DEFAULT_MIN_PIXELS,
                             max_pixels=v.image_max_pixels or _DEFAULT_MAX_PIXELS)
    side = v.image_size or 336
    tokens = 256 if (v.projector_type or "") == "gemma3" else (side // v.patch_size) ** 2
    return VisionEncoder(**common, image_tokens="fixed", tokens_per_image=tokens, image_size=side)


def from_gguf(model: GgufModel, catalog: Catalog, *, projector: GgufModel | None = None,
              source: SourceKind = "gguf", label: str | None = None) -> ReadModel:
    """A GGUF language model (and its projector) with its exact tensor bytes."""
    if model.arch is None:
        raise ModelInputError(f"{model.source} is a vision projector, not a language model",
                              code="gguf_is_mmproj", params={"source": echo(model.source)})
    embedding = output = experts = 0
    for t in model.tensors:
        if t.name == "token_embd.weight":
            embedding += t.n_bytes
        elif t.name == "output.weight":
            output += t.n_bytes
        elif _EXPERTS_GGUF.search(t.name):
            experts += t.n_bytes
    body = model.tensors_bytes - embedding - output - experts
    bits = 8.0 * model.tensors_bytes / max(model.params_total, 1)
    quant = _catalog_quant(catalog, model.quant_id, bits, QuantFormat.GGUF)
    vision = vision_from_gguf(projector) if projector is not None else None
    weights = FileWeights(
        quant=quant.id, format="gguf", embedding_bytes=embedding, output_bytes=output,
        body_bytes=body, expert_bytes=experts,
        projector_bytes=float(projector.tensors_bytes) if projector is not None else None,
        file_bytes=model.file_bytes or model.tensors_bytes,
        files=(model.source,) + ((projector.source,) if projector is not None else ()))
    arch = model.arch.model_copy(update={"file_weights": weights, "vision": vision})
    facts: dict[str, object] = {
        "architecture": model.architecture, "tensor_bytes": model.tensors_bytes,
        "types": {name: size for name, size in model.bytes_by_type.items()},
        "quant": quant.id, "params": model.params_total}
    if projector is not None:
        facts["projector_bytes"] = projector.tensors_bytes
        facts["projector_type"] = projector.vision.projector_type if projector.vision else None
    notices = [Notice("file_weights_exact",
                      f"Weights from {label or model.source}: {len(model.tensors)} tensors, exact "
                      f"sizes ({quant.name} overall).", file=label or model.source,
                      tensors=len(model.tensors), quant=quant.name)]
    return ReadModel(arch=arch, source=source, label=label or model.source, quant=quant.id,
                     facts=facts, notices=tuple(notices))


def from_safetensors(model: SafetensorsModel, catalog: Catalog, *, source: SourceKind = "safetensors",
                     label: str | None = None) -> ReadModel:
    """A safetensors checkpoint with a config.json, with its exact tensor bytes."""
    if model.arch is None:
        raise ModelInputError(f"{model.source}: no config.json beside the weights; put the files in "
                              "a folder with their config.json", code="st_no_config",
                              params={"source": echo(model.source)})
    embedding = output = experts = 0
    for t in model.tensors:
        if _EMBED_ST.search(t.name) and "vision" not in t.name:
            embedding += t.n_bytes
        elif _OUTPUT_ST.search(t.name):
            output += t.n_bytes
        elif _EXPERTS_ST.search(t.name):
            experts += t.n_bytes
    body = model.text_bytes - embedding - output - experts
    bits = 8.0 * model.text_bytes / max(model.text_params, 1)
    fmt = QuantFormat.FLOAT if model.quantization is None else {
        "gptq": QuantFormat.GPTQ, "awq": QuantFormat.AWQ, "bitsandbytes": QuantFormat.BNB,
        "fp8": QuantFormat.FP8, "mxfp4": QuantFormat.MXFP4}.get(model.quantization, QuantFormat.FLOAT)
    quant = _catalog_quant(catalog, model.quant_id, bits, fmt)
    weights = FileWeights(
        quant=quant.id, format="safetensors", embedding_bytes=embedding, output_bytes=output,
        body_bytes=body, expert_bytes=experts,
        projector_bytes=float(model.vision_bytes) if model.vision_bytes else None,
        file_bytes=model.file_bytes, files=model.files)
    arch = model.arch.model_copy(update={"file_weights": weights})
    facts = {"tensor_bytes": model.tensors_bytes, "types": dict(model.bytes_by_dtype),
             "params_by_dtype": dict(model.params_by_dtype), "quant": quant.id,
             "params": model.params_total, "vision_bytes": model.vision_bytes}
    notice = Notice("file_weights_exact",
                    f"Weights from {label or model.source}: {len(model.tensors)} tensors, exact "
                    f"sizes ({quant.name} overall).", file=label or model.source,
                    tensors=len(model.tensors), quant=quant.name)
    return ReadModel(arch=arch, source=source, label=label or model.source, quant=quant.id,
                     facts=facts, notices=(notice,))


def _stamp(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return str(Path(path).resolve()), st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _gguf_cached(key: tuple[str, int, int], projector_key: tuple[str, int, int] | None) -> tuple:
    from sizing.gguf_file import read_gguf, read_mmproj

    model = read_gguf(key[0])
    projector = read_mmproj(projector_key[0]) if projector_key else None
    return model, projector


@functools.lru_cache(maxsize=16)
def _safetensors_cached(key: tuple[str, int, int]) -> SafetensorsModel:
    return read_safetensors(key[0])


def read_gguf_source(path: str, catalog: Catalog, *, mmproj: str | None = None) -> ReadModel:
    model, projector = _gguf_cached(_stamp(path), _stamp(mmproj) if mmproj else None)
    return from_gguf(model, catalog, projector=projector, label=Path(path).name)


def read_safetensors_source(path: str, catalog: Catalog) -> ReadModel:
    model = _safetensors_cached(_stamp(path))
    return from_safetensors(model, catalog, label=Path(path).name)


@functools.lru_cache(maxsize=16)
def _hub_cached(repo_id: str, revision: str | None, hf_file: str | None, endpoint: str,
                offline: str):
    from sizing.hub import fetch_hub_model
    return fetch_hub_model(repo_id, revision=revision, hf_file=hf_file)


def read_hub_source(repo_id: str, catalog: Catalog, *, revision: str | None = None,
                    hf_file: str | None = None) -> ReadModel:
    """A Hub repository: from config.json (as ``--hf-config`` reads it) for safetensors
    repositories, from the chosen GGUF file's header for GGUF ones."""
    from sizing.hub import hub_endpoint
    hub = _hub_cached(repo_id, revision, hf_file, hub_endpoint(),
                      os.environ.get("HF_HUB_OFFLINE", ""))
    label = f"{hub.repo_id}@{hub.revision[:7]}"
    if hub.gguf is not None and (hub.config is None or hf_file):
        read = from_gguf(hub.gguf.model, catalog, projector=hub.mmproj.model if hub.mmproj else None,
                         source="hf-id", label=f"{hub.repo_id}/{hub.gguf.name}")
        read.facts["revision"] = hub.revision
        return read
    if hub.arch is None:
        if hub.arch_error is not None:  # config.json was read and refused
            error = hub.arch_error
            raise ModelInputError(str(error), code=error.code, params=error.params)
        raise ModelInputError(f"{hub.repo_id} has neither a config.json nor a GGUF file",
                              code="hub_no_config_or_gguf", params={"repo": echo(hub.repo_id)})
    facts: dict[str, object] = {"revision": hub.revision, "from_cache": hub.from_cache}
    arch = hub.arch
    if hub.config is not None and arch.vision is not None:
        # The repository's processor config sets the image budget config.json leaves out.
        processor = hub.preprocessor_config or hub.processor_config
        arch = arch.model_copy(update={"vision": vision_from_hf_config(hub.config, processor)})
    notices = []
    if hub.safetensors is not None:
        st = hub.safetensors.model
        facts |= {"params": st.params_total, "params_by_dtype": dict(st.params_by_dtype),
                  "tensor_bytes": st.tensors_bytes, "vision_bytes": st.vision_bytes}
        notices.append(Notice(
            "hub_params_exact",
            f"{hub.repo_id}: {st.params_total / 1e9:,.2f}B parameters in its safetensors headers "
            f"({', '.join(f'{k} {v / 1e9:,.2f}B' for k, v in st.params_by_dtype.items())}).",
            repo=hub.repo_id, params_b=f"{st.params_total / 1e9:,.2f}",
            dtypes=", ".join(f"{k} {v / 1e9:,.2f}B" for k, v in st.params_by_dtype.items())))
    return ReadModel(arch=arch, source="hf-id", label=label, quant=None, facts=facts,
                     notices=tuple(notices))
