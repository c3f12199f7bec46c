"""Model architectures: parameter counts, Hugging Face config.json, bare sizes.

Three ways to name a model: a catalog id, a ``config.json`` (parsed here into
the same :class:`catalog.schema.ModelArch` record as catalog entries), or a
bare parameter count, for which a typical modern dense architecture is
interpolated from real models of similar size. See docs/model.md, Memory
(Model architecture).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from catalog.errors import validation_error_text
from catalog.printable import printable
from catalog.schema import ModelArch, QuantFormat
from sizing.guards import (MAX_CONFIG_BYTES, ModelInputError, json_kind, json_value_text, load_json,
                           mib_text, strict_flag, whole_number)
from sizing.notices import Notice
from sizing.vision import MAX_VISION_NUMBER, vision_from_hf_config

MAX_PARAMS = 5e12  # larger than any published model; beyond this input is absurd
MIN_PARAMS = 1e7
# Any one width, count or length in a config.json beyond this is absurd: the
# widest published vocabulary is ~262k, the longest context 10M tokens.
MAX_SHAPE = 100_000_000


@dataclass(frozen=True)
class ParamBreakdown:
    """Parameter counts by role. All counts are plain numbers of weights."""

    embedding: float  # token-embedding table
    output: float  # LM head (0 when tied to the embedding)
    routed_experts: float  # all routed-expert weights (MoE), 0 for dense
    routed_experts_active: float  # routed-expert weights used per token
    body: float  # everything else: attention, dense FFN, shared experts, norms

    @property
    def total(self) -> float:
        return self.embedding + self.output + self.routed_experts + self.body


def _attention_params(arch: ModelArch) -> float:
    """Attention weights of one layer."""
    h = arch.hidden_size
    if arch.kv_lora_rank is not None:
        # Latent attention: q projection (full), compressed kv down/up projections.
        rope = arch.qk_rope_head_dim or 0
        nope = arch.head_dim - rope
        q = h * arch.num_attention_heads * arch.head_dim
        kv_down = h * (arch.kv_lora_rank + rope)
        kv_up = arch.kv_lora_rank * arch.num_attention_heads * (nope + nope)
        out = arch.num_attention_heads * nope * h
        return q + kv_down + kv_up + out
    q = h * arch.num_attention_heads * arch.head_dim
    kv = 2 * h * arch.num_kv_heads * arch.head_dim
    out = arch.num_attention_heads * arch.head_dim * h
    return q + kv + out


def moe_layer_count(arch: ModelArch) -> int:
    """Layers that carry routed experts."""
    if not arch.is_moe:
        return 0
    return arch.num_layers if arch.moe_layers is None else arch.moe_layers


def param_breakdown(arch: ModelArch) -> ParamBreakdown:
    """Split ``params_total`` into embedding, head, routed experts and the rest.

    Embedding and head sizes follow from the vocabulary and width; routed
    experts from the MoE fields (three matrices of hidden x moe_intermediate
    per expert, as in SwiGLU experts); the body is what remains of the
    published total, so the parts always add up to ``params_total``.
    """
    embedding = float(arch.vocab_size * arch.hidden_size)
    output = 0.0 if arch.tie_word_embeddings else embedding
    routed = routed_active = 0.0
    if arch.is_moe:
        per_expert = 3.0 * arch.hidden_size * (arch.moe_intermediate_size or arch.intermediate_size)
        layers = moe_layer_count(arch)
        routed = layers * arch.num_experts * per_expert
        routed_active = layers * arch.num_experts_per_token * per_expert
    body = arch.params_total - embedding - output - routed
    if body < 0:
        # Published totals sometimes exclude the embedding; never go negative.
        body = max(arch.params_total * 0.02, 0.0)
    return ParamBreakdown(embedding, output, routed, routed_active, body)


def dense_param_count(arch: ModelArch) -> float:
    """Parameters implied by a dense architecture's shapes (no MoE). [count]"""
    per_layer = _attention_params(arch) + 3.0 * arch.hidden_size * arch.intermediate_size
    per_layer += 2.0 * arch.hidden_size  # norms
    embedding = arch.vocab_size * arch.hidden_size
    head = 0 if arch.tie_word_embeddings else embedding
    return arch.num_layers * per_layer + embedding + head


def param_count_from_shapes(arch: ModelArch) -> float:
    """Parameters implied by the shapes, MoE and latent attention included. [count]"""
    h = arch.hidden_size
    attn = _attention_params(arch)
    total = 0.0
    moe_layers = moe_layer_count(arch)
    dense_layers = arch.num_layers - moe_layers
    total += arch.num_layers * (attn + 2.0 * h)
    total += dense_layers * 3.0 * h * arch.intermediate_size
    if arch.is_moe:
        moe_i = arch.moe_intermediate_size or arch.intermediate_size
        experts = arch.num_experts + arch.num_shared_experts
        total += moe_layers * (experts * 3.0 * h * moe_i + h * arch.num_experts)
    embedding = arch.vocab_size * h
    total += embedding if arch.tie_word_embeddings else 2 * embedding
    return total


def active_param_count_from_shapes(arch: ModelArch) -> float:
    """Parameters touched per token implied by the shapes. [count]"""
    if not arch.is_moe:
        return param_count_from_shapes(arch)
    h = arch.hidden_size
    moe_i = arch.moe_intermediate_size or arch.intermediate_size
    idle = arch.num_experts - arch.num_experts_per_token
    return param_count_from_shapes(arch) - moe_layer_count(arch) * idle * 3.0 * h * moe_i


# --- Hugging Face config.json ---------------------------------------------------

_KEYS: dict[str, tuple[str, ...]] = {
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "num_attention_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "intermediate_size": ("intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"),
    "vocab_size": ("vocab_size", "padded_vocab_size", "n_vocab"),
}
# quantization_config.quant_method values (transformers' QuantizationMethod) of
# checkpoints shipped in a weight format, and the format family they are.
# https://huggingface.co/docs/transformers/main/en/main_classes/quantization
_QUANT_METHODS = {"mxfp4": QuantFormat.MXFP4, "fp8": QuantFormat.FP8, "gptq": QuantFormat.GPTQ,
                  "awq": QuantFormat.AWQ, "bitsandbytes": QuantFormat.BNB, "exl2": QuantFormat.EXL2}
_QUANT_CONFIG_SOURCE = "https://huggingface.co/docs/transformers/main/en/main_classes/quantization"


def _native_formats(config: Mapping[str, Any]) -> tuple[QuantFormat, ...]:
    """The weight format a config.json's ``quantization_config`` says it ships in."""
    quant = config.get("quantization_config")
    method = quant.get("quant_method") if isinstance(quant, Mapping) else None
    found = _QUANT_METHODS.get(method.lower()) if isinstance(method, str) else None
    return (found,) if found else ()


_CONTEXT_KEYS = ("max_position_embeddings", "seq_length", "n_positions", "max_sequence_length",
                 "n_ctx", "model_max_length")


# The physical range of each whole-number field of a config.json, [low, high].
# The largest published models sit far inside these (Llama 3.1 405B, the widest
# anchor below: 126 layers, hidden size 16,384), so a value outside is a typo, a
# unit mistake or not a model; zero is meaningless wherever low is 1.
CONFIG_RANGES: dict[str, tuple[int, int]] = {
    "num_layers": (1, 1_000),
    "hidden_size": (1, 200_000),
    "num_attention_heads": (1, 10_000),
    "num_key_value_heads": (1, 10_000),
    "head_dim": (1, 100_000),
    "intermediate_size": (1, 10_000_000),
    "moe_intermediate_size": (1, 10_000_000),
    "vocab_size": (1, 10_000_000),
    "max_position_embeddings": (1, MAX_SHAPE),
    "sliding_window": (0, MAX_SHAPE),  # 0: no window, as null
    "sliding_window_pattern": (1, 1_000),
    "max_window_layers": (0, 1_000),
    "num_experts": (0, 100_000),  # 0: a dense model, as null
    "num_experts_per_tok": (1, 100_000),
    "n_shared_experts": (0, 100_000),
    "first_k_dense_replace": (0, 1_000),
    "kv_lora_rank": (1, 100_000),
    "qk_rope_head_dim": (1, 100_000),
    "qk_nope_head_dim": (1, 100_000),
    # Every whole-number setting of the image tower (vision_config) that sizing.vision
    # reads, and the image counts beside it; 0 reads as unset.
    "vision_config": (0, MAX_VISION_NUMBER),
}
# The image tower's settings read by sizing.vision.vision_from_hf_config: whole numbers
# under vision_config, whole numbers at the top level, and the activation's name.
_VISION_NUMBERS = ("depth", "num_hidden_layers", "num_layers", "hidden_size", "embed_dim", "width",
                   "patch_size", "intermediate_size", "spatial_merge_size", "out_hidden_size",
                   "image_size")
_IMAGE_COUNTS = ("mm_tokens_per_image", "max_dynamic_patch")
# Latent attention's head parts when a config leaves them out (DeepSeek-V2's values).
_DEFAULT_NOPE_HEAD_DIM, _DEFAULT_ROPE_HEAD_DIM = 128, 64
# Context assumed when a config names none of _CONTEXT_KEYS.
DEFAULT_CONTEXT_TOKENS = 4096


def _first(config: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any]:
    """(the first of ``keys`` the config sets to a non-null value, its value); else (keys[0], None)."""
    for key in keys:
        if config.get(key) is not None:
            return key, config[key]
    return keys[0], None


def _field(field: str, value: Any, key: str | None = None, *, high: int | None = None) -> int:
    """A whole number in the field's range of :data:`CONFIG_RANGES`, named as the config names it."""
    low, top = CONFIG_RANGES[field]
    return whole_number(key or field, value, low=low, high=top if high is None else min(high, top))


def _optional(config: Mapping[str, Any], field: str, default: int | None = None, *,
              keys: tuple[str, ...] | None = None) -> int | None:
    """An optional whole-number field: ``default`` when absent or null, else checked."""
    key, value = _first(config, keys or (field,))
    return default if value is None else _field(field, value, key)


def _check_multimodal(config: Mapping[str, Any]) -> None:
    """Refuse a multimodal part of the wrong type, naming the field and the type it needs.

    ``text_config`` and ``vision_config`` must be objects, the tower's counts
    whole numbers in :data:`CONFIG_RANGES` and ``hidden_act`` a name; a wrong
    type would otherwise be skipped and the model sized without its encoder.
    """
    for key in ("text_config", "vision_config"):
        if config.get(key) is not None and not isinstance(config[key], Mapping):
            kind = json_kind(config[key])
            raise ModelInputError(f"config.json: '{key}' must be an object, got {kind}",
                                  code="config_not_object_field",
                                  params={"field": key, "got_term": kind})
    vision = config.get("vision_config") or {}
    for where, keys, prefix in ((vision, _VISION_NUMBERS, "vision_config."),
                                (config, _IMAGE_COUNTS, "")):
        for key in keys:
            if where.get(key) is not None:
                _field("vision_config", where[key], prefix + key)
    act = vision.get("hidden_act")
    if act is not None and not isinstance(act, str):
        kind = json_kind(act)
        raise ModelInputError(
            f"config.json: 'vision_config.hidden_act' must be text (the activation's name), "
            f"got {kind}", code="config_not_text",
            params={"field": "vision_config.hidden_act", "got_term": kind})


def _sliding_layers(config: Mapping[str, Any], num_layers: int) -> tuple[int | None, int]:
    """(window tokens, count of windowed layers) from the config's conventions."""
    window = _optional(config, "sliding_window", 0)
    use = strict_flag("use_sliding_window", config.get("use_sliding_window"), default=True)
    layer_types = config.get("layer_types")
    if layer_types is not None and not isinstance(layer_types, list):
        got = json_value_text(layer_types)
        raise ModelInputError(f"config.json: 'layer_types' must be a list of layer kinds, got {got}",
                              code="config_layer_types_list", params={"got": got})
    if isinstance(layer_types, list) and len(layer_types) > num_layers:
        raise ModelInputError(
            f"config.json: 'layer_types' lists {len(layer_types):,} layers but the model has "
            f"{num_layers:,} (num_hidden_layers)", code="config_layer_types_count",
            params={"listed": f"{len(layer_types):,}", "layers": f"{num_layers:,}"})
    if not window or not use:
        return None, 0
    if layer_types:
        count = sum(1 for t in layer_types if isinstance(t, str) and "sliding" in t)
        return (window, count) if count else (None, 0)
    pattern = _optional(config, "sliding_window_pattern")
    if pattern is not None and pattern > 1:
        # Gemma 3: every pattern-th layer is global.
        return window, num_layers - num_layers // pattern
    model_type = _model_type(config)
    if model_type.startswith("gemma2") or model_type.startswith("gpt_oss"):
        return window, num_layers // 2
    if model_type.startswith("qwen"):
        max_window_layers = _optional(config, "max_window_layers")
        if max_window_layers is not None:
            return window, max(0, num_layers - max_window_layers)
    return window, num_layers


def _experts(config: Mapping[str, Any], layers: int) -> dict[str, Any]:
    """The MoE fields of a config (all None/0 for a dense model)."""
    experts = _optional(config, "num_experts", 0,
                        keys=("num_local_experts", "n_routed_experts", "num_experts")) or 0
    if not experts:
        return dict(num_experts=None, num_experts_per_token=None, moe_intermediate_size=None,
                    moe_layers=None,
                    num_shared_experts=_optional(config, "n_shared_experts", 0) or 0)
    key, per_token = _first(config, ("num_experts_per_tok", "num_experts_per_token", "moe_top_k"))
    if per_token is None:
        raise ModelInputError("config.json has experts but no num_experts_per_tok",
                              code="config_no_experts_per_token")
    return dict(
        num_experts=experts,
        num_experts_per_token=_field("num_experts_per_tok", per_token, key, high=experts),
        num_shared_experts=_optional(config, "n_shared_experts", 0) or 0,
        moe_intermediate_size=_optional(config, "moe_intermediate_size"),
        moe_layers=layers - _field("first_k_dense_replace",
                                   config.get("first_k_dense_replace", 0), high=layers),
    )


def arch_from_hf_config(
    config: Mapping[str, Any], *, model_id: str = "custom", name: str | None = None,
    file_name: str | None = None,
) -> ModelArch:
    """Build a :class:`ModelArch` from a parsed config.json mapping.

    The model is named ``name`` when given, else by :func:`config_model_name`
    (the config's ``_name_or_path``, else ``file_name``'s stem).

    Nested ``text_config`` (multimodal checkpoints) is used when present.
    Parameter counts are computed from the shapes. Raises
    :class:`ModelInputError` naming every missing field, and naming the field
    and its range (:data:`CONFIG_RANGES`) for a number outside it, a flag that
    is not ``true``/``false`` or a count given as ``true``.
    """
    if not isinstance(config, Mapping):
        raise ModelInputError("config.json must be a JSON object", code="config_not_object")
    _check_multimodal(config)
    config = _with_text_config(config)
    values: dict[str, Any] = {}
    missing: list[tuple[str, tuple[str, ...]]] = []
    for field, keys in _KEYS.items():
        key, value = _first(config, keys)
        if value is None:
            missing.append((field, keys[:2]))
        else:
            values[field] = _field(field, value, key)
    if missing:
        raise ModelInputError(
            "config.json is missing " + ", ".join(f"{f} ({' or '.join(k)})" for f, k in missing),
            code="config_missing",
            params={"fields": ", ".join(f"{f} ({' / '.join(k)})" for f, k in missing)})
    layers, hidden, heads = values["num_layers"], values["hidden_size"], values["num_attention_heads"]
    multi_query = strict_flag("multi_query", config.get("multi_query"), default=False)
    kv_heads = _optional(config, "num_key_value_heads", 1 if multi_query else heads)
    kv_lora_rank = _optional(config, "kv_lora_rank")
    rope_dim = None
    if kv_lora_rank is not None:
        rope_dim = _optional(config, "qk_rope_head_dim", _DEFAULT_ROPE_HEAD_DIM)
        head_dim = _optional(config, "qk_nope_head_dim", _DEFAULT_NOPE_HEAD_DIM) + rope_dim
        kv_heads = heads
    else:
        head_dim = _optional(config, "head_dim", hidden // heads)
    if heads % kv_heads:
        raise ModelInputError(
            f"config.json: num_attention_heads ({heads}) is not a multiple of "
            f"num_key_value_heads ({kv_heads})", code="config_heads_not_multiple",
            params={"heads": heads, "kv_heads": kv_heads})
    if head_dim <= 0:
        raise ModelInputError("config.json: head_dim works out to 0; check hidden_size and heads",
                              code="config_head_dim_zero")
    context = _optional(config, "max_position_embeddings", DEFAULT_CONTEXT_TOKENS,
                        keys=_CONTEXT_KEYS)
    window, windowed_layers = _sliding_layers(config, layers)
    tie = strict_flag("tie_word_embeddings", config.get("tie_word_embeddings"), default=False)
    fields: dict[str, Any] = dict(
        id=model_id,
        name=_display_name(name or config_model_name(config, file_name)),
        family=_family(config),
        params_total=1.0,
        params_active=1.0,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=values["intermediate_size"],
        vocab_size=values["vocab_size"],
        max_context_tokens=context,
        tie_word_embeddings=tie,
        sliding_window_tokens=window,
        sliding_window_layers=windowed_layers,
        kv_lora_rank=kv_lora_rank,
        qk_rope_head_dim=rope_dim,
        **_experts(config, layers),
        native_formats=_native_formats(config),
        native_formats_source=_QUANT_CONFIG_SOURCE if _native_formats(config) else None,
        source="https://huggingface.co/docs/transformers/main/en/main_classes/configuration",
        notes="Parsed from an uploaded config.json; parameter counts computed from the shapes.",
    )
    try:
        draft = ModelArch(**fields, vision=vision_from_hf_config(dict(config)))
        total = param_count_from_shapes(draft)
        active = active_param_count_from_shapes(draft)
    except ValidationError as exc:
        reason = validation_error_text(exc)
        raise ModelInputError(f"config.json: {reason}", code="config_invalid",
                              params={"reason": reason}) from None
    if not MIN_PARAMS <= total <= MAX_PARAMS:
        raise ModelInputError(
            f"config.json: the shapes add up to {total / 1e9:,.4g}B parameters; a usable model "
            f"has {MIN_PARAMS / 1e9:g}B to {MAX_PARAMS / 1e9:g}B", code="config_params_range",
            params={"params_b": f"{total / 1e9:,.4g}", "low_b": f"{MIN_PARAMS / 1e9:g}",
                    "high_b": f"{MAX_PARAMS / 1e9:g}"})
    return draft.model_copy(update={"params_total": total, "params_active": min(active, total)})


def config_model_name(config: Mapping[str, Any], file_name: str | None = None) -> str | None:
    """The model a config.json names, or None.

    ``_name_or_path`` first: a hub id (``org/name``) as it is, a local path by
    its last component; else the file's stem (``Llama.json`` is "Llama"),
    unless the file is just ``config.json``. Never the folder the file is in:
    ``path/to/x/config.json`` says nothing about the model.
    """
    raw = config.get("_name_or_path")
    if isinstance(raw, str) and raw.strip().strip("/\\"):
        value = raw.strip().rstrip("/\\")
        local = (value.startswith(("/", ".", "~")) or "\\" in value or value.count("/") > 1
                 or (len(value) > 1 and value[1] == ":"))
        named = value.replace("\\", "/").rsplit("/", 1)[-1] if local else value
        if named.strip(".~ "):  # "." or "~" name no model
            return named
    if file_name:
        stem = str(file_name).replace("\\", "/").rsplit("/", 1)[-1]
        stem = stem[:-5] if stem.lower().endswith(".json") else stem
        if stem.strip() and stem.strip().lower() != "config":
            return stem
    return None


def _display_name(raw: str | None) -> str:
    """The name to show, whitespace folded, invisible characters escaped, at most 100 characters."""
    text = printable(" ".join(str(raw).split()))[:100] if raw else ""
    return text if len(text) >= 2 else "Custom model"


def _model_type(config: Mapping[str, Any]) -> str:
    """The config's ``model_type`` (empty unless a string)."""
    value = config.get("model_type")
    return value if isinstance(value, str) else ""


def _family(config: Mapping[str, Any]) -> str:
    raw = (_model_type(config) or "custom").lower().replace("_", "-")
    kept = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in raw)
    cleaned = "-".join(part for part in kept.split("-") if part)[:60]
    return cleaned or "custom"


def _with_text_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The config with a nested ``text_config`` (multimodal checkpoints) merged over it."""
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, Mapping) else config


def parse_hf_config_text(text: str | bytes, *, model_id: str = "custom",
                         name: str | None = None, file_name: str | None = None) -> ModelArch:
    """Parse config.json text; every problem is a :class:`ModelInputError`.

    ``file_name`` (the file as the user named it) names the model when the
    config has no ``_name_or_path``; ``name`` overrides both.
    """
    return read_hf_config(text, model_id=model_id, name=name, file_name=file_name)[0]


def read_hf_config(text: str | bytes, *, model_id: str = "custom", name: str | None = None,
                   file_name: str | None = None) -> tuple[ModelArch, list[Notice]]:
    """:func:`parse_hf_config_text`, with a warning for each default the file left to RigFit."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ModelInputError(
            f"config.json is {mib_text(len(text))}; a real one is a few KiB "
            f"(limit {mib_text(MAX_CONFIG_BYTES)})", code="config_too_large",
            params={"size": mib_text(len(text)), "limit": mib_text(MAX_CONFIG_BYTES)})
    config = load_json(text, what="config.json")
    arch = arch_from_hf_config(config, model_id=model_id, name=name, file_name=file_name)
    notices = []
    if _first(_with_text_config(config), _CONTEXT_KEYS)[1] is None:
        notices.append(Notice(
            "config_context_assumed",
            f"config.json states no maximum context ({', '.join(_CONTEXT_KEYS[:2])} or another "
            f"of its names): {DEFAULT_CONTEXT_TOKENS:,} tokens assumed.",
            tokens=f"{DEFAULT_CONTEXT_TOKENS:,}"))
    return arch, notices


# --- A bare parameter count ---------------------------------------------------------

# Real dense models with grouped-query attention that anchor the interpolation:
# (params, layers, hidden size). Llama 3.2 1B/3B, Llama 3 8B, Qwen2.5 14B/32B,
# Llama 3 70B, Llama 3.1 405B (their config.json files).
_ANCHORS = (
    (1.24e9, 16, 2048),
    (3.21e9, 28, 3072),
    (8.03e9, 32, 4096),
    (14.8e9, 48, 5120),
    (32.8e9, 64, 5120),
    (70.6e9, 80, 8192),
    (405.9e9, 126, 16384),
)
_TYPICAL_VOCAB = 128_256
_TYPICAL_HEAD_DIM = 128
_TYPICAL_KV_HEADS = 8


def _interpolate(params: float, column: int) -> float:
    logs = [math.log(a[0]) for a in _ANCHORS]
    x = math.log(params)
    if x <= logs[0]:
        i = 0
    elif x >= logs[-1]:
        i = len(logs) - 2
    else:
        i = max(j for j in range(len(logs) - 1) if logs[j] <= x)
    x0, x1 = logs[i], logs[i + 1]
    y0, y1 = math.log(_ANCHORS[i][column]), math.log(_ANCHORS[i + 1][column])
    return math.exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0))


def arch_from_param_count(params: float) -> ModelArch:
    """A typical modern dense architecture with about ``params`` weights.

    Layers and width are interpolated (log-log) between real GQA models of
    similar size, the width rounded to whole groups of query heads so that
    attention is always grouped (8 KV heads of 128 dimensions, as Llama 3,
    Qwen2.5 14B-72B and Mistral use; two query heads per KV head for the
    smallest widths); a 128k vocabulary; the feed-forward width is then solved
    so the shapes add up to ``params``.
    """
    if not math.isfinite(params) or params < MIN_PARAMS or params > MAX_PARAMS:
        raise ModelInputError(
            f"parameter count {params / 1e9:g}B is outside "
            f"{MIN_PARAMS / 1e9:g}B-{MAX_PARAMS / 1e9:g}B", code="params_b_range",
            params={"params_b": f"{params / 1e9:g}", "low_b": f"{MIN_PARAMS / 1e9:g}",
                    "high_b": f"{MAX_PARAMS / 1e9:g}"})
    layers = max(2, round(_interpolate(params, 1)))
    # Widths in whole groups of KV heads, as real grouped-query models have them:
    # 8 KV heads of 128 (1,024 wide) from about 1B up, pairs of query heads below.
    width = _interpolate(params, 2)
    group = _TYPICAL_HEAD_DIM * _TYPICAL_KV_HEADS if width >= 1536 else 2 * _TYPICAL_HEAD_DIM
    hidden = max(group, int(round(width / group)) * group)
    heads = hidden // _TYPICAL_HEAD_DIM
    kv_heads = _TYPICAL_KV_HEADS if heads % _TYPICAL_KV_HEADS == 0 else heads // 2
    vocab = _TYPICAL_VOCAB
    tie = params < 4e9  # small models usually tie the head to the embedding
    embed = vocab * hidden * (1 if tie else 2)
    attn = hidden * heads * _TYPICAL_HEAD_DIM * 2 + 2 * hidden * kv_heads * _TYPICAL_HEAD_DIM
    ffn_per_layer = (params - embed) / layers - attn - 2 * hidden
    intermediate = max(256, int(round(ffn_per_layer / (3 * hidden) / 256.0)) * 256)
    size_b = params / 1e9
    return ModelArch(
        id=f"generic-{size_b:g}b".replace(".", "-").lower(),
        name=f"Generic {size_b:g}B dense model",
        family="generic",
        params_total=params,
        params_active=params,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=_TYPICAL_HEAD_DIM,
        intermediate_size=intermediate,
        vocab_size=vocab,
        max_context_tokens=131_072,
        tie_word_embeddings=tie,
        source="https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json",
        notes="Inferred from the parameter count alone.",
    )
