"""Images in a vision-language model: how many tokens each becomes, and what encoding costs.

An image passes through the vision encoder (a ViT) and a projector, and
arrives in the language model's context as image tokens. Three rules cover
the models people run (``catalog.schema.VisionEncoder.image_tokens``):

* ``fixed``: every image is resized to the encoder's input size and gives the
  same number of tokens (Gemma 3: 896 px, 256 tokens).
* ``patches``: dynamic resolution (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, GLM-4.1V).
  The image is resized so each side is a multiple of ``patch_size x
  merge_size`` and its area lies within ``min_pixels``..``max_pixels``
  (``smart_resize`` in the Qwen2-VL image processor,
  https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/image_processing_qwen2_vl.py);
  every ``merge_size x merge_size`` block of patches becomes one token.
* ``tiles``: the image is cut into a grid of square tiles whose aspect ratio
  is closest to the image's, at most ``max_tiles``, plus a thumbnail when
  there is more than one tile; each tile gives ``tokens_per_image`` tokens
  (InternVL's ``dynamic_preprocess``,
  https://huggingface.co/OpenGVLab/InternVL3-8B).

The encoder's compute is that of a transformer over the patches it sees
before merging: 2 FLOPs per parameter per patch, plus attention's
4 x layers x patches^2 x width (every patch attends to every other one; models
with windowed attention in some layers do less, so this is an upper bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from catalog.errors import UserError
from catalog.schema import VisionEncoder
from sizing.guards import whole_number

MAX_IMAGE_SIDE_PX = 16_384  # larger than any camera or screen image a model is given
MAX_IMAGES = 256  # images in one request
# Any width, depth, patch or pixel count of a vision tower beyond this is not a model
# (Qwen2-VL's pixel budget, the largest of these numbers, is 12,845,056).
MAX_VISION_NUMBER = 100_000_000
# llama.cpp keeps the projector (mmproj) at F16 by default; transformers and
# vLLM run the encoder at the model's 16-bit precision.
ENCODER_BYTES_PER_PARAM = 2.0
# Peak activations of the encoder per patch, in hidden-size vectors: the
# residual stream, the attention input and output and the MLP's 4x-wide
# intermediate, held together at 16-bit precision while one layer runs.
ENCODER_ACTIVATION_VECTORS_PER_PATCH = 8.0


class VisionInputError(UserError):
    """An image size or count no real request has."""


@dataclass(frozen=True)
class ImageCost:
    """What one image costs the model. [tokens, patches, FLOP]"""

    tokens: int  # tokens it adds to the language model's context
    encoder_patches: int  # patches the encoder runs over
    encoder_flops: float
    resized_width_px: int
    resized_height_px: int


def _check(width_px: int, height_px: int) -> None:
    for name, value in (("image width", width_px), ("image height", height_px)):
        if not 1 <= value <= MAX_IMAGE_SIDE_PX:
            raise VisionInputError(f"{name} must be 1-{MAX_IMAGE_SIDE_PX:,} px (got {value:,})",
                                   code="image_side_range", params={
                                       "side_term": name, "max_px": MAX_IMAGE_SIDE_PX, "got": value})


def smart_resize(width_px: int, height_px: int, *, factor: int, min_pixels: int,
                 max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's resize: sides multiples of ``factor``, area within bounds. [px]

    >>> smart_resize(1080, 2400, factor=28, min_pixels=3136, max_pixels=12845056)
    (1092, 2408)
    >>> smart_resize(1080, 2400, factor=28, min_pixels=3136, max_pixels=1003520)
    (672, 1484)
    """
    h = max(factor, round(height_px / factor) * factor)
    w = max(factor, round(width_px / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height_px * width_px / max_pixels)
        h = max(factor, math.floor(height_px / beta / factor) * factor)
        w = max(factor, math.floor(width_px / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height_px * width_px))
        h = math.ceil(height_px * beta / factor) * factor
        w = math.ceil(width_px * beta / factor) * factor
    return w, h


def tile_grid(width_px: int, height_px: int, *, max_tiles: int,
              tile_size_px: int = 448) -> tuple[int, int]:
    """InternVL's grid: the (columns, rows) with at most ``max_tiles`` tiles whose
    aspect ratio is closest to the image's; ties go to the larger grid when the
    image is big enough to fill it.

    >>> tile_grid(1080, 2400, max_tiles=12)
    (2, 5)
    >>> tile_grid(448, 448, max_tiles=12)
    (1, 1)
    """
    aspect = width_px / height_px
    grids = sorted({(c, r) for n in range(1, max_tiles + 1) for c in range(1, n + 1)
                    for r in range(1, n + 1) if c * r <= max_tiles}, key=lambda g: g[0] * g[1])
    best, best_diff = (1, 1), float("inf")
    for cols, rows in grids:
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and width_px * height_px > 0.5 * tile_size_px ** 2 * cols * rows:
            best = (cols, rows)
    return best


def image_cost(vision: VisionEncoder, width_px: int, height_px: int) -> ImageCost:
    """Tokens, encoder patches and encoder FLOPs of one image of this size."""
    _check(width_px, height_px)
    if vision.image_tokens == "fixed":
        side = vision.image_size or vision.patch_size * round(math.sqrt(vision.tokens_per_image))
        patches = (side // vision.patch_size) ** 2
        tokens, w, h = vision.tokens_per_image, side, side
    elif vision.image_tokens == "patches":
        factor = vision.patch_size * vision.merge_size
        w, h = smart_resize(width_px, height_px, factor=factor, min_pixels=vision.min_pixels,
                            max_pixels=vision.max_pixels)
        patches = (w // vision.patch_size) * (h // vision.patch_size)
        tokens = patches // vision.merge_size ** 2
    else:
        cols, rows = tile_grid(width_px, height_px, max_tiles=vision.max_tiles,
                               tile_size_px=vision.tile_size)
        tiles = cols * rows + (1 if cols * rows > 1 else 0)
        patches = tiles * (vision.tile_size // vision.patch_size) ** 2
        tokens = tiles * vision.tokens_per_image
        w, h = cols * vision.tile_size, rows * vision.tile_size
    flops = 2.0 * vision.params * patches + 4.0 * vision.layers * patches ** 2 * vision.hidden_size
    return ImageCost(tokens=tokens, encoder_patches=patches, encoder_flops=flops,
                     resized_width_px=w, resized_height_px=h)


def encoder_weight_bytes(vision: VisionEncoder) -> float:
    """Bytes of the encoder and projector weights at their usual 16-bit precision. [bytes]"""
    return vision.params * ENCODER_BYTES_PER_PARAM


def encoder_activation_bytes(vision: VisionEncoder, cost: ImageCost) -> float:
    """Peak activation memory while one image is encoded (images go one at a time). [bytes]"""
    return (ENCODER_ACTIVATION_VECTORS_PER_PATCH * cost.encoder_patches * vision.hidden_size
            * ENCODER_BYTES_PER_PARAM)


def check_images(images: int) -> None:
    if not 0 <= images <= MAX_IMAGES:
        raise VisionInputError(f"images must be 0-{MAX_IMAGES} per request (got {images})",
                               code="image_count_range", params={"most": MAX_IMAGES, "got": images})


def _int(mapping: object, *keys: str) -> int | None:
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return whole_number(key, value, low=1, high=MAX_VISION_NUMBER)
    return None


def vision_from_hf_config(config: dict, processor: dict | None = None) -> VisionEncoder | None:
    """The image encoder a multimodal config.json describes (None: text only or unknown).

    The rule follows the config's kind: a ``spatial_merge_size`` (Qwen2-VL,
    Qwen2.5-VL, Qwen3-VL, GLM-4.1V) means patches within a pixel budget, taken
    from ``preprocessor_config.json`` when given (``min_pixels``/``max_pixels``
    or ``size.shortest_edge``/``longest_edge``), else Qwen2-VL's defaults;
    ``mm_tokens_per_image`` (Gemma 3) a fixed count; ``max_dynamic_patch``
    (InternVL) tiles; any other vision tower one fixed square image of
    ``(image_size / patch_size)^2`` tokens (LLaVA). Parameters are counted from
    the tower's shapes: attention (4 h^2) and MLP (2 h i, 3 h i when gated) per
    layer, plus the projector into the language model.
    """
    vision = config.get("vision_config")
    if not isinstance(vision, dict):
        return None
    layers = _int(vision, "depth", "num_hidden_layers", "num_layers")
    hidden = _int(vision, "hidden_size", "embed_dim", "width")
    patch = _int(vision, "patch_size")
    if not (layers and hidden and patch):
        return None
    inner = _int(vision, "intermediate_size") or 4 * hidden
    act = vision.get("hidden_act")
    gated = isinstance(act, str) and act.lower() in ("silu", "swiglu")
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    text_hidden = _int(text, "hidden_size") or hidden
    merge = _int(vision, "spatial_merge_size") or 1
    per_layer = 4 * hidden * hidden + (3 if gated else 2) * hidden * inner
    projector = (hidden * merge * merge) ** 2 + hidden * merge * merge * text_hidden
    out = _int(vision, "out_hidden_size")
    model_type = config.get("model_type")
    if isinstance(model_type, str) and model_type.startswith("glm4v") and out:
        # GLM-4.1V: the ViT's MLP is out_hidden_size wide; a 2 x 2 downsample into
        # out_hidden_size feeds a gated merger of intermediate_size (transformers' Glm4v).
        per_layer = 4 * hidden * hidden + 3 * hidden * out
        projector = hidden * merge * merge * out + 3 * out * inner
    params = float(layers * per_layer + projector + 3 * patch * patch * hidden)
    source = "https://huggingface.co/docs/transformers/main/en/main_classes/configuration"
    common = dict(params=params, layers=layers, hidden_size=hidden, patch_size=patch, source=source)
    if merge > 1:
        size = processor.get("size") if isinstance(processor, dict) else None
        low = _int(processor, "min_pixels") or _int(size, "shortest_edge") or 3136
        high = _int(processor, "max_pixels") or _int(size, "longest_edge") or 12845056
        return VisionEncoder(**common, image_tokens="patches", merge_size=merge,
                             min_pixels=min(low, high), max_pixels=high)
    image_size = _int(vision, "image_size") or 336
    if _int(config, "mm_tokens_per_image"):
        return VisionEncoder(**common, image_tokens="fixed", image_size=image_size,
                             tokens_per_image=_int(config, "mm_tokens_per_image"))
    tiles = _int(config, "max_dynamic_patch")
    if tiles:
        ratio = config.get("downsample_ratio", 0.5)
        ratio = ratio if isinstance(ratio, (int, float)) and 0 < ratio <= 1 else 0.5
        per_tile = max(1, int((image_size // patch) ** 2 * ratio * ratio))
        return VisionEncoder(**common, image_tokens="tiles", tokens_per_image=per_tile,
                             tile_size=image_size, max_tiles=tiles, image_size=image_size)
    return VisionEncoder(**common, image_tokens="fixed", image_size=image_size,
                         tokens_per_image=(image_size // patch) ** 2)
