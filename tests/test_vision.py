"""Image tokens and encoder cost of vision-language models, against the models' own rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from catalog.schema import VisionEncoder
from sizing.agent import agent_steps
from sizing.vision import (MAX_IMAGE_SIDE_PX, VisionInputError, encoder_weight_bytes, image_cost,
                           smart_resize, tile_grid)
from sizing.workloads import PRESETS

CAT = load_catalog()
URL = "https://huggingface.co/docs/transformers/model_doc/qwen2_vl"


def patches_rule(**kw) -> VisionEncoder:
    base = dict(params=6.7e8, layers=32, hidden_size=1280, patch_size=14, image_tokens="patches",
                merge_size=2, min_pixels=3136, max_pixels=12845056, source=URL)
    return VisionEncoder(**(base | kw))


def test_a_phone_screenshot_on_glm_4_1v_is_a_few_thousand_tokens():
    vision = CAT.model("autoglm-phone-9b").vision
    cost = image_cost(vision, 1080, 2400)
    # 1080 x 2400 -> 1092 x 2408 (multiples of 28): 78 x 172 patches, merged 2 x 2.
    assert (cost.resized_width_px, cost.resized_height_px) == (1092, 2408)
    assert cost.encoder_patches == 78 * 172
    assert cost.tokens == 78 * 172 // 4 == 3354


def test_max_pixels_bounds_a_large_image():
    vision = patches_rule(max_pixels=1003520)  # 1280 * 28 * 28
    cost = image_cost(vision, 4000, 3000)
    assert cost.resized_width_px * cost.resized_height_px <= 1003520
    assert cost.tokens <= 1280
    assert cost.resized_width_px % 28 == cost.resized_height_px % 28 == 0


def test_min_pixels_lifts_a_tiny_image():
    cost = image_cost(patches_rule(min_pixels=200_704), 32, 32)
    assert cost.resized_width_px * cost.resized_height_px >= 200_704


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8000), st.integers(1, 8000))
def test_smart_resize_keeps_sides_multiples_and_the_area_bounded(w, h):
    rw, rh = smart_resize(w, h, factor=28, min_pixels=3136, max_pixels=12845056)
    assert rw % 28 == 0 and rh % 28 == 0 and rw >= 28 and rh >= 28
    if 0.05 < w / h < 20:  # the processor refuses more extreme aspect ratios
        assert rw * rh <= 12845056


def test_fixed_rule_gives_the_same_tokens_whatever_the_size():
    gemma = VisionEncoder(params=4.2e8, layers=27, hidden_size=1152, patch_size=14,
                          image_tokens="fixed", tokens_per_image=256, image_size=896, source=URL)
    assert {image_cost(gemma, w, h).tokens for w, h in ((64, 64), (1080, 2400), (4000, 3000))} == {256}
    assert image_cost(gemma, 10, 10).encoder_patches == 64 * 64


def test_tiles_follow_internvl_grid_with_a_thumbnail():
    vision = CAT.model("internvl3.5-8b").vision
    assert tile_grid(448, 448, max_tiles=12) == (1, 1)
    assert image_cost(vision, 448, 448).tokens == 256  # one tile, no thumbnail
    cost = image_cost(vision, 1080, 2400)
    cols, rows = tile_grid(1080, 2400, max_tiles=12)
    assert cols * rows <= 12 and rows > cols
    assert cost.tokens == (cols * rows + 1) * 256


def test_encoder_cost_grows_with_the_image_and_weights_are_16_bit():
    vision = CAT.model("qwen2.5-vl-7b").vision
    small, large = image_cost(vision, 640, 480), image_cost(vision, 1920, 1080)
    assert large.tokens > small.tokens and large.encoder_flops > small.encoder_flops
    # At least 2 FLOPs per parameter per patch.
    assert large.encoder_flops >= 2 * vision.params * large.encoder_patches
    assert encoder_weight_bytes(vision) == 2 * vision.params


@pytest.mark.parametrize("w,h", [(0, 100), (100, 0), (MAX_IMAGE_SIDE_PX + 1, 100)])
def test_impossible_image_sizes_are_refused(w, h):
    with pytest.raises(VisionInputError, match="must be 1-"):
        image_cost(CAT.model("qwen2.5-vl-7b").vision, w, h)


def test_every_catalog_vision_model_turns_a_screenshot_into_tokens():
    for model in CAT.models:
        if model.vision:
            cost = image_cost(model.vision, 1080, 2400)
            assert 64 <= cost.tokens <= 20_000, model.id
            assert math.isfinite(cost.encoder_flops)


def test_agent_context_grows_by_the_text_of_each_step_with_one_image():
    steps = agent_steps(steps=20, image_tokens=3354)
    growth = {b.context_tokens - a.context_tokens for a, b in zip(steps, steps[1:])}
    assert len(growth) == 1 and growth.pop() == steps[1].new_prompt_tokens
    assert steps[0].new_prompt_tokens > steps[1].new_prompt_tokens
    assert PRESETS["agent"].prompt_tokens + 3354 == steps[-1].context_tokens
    assert PRESETS["agent"].images == 1


def test_a_multimodal_config_json_gives_the_encoder_and_its_rule():
    import json

    from sizing.architecture import parse_hf_config_text
    from sizing.vision import vision_from_hf_config
    qwen_vl = {"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
               "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
               "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
               "max_position_embeddings": 128000,
               "vision_config": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420,
                                 "patch_size": 14, "spatial_merge_size": 2, "hidden_act": "silu"}}
    arch = parse_hf_config_text(json.dumps(qwen_vl))
    # The catalog's Qwen2.5-VL-7B encoder, counted from the checkpoint: within 1 %.
    assert arch.vision.params == pytest.approx(CAT.model("qwen2.5-vl-7b").vision.params, rel=0.01)
    assert arch.vision.image_tokens == "patches" and arch.vision.merge_size == 2
    # GLM-4.1V's own layout, with the processor's pixel budget.
    glm = {"model_type": "glm4v", "hidden_size": 4096,
           "vision_config": {"depth": 24, "hidden_size": 1536, "intermediate_size": 13696,
                             "patch_size": 14, "spatial_merge_size": 2, "out_hidden_size": 4096}}
    v = vision_from_hf_config(glm, {"size": {"shortest_edge": 12544, "longest_edge": 9633792}})
    ref = CAT.model("autoglm-phone-9b").vision
    assert v.params == pytest.approx(ref.params, rel=0.03)
    assert (v.min_pixels, v.max_pixels) == (ref.min_pixels, ref.max_pixels)
    # Gemma 3: a fixed count; InternVL: tiles; a plain tower: one square image.
    gemma = {"mm_tokens_per_image": 256, "vision_config": {"num_hidden_layers": 27, "hidden_size": 1152,
                                                            "patch_size": 14, "image_size": 896}}
    assert vision_from_hf_config(gemma).tokens_per_image == 256
    internvl = {"max_dynamic_patch": 12, "downsample_ratio": 0.5,
                "vision_config": {"num_hidden_layers": 24, "hidden_size": 1024, "patch_size": 14,
                                  "image_size": 448}}
    tiles = vision_from_hf_config(internvl)
    assert (tiles.image_tokens, tiles.tokens_per_image, tiles.max_tiles) == ("tiles", 256, 12)
    llava = {"vision_config": {"num_hidden_layers": 24, "hidden_size": 1024, "patch_size": 14,
                               "image_size": 336}}
    assert vision_from_hf_config(llava).tokens_per_image == 576
    assert vision_from_hf_config({"hidden_size": 4096}) is None


def test_an_embedding_model_generates_nothing():
    from sizing.estimate import estimate
    from sizing.request import RequestError, parse_request
    result = estimate(parse_request({"model": "qwen3-embedding-8b", "gpu": "rtx-4090", "batch": 32,
                                     "prompt_tokens": 512}), CAT)
    assert result.new_tokens == 0 and result.speed.decode_tokens_per_s is None
    assert result.speed.prefill_tokens_per_s > 0
    assert "encoder_only" in {n.code for n in result.warnings}
    with pytest.raises(RequestError, match="embedding model"):
        estimate(parse_request({"model": "qwen3-embedding-8b", "prompt_tokens": 0,
                                "new_tokens": 10}), CAT)


def test_an_image_adds_the_encoders_buffer_to_the_memory():
    from sizing.estimate import estimate
    from sizing.request import parse_request
    from sizing.vision import encoder_activation_bytes
    base = {"model": "autoglm-phone-9b", "gpu": "rtx-3060-12gb", "quant": "q4_k_m",
            "prompt_tokens": 5000, "new_tokens": 150, "context_tokens": 12000}
    text = estimate(parse_request({**base, "images": 0}), CAT)
    image = estimate(parse_request({**base, "images": 1, "image_width": 1080,
                                    "image_height": 2400}), CAT)
    buffer = encoder_activation_bytes(CAT.model("autoglm-phone-9b").vision,
                                      image_cost(CAT.model("autoglm-phone-9b").vision, 1080, 2400))
    assert image.memory.activations_bytes >= text.memory.activations_bytes + buffer
