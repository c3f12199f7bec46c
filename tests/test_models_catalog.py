"""Invariants over every row of catalog/models.yaml, and published anchor values."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.loader import CATALOG_DIR, load_records
from catalog.schema import ModelArch

MODELS_PATH: Path = CATALOG_DIR / "models.yaml"
MODELS: tuple[ModelArch, ...] = load_records(MODELS_PATH, "models", ModelArch)
BY_ID: dict[str, ModelArch] = {m.id: m for m in MODELS}

REQUIRED_IDS = {
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b",
    "llama-3.1-70b", "llama-3.1-405b", "llama-3.2-1b", "llama-3.2-3b", "llama-3.3-70b",
    "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b",
    "qwen2.5-72b", "qwen2.5-coder-7b", "qwen2.5-coder-14b", "qwen2.5-coder-32b", "qwen3-0.6b",
    "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-coder-30b-a3b",
    "qwen3-235b-a22b", "qwen3-next-80b-a3b", "mistral-7b-v0.1", "mistral-7b-v0.3",
    "mistral-nemo-12b", "mixtral-8x7b", "gemma-2-2b", "gemma-2-9b", "gemma-2-27b", "gemma-3-1b",
    "gemma-3-4b", "gemma-3-12b", "gemma-3-27b", "phi-3-mini-4k", "phi-3-medium-4k", "phi-4",
    "deepseek-v2-lite", "deepseek-v3", "deepseek-r1", "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b", "deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-llama-70b", "glm-4-9b", "gpt-oss-20b", "gpt-oss-120b",
}

FAMILIES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3-moe", "qwen3-next", "gemma2", "gemma3",
    "phi3", "deepseek-v2", "deepseek-v3", "glm4", "gpt-oss",
    # Added in the late-2026 review.
    "glm4v", "glm4v-moe", "glm4-moe", "qwen2.5-vl", "qwen3-vl", "qwen3-vl-moe", "llama4", "mistral3",
    "deepseek-v3.2", "minimax-m2", "smollm3", "internvl",
}

# Attention wider than 2x hidden_size, as their config.json has it: 96 query heads of 128 on a
# 5120-wide (GLM-4.5/4.6) or 4096-wide (GLM-4.5-Air, GLM-4.5V) model. Checked exactly instead.
WIDE_ATTENTION = {"glm-4.5": 96 * 128, "glm-4.6": 96 * 128, "glm-4.5-air": 96 * 128,
                  "glm-4.5v": 96 * 128}

# Checkpoints whose params_total includes a vision tower; their fields describe the text model.
MULTIMODAL_IDS = {"gemma-3-4b", "gemma-3-12b", "gemma-3-27b"}

# SigLIP-So400m vision tower plus projector in Gemma 3 (about 0.42e9 parameters).
GEMMA3_VISION_PARAMS = 0.42e9


def rough_params(m: ModelArch, *, experts: int | None = None) -> float:
    """Rough parameter count from the architecture, biases and norms ignored. [count]

    Attention: Q and O projections (heads x head_dim each way) plus K and V
    (kv_heads x head_dim). Feed-forward: gated MLP, three hidden x intermediate
    matrices per layer, or per expert for mixture-of-experts layers, where
    ``experts`` experts are counted (default: all routed plus shared). Embedding
    and output head: vocab x hidden, once when tied.
    """
    attn = 2 * m.hidden_size * m.num_attention_heads * m.head_dim
    attn += 2 * m.hidden_size * m.num_kv_heads * m.head_dim
    dense_ffn = 3 * m.hidden_size * m.intermediate_size
    if m.is_moe:
        assert m.moe_intermediate_size is not None and m.num_experts is not None
        moe_layers = m.num_layers if m.moe_layers is None else m.moe_layers
        count = (m.num_experts if experts is None else experts) + m.num_shared_experts
        moe_ffn = count * 3 * m.hidden_size * m.moe_intermediate_size
        body = m.num_layers * attn + moe_layers * moe_ffn + (m.num_layers - moe_layers) * dense_ffn
    else:
        body = m.num_layers * (attn + dense_ffn)
    embeddings = m.vocab_size * m.hidden_size * (1 if m.tie_word_embeddings else 2)
    return float(body + embeddings)


def kv_bytes_per_token(m: ModelArch, *, bytes_per_element: float) -> float:
    """KV cache per token of context with no window reached, all full-attention layers. [B]"""
    attention_layers = m.num_layers - m.recurrent_layers
    if m.has_latent_attention:
        assert m.kv_lora_rank is not None and m.qk_rope_head_dim is not None
        return attention_layers * (m.kv_lora_rank + m.qk_rope_head_dim) * bytes_per_element
    return attention_layers * 2 * m.num_kv_heads * m.head_dim * bytes_per_element


def ids(models: tuple[ModelArch, ...]) -> list[str]:
    return [m.id for m in models]


# ---------------------------------------------------------------- whole catalog


def test_catalog_holds_every_required_model() -> None:
    assert REQUIRED_IDS <= set(BY_ID), sorted(REQUIRED_IDS - set(BY_ID))


def test_ids_are_unique() -> None:
    assert len(BY_ID) == len(MODELS)


# ---------------------------------------------------------------- every row


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_row_metadata(m: ModelArch) -> None:
    assert m.family in FAMILIES
    assert m.hf_repo is not None and m.hf_repo.count("/") == 1
    assert m.source.startswith("https://")
    assert m.notes, "every entry explains where its figures come from"
    assert m.release_date is not None


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_active_params_do_not_exceed_total(m: ModelArch) -> None:
    assert 0 < m.params_active <= m.params_total
    if not m.is_moe:
        assert m.params_active == m.params_total
    else:
        assert m.params_active < 0.5 * m.params_total


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_head_layout_is_consistent(m: ModelArch) -> None:
    assert m.num_attention_heads % m.num_kv_heads == 0
    if m.has_latent_attention:
        # MLA: head_dim = qk_nope_head_dim + qk_rope_head_dim; KV heads recorded as query heads.
        assert m.num_kv_heads == m.num_attention_heads
        assert m.qk_rope_head_dim is not None and m.qk_rope_head_dim < m.head_dim
        assert m.kv_lora_rank is not None and m.kv_lora_rank < m.hidden_size
        return
    assert m.head_dim in {64, 96, 128, 256}
    # Explicit head_dim may differ from hidden_size / heads (Qwen3, Gemma, gpt-oss), within 2x.
    width = m.num_attention_heads * m.head_dim
    if m.id in WIDE_ATTENTION:
        assert width == WIDE_ATTENTION[m.id] and width <= 3 * m.hidden_size
    else:
        assert 0.5 * m.hidden_size <= width <= 2 * m.hidden_size
    assert m.num_kv_heads * m.head_dim <= m.hidden_size


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_sliding_window_fields(m: ModelArch) -> None:
    if m.sliding_window_layers == 0:
        assert m.sliding_window_tokens is None
        return
    assert m.sliding_window_tokens is not None
    assert m.sliding_window_tokens < m.max_context_tokens
    assert m.sliding_window_layers <= m.num_layers


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_moe_fields(m: ModelArch) -> None:
    if not m.is_moe:
        assert m.num_experts_per_token is None
        assert m.moe_intermediate_size is None and m.moe_layers is None
        assert m.num_shared_experts == 0
        return
    assert m.num_experts is not None and m.num_experts_per_token is not None
    assert 1 <= m.num_experts_per_token < m.num_experts
    assert m.moe_intermediate_size is not None
    assert m.moe_layers is not None and 0 < m.moe_layers <= m.num_layers


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_recurrent_fields(m: ModelArch) -> None:
    assert m.recurrent_layers < m.num_layers
    assert (m.recurrent_layers > 0) == (m.recurrent_state_bytes_per_layer > 0)


DENSE_TEXT = tuple(m for m in MODELS if not m.is_moe and m.id not in MULTIMODAL_IDS)
PLAIN_MOE = tuple(m for m in MODELS if m.is_moe and not m.has_latent_attention and not m.recurrent_layers)


@pytest.mark.parametrize("m", DENSE_TEXT, ids=ids(DENSE_TEXT))
def test_dense_param_count_matches_architecture(m: ModelArch) -> None:
    assert rough_params(m) == pytest.approx(m.params_total, rel=0.15)


@pytest.mark.parametrize("m", PLAIN_MOE, ids=ids(PLAIN_MOE))
def test_moe_param_counts_match_architecture(m: ModelArch) -> None:
    assert rough_params(m) == pytest.approx(m.params_total, rel=0.15)
    assert m.num_experts_per_token is not None
    active = rough_params(m, experts=m.num_experts_per_token)
    # Published active counts differ in whether embeddings are counted (gpt-oss: unembedding only).
    assert active == pytest.approx(m.params_active, rel=0.25)


@pytest.mark.parametrize("mid", sorted(MULTIMODAL_IDS))
def test_multimodal_total_adds_vision_tower_to_text_model(mid: str) -> None:
    m = BY_ID[mid]
    text = rough_params(m)
    assert m.params_total - text == pytest.approx(GEMMA3_VISION_PARAMS, rel=0.15)


def test_gemma3_local_layers_follow_five_to_one_pattern() -> None:
    for m in MODELS:
        if m.family == "gemma3":
            # Layer i is global when (i + 1) % 6 == 0 (sliding_window_pattern 6).
            assert m.sliding_window_layers == m.num_layers - m.num_layers // 6, m.id


def test_gemma2_alternates_local_and_global_layers() -> None:
    for m in MODELS:
        if m.family == "gemma2":
            assert m.sliding_window_tokens == 4096
            assert m.sliding_window_layers * 2 == m.num_layers, m.id


def test_qwen3_explicit_head_dim_differs_from_hidden_over_heads() -> None:
    # docs/model.md, Memory: an explicit head_dim overrides hidden_size / heads.
    m = BY_ID["qwen3-0.6b"]
    assert m.head_dim == 128
    assert m.hidden_size // m.num_attention_heads == 64


# ---------------------------------------------------------------- anchors


def test_llama_3_8b_anchor() -> None:
    # https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json
    m = BY_ID["llama-3-8b"]
    assert (m.num_layers, m.hidden_size, m.num_attention_heads, m.num_kv_heads, m.head_dim) == (
        32, 4096, 32, 8, 128)
    assert m.vocab_size == 128256
    assert m.params_total == 8030261248
    # 2 (K, V) x 32 layers x 8 KV heads x 128 x 2 bytes = 128 KiB per token at fp16.
    assert kv_bytes_per_token(m, bytes_per_element=2.0) == 131072.0


def test_llama_3_1_8b_context() -> None:
    assert BY_ID["llama-3.1-8b"].max_context_tokens == 131072


def test_gemma_2_9b_anchor() -> None:
    # https://huggingface.co/google/gemma-2-9b/blob/main/config.json
    m = BY_ID["gemma-2-9b"]
    assert m.num_layers == 42
    assert m.num_kv_heads == 8
    assert m.head_dim == 256
    assert m.sliding_window_tokens == 4096
    assert m.sliding_window_layers == 21


def test_gpt_oss_20b_anchor() -> None:
    # https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json
    m = BY_ID["gpt-oss-20b"]
    assert (m.num_layers, m.num_attention_heads, m.num_kv_heads, m.head_dim, m.hidden_size) == (
        24, 64, 8, 64, 2880)
    assert (m.num_experts, m.num_experts_per_token) == (32, 4)
    assert m.sliding_window_tokens == 128
    assert m.sliding_window_layers == 12
    assert m.params_active == pytest.approx(3.6e9, rel=0.01)


def test_qwen3_30b_a3b_anchor() -> None:
    # https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json
    m = BY_ID["qwen3-30b-a3b"]
    assert (m.num_layers, m.num_attention_heads, m.num_kv_heads, m.head_dim) == (48, 32, 4, 128)
    assert (m.num_experts, m.num_experts_per_token, m.moe_intermediate_size) == (128, 8, 768)
    assert m.params_active == pytest.approx(3.3e9, rel=0.01)


def test_deepseek_v2_lite_anchor() -> None:
    # https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json
    m = BY_ID["deepseek-v2-lite"]
    assert m.num_layers == 27
    assert (m.kv_lora_rank, m.qk_rope_head_dim) == (512, 64)
    assert (m.num_experts, m.num_shared_experts, m.num_experts_per_token) == (64, 2, 6)
    assert m.moe_layers == m.num_layers - 1  # first_k_dense_replace 1
    # Latent cache: 27 layers x (512 + 64) elements x 2 bytes.
    assert kv_bytes_per_token(m, bytes_per_element=2.0) == 27 * 576 * 2


def test_deepseek_v3_anchor() -> None:
    # https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json
    m = BY_ID["deepseek-v3"]
    assert m.moe_layers == 61 - 3  # first_k_dense_replace 3
    assert m.params_active == pytest.approx(37e9, rel=0.01)


def test_mixtral_active_params() -> None:
    # Mistral AI: 46.7B total, 12.9B active (2 of 8 experts).
    m = BY_ID["mixtral-8x7b"]
    assert m.params_total == pytest.approx(46.7e9, rel=0.01)
    assert m.params_active == pytest.approx(12.9e9, rel=0.01)


def test_mistral_sliding_window_by_version() -> None:
    v01, v03 = BY_ID["mistral-7b-v0.1"], BY_ID["mistral-7b-v0.3"]
    assert (v01.sliding_window_tokens, v01.sliding_window_layers) == (4096, 32)
    assert v03.sliding_window_layers == 0


def test_qwen2_5_uses_no_sliding_window() -> None:
    for m in MODELS:
        if m.id.startswith("qwen2.5"):
            assert m.sliding_window_layers == 0, m.id


def test_qwen3_next_recurrent_state_from_config() -> None:
    # https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct/blob/main/config.json
    m = BY_ID["qwen3-next-80b-a3b"]
    key_heads, value_heads, key_dim, value_dim, conv_kernel = 16, 32, 128, 128, 4
    conv_channels = 2 * key_heads * key_dim + value_heads * value_dim
    conv_bytes = conv_channels * (conv_kernel - 1) * 2  # bf16 conv state
    recurrent_bytes = value_heads * key_dim * value_dim * 4  # fp32 delta-rule state
    assert m.recurrent_state_bytes_per_layer == conv_bytes + recurrent_bytes == 2146304
    assert m.recurrent_layers == 36  # full_attention_interval 4: 3 of every 4 layers
    assert (m.num_kv_heads, m.head_dim) == (2, 256)
    assert (m.num_experts, m.num_experts_per_token, m.num_shared_experts) == (512, 10, 1)
    # Only the 12 full-attention layers cache K/V: 12 x 2 x 2 x 256 x 2 bytes per token.
    assert kv_bytes_per_token(m, bytes_per_element=2.0) == 12 * 2 * 2 * 256 * 2


# ---------------------------------------------------------------- late-2026 review

# Models added in the late-2026 review (each looked up in its config.json; see the entries' notes).
REVIEW_2026_IDS = {
    "autoglm-phone-9b", "glm-4.1v-9b-thinking", "glm-4.5v", "glm-4.5", "glm-4.5-air", "glm-4.6",
    "qwen3-4b-instruct-2507", "qwen3-30b-a3b-instruct-2507", "qwen3-235b-a22b-instruct-2507",
    "qwen3-30b-a3b-thinking-2507", "qwen3-vl-8b", "qwen3-vl-30b-a3b", "qwen2.5-vl-3b",
    "qwen2.5-vl-7b", "qwen2.5-vl-72b", "qwen3-embedding-0.6b", "qwen3-embedding-4b",
    "qwen3-embedding-8b", "qwen3-reranker-8b", "llama-4-scout", "llama-4-maverick",
    "mistral-small-3.1-24b", "mistral-small-3.2-24b", "deepseek-v3.1", "deepseek-v3.2",
    "deepseek-r1-0528", "kimi-k2-instruct", "minimax-m2", "phi-4-mini", "smollm3-3b",
    "internvl3.5-8b", "gemma-3-270m", "e5-mistral-7b", "qwen3-coder-480b-a35b",
}
MODELS_BEFORE_REVIEW = 57
ENCODING_IDS = {"qwen3-embedding-0.6b": "embed", "qwen3-embedding-4b": "embed",
                "qwen3-embedding-8b": "embed", "e5-mistral-7b": "embed",
                "qwen3-reranker-8b": "rerank"}
VISION_IDS = {"autoglm-phone-9b", "glm-4.1v-9b-thinking", "glm-4.5v", "qwen3-vl-8b",
              "qwen3-vl-30b-a3b", "qwen2.5-vl-3b", "qwen2.5-vl-7b", "qwen2.5-vl-72b",
              "internvl3.5-8b"}


def test_review_added_at_least_thirty_models() -> None:
    assert REVIEW_2026_IDS <= set(BY_ID), sorted(REVIEW_2026_IDS - set(BY_ID))
    assert len(REVIEW_2026_IDS) >= 30
    assert len(MODELS) >= MODELS_BEFORE_REVIEW + 30
    assert len({m.id for m in MODELS}) == len(MODELS)


def test_catalog_records_when_it_was_reviewed() -> None:
    from catalog.catalog import load_catalog_from

    reviewed = load_catalog_from(CATALOG_DIR).reviewed_on
    assert reviewed is not None
    newest = max(m.release_date for m in MODELS if m.release_date is not None)
    assert newest <= reviewed


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_source_is_the_config_or_the_model_card(m: ModelArch) -> None:
    card = f"https://huggingface.co/{m.hf_repo}"
    assert m.source == card or (m.source.startswith(card + "/blob/")
                                and m.source.endswith("/config.json")), m.source
    if m.native_formats:
        assert m.native_formats_source is not None
        assert m.native_formats_source.startswith("https://")
    if m.vision is not None:
        assert m.vision.source.startswith(card + "/blob/")


@pytest.mark.parametrize("mid", ["autoglm-phone-9b", "glm-4.1v-9b-thinking"])
def test_glm4v_encoder_merges_patches_two_by_two(mid: str) -> None:
    # https://huggingface.co/zai-org/AutoGLM-Phone-9B/blob/main/preprocessor_config.json
    v = BY_ID[mid].vision
    assert v is not None
    assert (v.image_tokens, v.merge_size, v.patch_size) == ("patches", 2, 14)
    assert (v.min_pixels, v.max_pixels) == (12544, 9633792)
    assert (v.layers, v.hidden_size) == (24, 1536)
    # Encoder + projector of about 0.89B on a 9.4B text model: about 10.3B in the checkpoint.
    assert v.params == pytest.approx(0.89e9, rel=0.02)
    assert BY_ID[mid].params_total + v.params == pytest.approx(10.29e9, rel=0.01)


def test_autoglm_phone_has_the_glm_4_1v_architecture() -> None:
    # Open-AutoGLM's README: same architecture as GLM-4.1V-9B-Thinking.
    phone, base = BY_ID["autoglm-phone-9b"], BY_ID["glm-4.1v-9b-thinking"]
    fields = ("family", "params_total", "num_layers", "hidden_size", "num_attention_heads",
              "num_kv_heads", "head_dim", "intermediate_size", "vocab_size", "vision")
    vision_rule = ("params", "layers", "hidden_size", "patch_size", "image_tokens", "merge_size",
                   "min_pixels", "max_pixels")
    for name in fields[:-1]:
        assert getattr(phone, name) == getattr(base, name), name
    assert phone.vision is not None and base.vision is not None
    for name in vision_rule:
        assert getattr(phone.vision, name) == getattr(base.vision, name), name


@pytest.mark.parametrize("mid", sorted(VISION_IDS))
def test_vision_language_entries_carry_their_encoder(mid: str) -> None:
    m = BY_ID[mid]
    v = m.vision
    assert v is not None
    # Encoder + projector: a 0.3-1B ViT, counted apart from the text model's params_total.
    assert 0.3e9 <= v.params <= 1.0e9
    assert v.params < 0.25 * m.params_total
    if v.image_tokens == "patches":
        assert v.merge_size == 2 and v.patch_size in {14, 16}
        assert v.min_pixels is not None and v.max_pixels is not None
        # The smallest allowed image is at least one merged token.
        assert v.min_pixels >= (v.patch_size * v.merge_size) ** 2
    else:
        assert v.image_tokens == "tiles" and v.tile_size is not None
        assert v.tokens_per_image == (v.tile_size // v.patch_size) ** 2 // 4  # pixel shuffle 0.5


def test_qwen3_vl_checkpoint_totals_split_into_text_and_vision() -> None:
    # Safetensors totals of the checkpoints: 8767123696 and 31070754032 parameters.
    assert BY_ID["qwen3-vl-8b"].params_total == BY_ID["qwen3-8b"].params_total
    v8 = BY_ID["qwen3-vl-8b"].vision
    v30 = BY_ID["qwen3-vl-30b-a3b"].vision
    assert v8 is not None and v30 is not None
    assert BY_ID["qwen3-vl-8b"].params_total + v8.params == 8767123696
    assert BY_ID["qwen3-vl-30b-a3b"].params_total + v30.params == 31070754032


def test_glm_4_5v_total_splits_into_air_text_model_and_vision() -> None:
    # Safetensors total of zai-org/GLM-4.5V: 107710933120.
    m, air = BY_ID["glm-4.5v"], BY_ID["glm-4.5-air"]
    assert m.vision is not None
    assert m.params_total + m.vision.params == 107710933120
    assert m.params_total == pytest.approx(air.params_total, rel=1e-6)
    for name in ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "num_experts",
                 "num_experts_per_token", "num_shared_experts", "moe_intermediate_size", "moe_layers"):
        assert getattr(m, name) == getattr(air, name), name


@pytest.mark.parametrize("m", MODELS, ids=ids(MODELS))
def test_encoding_models_say_so(m: ModelArch) -> None:
    if m.id in ENCODING_IDS:
        assert m.task == ENCODING_IDS[m.id]
    else:
        assert m.task == "generate"
        assert "embedding" not in m.id and "reranker" not in m.id


def test_embedding_checkpoints_without_lm_head_count_one_vocab_matrix() -> None:
    # Qwen3-Embedding-8B: 7.57B on the Hub, the Qwen3-8B shapes less the 151665 x 4096 head.
    emb, rerank = BY_ID["qwen3-embedding-8b"], BY_ID["qwen3-reranker-8b"]
    assert emb.tie_word_embeddings and not rerank.tie_word_embeddings
    assert emb.params_total == 8188515328 - 151665 * 4096
    assert rough_params(emb) == pytest.approx(emb.params_total, rel=1e-3)
    # The reranker keeps its LM head: it scores from the "yes" / "no" logits.
    assert rough_params(rerank) == pytest.approx(rerank.params_total, rel=1e-3)


def test_kimi_k2_anchor() -> None:
    # https://huggingface.co/moonshotai/Kimi-K2-Instruct/blob/main/config.json
    m = BY_ID["kimi-k2-instruct"]
    assert (m.num_layers, m.num_attention_heads, m.vocab_size) == (61, 64, 163840)
    assert (m.num_experts, m.num_experts_per_token, m.num_shared_experts) == (384, 8, 1)
    assert m.moe_layers == 60  # first_k_dense_replace 1
    assert kv_bytes_per_token(m, bytes_per_element=2.0) == 61 * 576 * 2
    assert m.params_total == pytest.approx(1.03e12, rel=0.01)


def test_llama_4_layers_and_experts() -> None:
    scout, maverick = BY_ID["llama-4-scout"], BY_ID["llama-4-maverick"]
    assert (scout.num_experts, scout.moe_layers) == (16, 48)  # every layer MoE
    assert (maverick.num_experts, maverick.moe_layers) == (128, 24)  # every other layer
    for m in (scout, maverick):
        assert (m.num_experts_per_token, m.num_shared_experts) == (1, 1)
        # Chunked attention (8192) in 3 of every 4 layers; every 4th layer is global.
        assert (m.sliding_window_tokens, m.sliding_window_layers) == (8192, 36)
        assert m.params_active == pytest.approx(17e9, rel=0.01)


def test_glm_4_5_family_layout() -> None:
    big, air = BY_ID["glm-4.5"], BY_ID["glm-4.5-air"]
    assert (big.num_layers, big.moe_layers, big.num_experts) == (92, 89, 160)  # 3 dense layers
    assert (air.num_layers, air.moe_layers, air.num_experts) == (46, 45, 128)  # 1 dense layer
    assert BY_ID["glm-4.6"].max_context_tokens == 202752
    for m in (big, air, BY_ID["glm-4.6"]):
        assert (m.num_kv_heads, m.head_dim, m.num_shared_experts) == (8, 128, 1)
        assert m.native_formats  # zai-org publishes FP8 checkpoints


def test_deepseek_v3_2_keeps_the_v3_shapes() -> None:
    v3, v32 = BY_ID["deepseek-v3"], BY_ID["deepseek-v3.2"]
    for name in ("num_layers", "hidden_size", "num_attention_heads", "kv_lora_rank",
                 "qk_rope_head_dim", "num_experts", "moe_layers", "vocab_size"):
        assert getattr(v3, name) == getattr(v32, name), name
    # Plus a lightning indexer per layer: 64 x 7168 + 128 x 7168 + 8192 x 1536 weights, 256 norm.
    assert v32.params_total - v3.params_total == 61 * 13959424
