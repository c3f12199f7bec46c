"""config.json parsing and bare-size inference."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from sizing.architecture import (ModelInputError, arch_from_hf_config, arch_from_param_count,
                                 param_count_from_shapes, parse_hf_config_text)

CAT = load_catalog()

LLAMA3_8B = {  # meta-llama/Meta-Llama-3-8B config.json
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
    "rope_theta": 500000.0, "tie_word_embeddings": False,
}


def test_llama3_config_matches_catalog_row():
    arch = arch_from_hf_config(LLAMA3_8B)
    row = CAT.model("llama-3-8b")
    for field in ("num_layers", "hidden_size", "num_kv_heads", "head_dim", "vocab_size"):
        assert getattr(arch, field) == getattr(row, field)
    assert arch.params_total == pytest.approx(8.03e9, rel=0.005)


def test_nested_text_config_and_sliding_pattern():
    config = {"model_type": "gemma3", "text_config": {
        "hidden_size": 2560, "intermediate_size": 10240, "num_attention_heads": 8,
        "num_hidden_layers": 34, "num_key_value_heads": 4, "head_dim": 256,
        "vocab_size": 262208, "sliding_window": 1024, "sliding_window_pattern": 6,
        "max_position_embeddings": 131072}}
    arch = arch_from_hf_config(config)
    assert arch.head_dim == 256 and arch.sliding_window_tokens == 1024
    assert arch.sliding_window_layers == 34 - 34 // 6


def test_moe_and_latent_attention_fields():
    config = {"model_type": "deepseek_v2", "hidden_size": 2048, "intermediate_size": 10944,
              "num_attention_heads": 16, "num_hidden_layers": 27, "num_key_value_heads": 16,
              "vocab_size": 102400, "kv_lora_rank": 512, "qk_rope_head_dim": 64,
              "qk_nope_head_dim": 128, "v_head_dim": 128, "n_routed_experts": 64,
              "n_shared_experts": 2, "num_experts_per_tok": 6, "moe_intermediate_size": 1408,
              "first_k_dense_replace": 1, "max_position_embeddings": 163840}
    arch = arch_from_hf_config(config)
    assert arch.kv_lora_rank == 512 and arch.moe_layers == 26 and arch.num_experts == 64
    # DeepSeek-V2-Lite: 15.7B total, 2.4B active (model card).
    assert arch.params_total == pytest.approx(15.7e9, rel=0.05)
    assert arch.params_active == pytest.approx(2.4e9, rel=0.15)


def test_missing_fields_are_named():
    with pytest.raises(ModelInputError, match="num_layers.*vocab_size|vocab_size"):
        arch_from_hf_config({"hidden_size": 4096, "num_attention_heads": 32,
                             "intermediate_size": 11008})


@pytest.mark.parametrize("text,match", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({**LLAMA3_8B, "num_hidden_layers": 0}), "'num_hidden_layers' must be a whole "
                                                             "number from 1 to 1,000, got 0"),
    (json.dumps({**LLAMA3_8B, "num_key_value_heads": 5}), "multiple"),
    (json.dumps({**LLAMA3_8B, "hidden_size": 1e15}), "'hidden_size' must be a whole number "
                                                       "from 1 to 200,000, got 1000000000000000"),
    ("{" + " " * (6 * 1024 * 1024) + "}", "limit 5 MiB"),
])
def test_bad_config_files(text, match):
    with pytest.raises(ModelInputError, match=match):
        parse_hf_config_text(text)


@pytest.mark.parametrize("params_b", [0.5, 1, 3, 7, 8, 14, 32, 70, 405, 1000])
def test_bare_size_adds_up(params_b):
    arch = arch_from_param_count(params_b * 1e9)
    assert param_count_from_shapes(arch) == pytest.approx(params_b * 1e9, rel=0.08)
    assert arch.num_attention_heads % arch.num_kv_heads == 0


def test_bare_size_near_real_models():
    arch = arch_from_param_count(8e9)
    assert (arch.num_layers, arch.hidden_size, arch.num_kv_heads) == (32, 4096, 8)


@pytest.mark.parametrize("params", [0, 1e3, 1e15, float("nan")])
def test_absurd_sizes(params):
    with pytest.raises(ModelInputError, match="outside"):
        arch_from_param_count(params)


@pytest.mark.parametrize("change,match", [
    ({"intermediate_size": 1e15}, "'intermediate_size' must be a whole number from 1 to 10,000,000"),
    ({"vocab_size": 10**12}, "'vocab_size' must be a whole number from 1 to 10,000,000"),
    ({"num_hidden_layers": 1000, "hidden_size": 200_000, "intermediate_size": 1_000_000},
     "parameters"),  # every shape allowed on its own, 1e15 weights together
    ({"num_hidden_layers": 0}, "'num_hidden_layers' must be a whole number from 1 to 1,000, got 0"),
    ({"hidden_size": float("nan")}, "whole number"),
    ({"hidden_size": float("inf")}, "whole number"),
    ({"max_position_embeddings": 10**20}, "'max_position_embeddings' must be a whole number from 1 "
                                          "to 100,000,000, got 100000000000000000000"),
    ({"hidden_size": "4096"}, "whole number"),
    ({"hidden_size": True}, "whole number"),
])
def test_absurd_values_are_one_clear_message(change, match):
    with pytest.raises(ModelInputError, match=match):
        parse_hf_config_text(json.dumps({**LLAMA3_8B, **change}))


def test_deep_nesting_and_odd_moe_fields_are_input_errors():
    with pytest.raises(ModelInputError, match="nested too deeply"):
        parse_hf_config_text("[" * 100_000 + "]" * 100_000)
    moe = {**LLAMA3_8B, "num_local_experts": 8, "num_experts_per_tok": 2}
    for bad in ({"first_k_dense_replace": 99}, {"first_k_dense_replace": "x"},
                {"n_shared_experts": -1}, {"kv_lora_rank": 512, "qk_nope_head_dim": "x"}):
        with pytest.raises(ModelInputError):
            arch_from_hf_config({**moe, **bad})


def test_name_and_family_are_cleaned():
    arch = arch_from_hf_config({**LLAMA3_8B, "model_type": "Llama_Ünï code!!",
                                "_name_or_path": "x" * 500})
    assert arch.family == "llama-n-code"
    assert len(arch.name) == 100


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)
_FIELDS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size",
           "vocab_size", "num_key_value_heads", "head_dim", "max_position_embeddings",
           "sliding_window", "layer_types", "sliding_window_pattern", "kv_lora_rank",
           "qk_rope_head_dim", "qk_nope_head_dim", "num_local_experts", "num_experts_per_tok",
           "n_shared_experts", "moe_intermediate_size", "first_k_dense_replace", "model_type",
           "_name_or_path", "text_config", "tie_word_embeddings", "multi_query")


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(changes=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=5))
def test_any_config_is_a_model_or_an_input_error(changes):
    """Whatever the JSON holds, the parser answers with a model or a ModelInputError."""
    try:
        arch = parse_hf_config_text(json.dumps({**LLAMA3_8B, **changes}))
    except ModelInputError as exc:
        assert str(exc)
    else:
        assert 1e7 <= arch.params_total <= 5e12


def test_a_bare_size_always_gets_grouped_query_attention_and_memory_grows_with_it():
    # Real models of every size group their query heads (Llama 3 8B/70B/405B, Qwen2.5
    # 14B/32B/72B: 8 KV heads of 128). A bare size with plain multi-head attention made
    # a "7B" need more memory than an "8B".
    from catalog.catalog import load_catalog
    from sizing.memory import estimate_memory

    cat = load_catalog()
    totals = []
    for size_b in [0.1, 0.5, *range(1, 701)]:
        arch = arch_from_param_count(size_b * 1e9)
        assert arch.num_kv_heads <= arch.num_attention_heads // 2, size_b
        assert arch.num_attention_heads % arch.num_kv_heads == 0, size_b
        if size_b >= 1:
            assert arch.num_kv_heads == 8 and arch.head_dim == 128, size_b
        memory = estimate_memory(arch, cat.quant("q4_k_m"), cat.gpu("h200-sxm"),
                                 cat.runtime("llama.cpp"), context_tokens=8192, prompt_tokens=512,
                                 sequences=1, kv_bytes_per_element=2.0)
        totals.append(memory.total_bytes)
    assert all(b > a for a, b in zip(totals, totals[1:]))


def test_a_bare_14b_fits_a_12_gb_card_as_real_14b_models_do():
    from catalog.catalog import load_catalog
    from sizing.memory import estimate_memory

    cat = load_catalog()
    memory = estimate_memory(arch_from_param_count(14e9), cat.quant("q4_k_m"), cat.gpu("rtx-3060-12gb"),
                             cat.runtime("llama.cpp"), context_tokens=4096, prompt_tokens=512,
                             sequences=1, kv_bytes_per_element=2.0)
    real = estimate_memory(cat.model("qwen2.5-14b"), cat.quant("q4_k_m"), cat.gpu("rtx-3060-12gb"),
                           cat.runtime("llama.cpp"), context_tokens=4096, prompt_tokens=512,
                           sequences=1, kv_bytes_per_element=2.0)
    assert memory.verdict == real.verdict == "fits"
    assert memory.total_bytes == pytest.approx(real.total_bytes, rel=0.15)


QWEN2_VL_TOWER = {"depth": 32, "embed_dim": 1280, "hidden_size": 3584, "hidden_act": "quick_gelu",
                  "patch_size": 14, "spatial_merge_size": 2}  # Qwen/Qwen2-VL-7B-Instruct


@pytest.mark.parametrize("change,english,chinese", [
    ({"vision_config": [QWEN2_VL_TOWER]}, "'vision_config' must be an object, got a list",
     "“vision_config”必须是 JSON 对象，实际为列表"),
    ({"vision_config": "qwen2_vl"}, "'vision_config' must be an object, got text",
     "“vision_config”必须是 JSON 对象，实际为文本"),
    ({"text_config": [1]}, "'text_config' must be an object, got a list",
     "“text_config”必须是 JSON 对象，实际为列表"),
    ({"vision_config": {**QWEN2_VL_TOWER, "depth": "32"}},
     "'vision_config.depth' must be a whole number from 0 to 100,000,000, got \"32\"",
     "“vision_config.depth”必须是 0 到 100,000,000 之间的整数，实际为 \"32\""),
    ({"vision_config": {**QWEN2_VL_TOWER, "patch_size": 14.5}},
     "'vision_config.patch_size' must be a whole number", "“vision_config.patch_size”必须是"),
    ({"vision_config": {**QWEN2_VL_TOWER, "embed_dim": -1280}},
     "'vision_config.embed_dim' must be a whole number", "“vision_config.embed_dim”必须是"),
    ({"vision_config": QWEN2_VL_TOWER, "mm_tokens_per_image": True},
     "'mm_tokens_per_image' must be a whole number", "“mm_tokens_per_image”必须是"),
    ({"vision_config": {**QWEN2_VL_TOWER, "hidden_act": ["silu"]}},
     "'vision_config.hidden_act' must be text (the activation's name), got a list",
     "“vision_config.hidden_act”必须是文本（激活函数的名称），实际为列表"),
])
def test_a_multimodal_part_of_the_wrong_type_is_refused_in_both_languages(change, english, chinese):
    from report.text import translate_notice
    with pytest.raises(ModelInputError) as caught:
        parse_hf_config_text(json.dumps({**LLAMA3_8B, **change}))
    assert english in str(caught.value) and "\n" not in str(caught.value)
    assert chinese in translate_notice(caught.value, "zh")


def test_a_well_typed_vision_config_still_counts_its_encoder():
    arch = arch_from_hf_config({**LLAMA3_8B, "vision_config": QWEN2_VL_TOWER})
    assert arch.vision is not None and arch.vision.layers == 32 and arch.vision.patch_size == 14
