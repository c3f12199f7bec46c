"""Typed records for every catalog file.

Each YAML file under ``catalog/`` is a mapping with one top-level key holding a
list of entries; every entry is validated here once at load. Models are frozen
and forbid unknown keys, so a misspelt field is an error, not a silent default.

Units follow the project's conventions: capacities in binary units (``_gib``),
bandwidth in decimal (``_gb_per_s`` = 10^9 B/s), throughput in dense (never
sparse) tera-operations per second, power in watts, temperatures in degrees C,
prices in US dollars with an ``as_of`` date.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_KEBAB = re.compile(r"^[a-z0-9]+(?:[-._][a-z0-9]+)*$")
_URL = re.compile(r"^https?://\S+$")


def _kebab(value: str) -> str:
    if not _KEBAB.match(value):
        raise ValueError(f"id {value!r} must be lowercase letters and digits joined by '-', '.' "
                         "or '_' (quant ids keep llama.cpp's names)")
    return value


def _url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


Id = Annotated[str, AfterValidator(_kebab)]
Url = Annotated[str, AfterValidator(_url)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class Record(BaseModel):
    """Base for catalog records: frozen, no unknown keys.

    A record's validator is built when it is first used, not when its class is: a
    catalog read back from its cache (:func:`catalog.loader.load_cached`) validates
    every record through one validator for the whole catalog, and the records that
    only a catalog read from YAML needs (the cloud snapshot's header) cost nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Vendor(StrEnum):
    NVIDIA = "nvidia"
    AMD = "amd"
    INTEL = "intel"
    APPLE = "apple"


class Segment(StrEnum):
    CONSUMER = "consumer"
    WORKSTATION = "workstation"
    DATACENTER = "datacenter"
    UNIFIED = "unified"


class Api(StrEnum):
    """Native compute API a runtime uses on a vendor's GPU."""

    CUDA = "cuda"
    ROCM = "rocm"
    METAL = "metal"
    VULKAN = "vulkan"
    SYCL = "sycl"


class CoolerClass(StrEnum):
    BLOWER = "blower"
    DUAL_FAN = "dual-fan"
    TRIPLE_FAN = "triple-fan"
    LIQUID = "liquid"
    PASSIVE = "passive"
    INTEGRATED = "integrated"


class QuantFormat(StrEnum):
    GGUF = "gguf"
    FLOAT = "float"  # unquantized safetensors / fp16 / bf16 / fp32
    GPTQ = "gptq"
    AWQ = "awq"
    BNB = "bnb"
    FP8 = "fp8"
    INT8 = "int8"
    MXFP4 = "mxfp4"
    EXL2 = "exl2"
    MLX = "mlx"


class Price(Record):
    """A price observation in US dollars."""

    usd: Positive
    as_of: dt.date
    source: Url


class MemoryPrice(Record):
    """The price of a unified-memory machine in one memory size. [GiB, USD]"""

    memory_gib: Positive
    usd: Positive
    as_of: dt.date
    source: Url


class Gpu(Record):
    """One GPU model (or one Apple SoC GPU-core variant).

    Unified-memory machines are sold in several memory sizes
    (``memory_options_gib``); ``memory_gib`` is the size modelled by default
    and ``memory_prices`` the price of each size with a published price. For
    such a machine ``street_price`` is the price of the default size, filled
    in from ``memory_prices``; :meth:`with_memory` gives the record of
    another size.
    """

    id: Id
    name: str = Field(min_length=3)
    vendor: Vendor
    architecture: Id  # e.g. ampere, ada-lovelace, blackwell, hopper, rdna3, apple-m2
    segment: Segment
    memory_gib: Positive
    memory_options_gib: tuple[Positive, ...] = ()  # unified memory: purchasable capacities
    memory_prices: tuple[MemoryPrice, ...] = ()  # unified memory: price per capacity
    memory_type: str
    memory_bus_bits: int | None = Field(default=None, gt=0)
    memory_bandwidth_gb_per_s: Positive | None  # None: not published
    dense_fp16_tflops: Positive | None = None  # tensor, FP16 accumulate
    dense_fp16_fp32acc_tflops: Positive | None = None  # tensor, FP32 accumulate
    dense_bf16_tflops: Positive | None = None
    dense_fp8_tflops: Positive | None = None
    dense_int8_tops: Positive | None = None
    fp32_tflops: Positive | None = None  # non-tensor shader rate
    board_power_w: Positive
    power_limit_min_w: Positive | None = None
    power_limit_max_w: Positive | None = None
    launch_date: dt.date | None = None
    launch_price_usd: Positive | None = None
    street_price: Price | None = None
    used_price: Price | None = None
    form_factor: Literal["pcie", "sxm", "soc", "oam"]
    pcie_gen: int | None = Field(default=None, ge=1, le=6)
    pcie_lanes: int | None = Field(default=None, ge=1, le=16)
    slot_width: float | None = Field(default=None, gt=0, le=5)
    power_connectors: tuple[str, ...] = ()  # e.g. ("8-pin", "8-pin"), ("12v-2x6",)
    cooler: CoolerClass
    throttle_temp_c: Positive | None = None
    ecc: bool = False
    nvlink: bool = False
    gpu_cores: int | None = Field(default=None, gt=0)  # Apple GPU cores, for variants
    source: Url
    notes: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _price_of_default_size(cls, data: object) -> object:
        """A machine priced per memory size costs the price of its default size."""
        if isinstance(data, dict) and data.get("memory_prices") and "street_price" not in data:
            for entry in data["memory_prices"]:
                if isinstance(entry, dict) and entry.get("memory_gib") == data.get("memory_gib"):
                    data = {**data, "street_price": {k: entry.get(k)
                                                      for k in ("usd", "as_of", "source")}}
        return data

    @model_validator(mode="after")
    def _memory_sizes(self) -> "Gpu":
        options = self.memory_options_gib
        if options:
            if list(options) != sorted(set(options)):
                raise ValueError("memory_options_gib must be in increasing order, each once")
            if self.memory_gib not in options:
                raise ValueError(f"memory_gib {self.memory_gib:g} is not among memory_options_gib "
                                 f"{', '.join(f'{m:g}' for m in options)}")
        sizes = [p.memory_gib for p in self.memory_prices]
        if len(sizes) != len(set(sizes)):
            raise ValueError("memory_prices lists a memory size twice")
        for size in sizes:
            if size not in (options or (self.memory_gib,)):
                raise ValueError(f"memory_prices has {size:g} GiB, not a size this machine is "
                                 "sold in (memory_options_gib)")
        if len(options) > 1 and self.street_price is not None and not self.memory_prices:
            raise ValueError("a machine sold in several memory sizes is priced per size: give "
                             "memory_prices instead of street_price")
        default = self.memory_price(self.memory_gib)
        if default is not None and self.street_price is not None \
                and self.street_price.usd != default.usd:
            raise ValueError(f"street_price {self.street_price.usd:g} differs from the "
                             f"memory_prices entry for {self.memory_gib:g} GiB")
        return self

    def memory_price(self, memory_gib: float) -> Price | None:
        """The published price of this machine with ``memory_gib`` of memory, if any."""
        for p in self.memory_prices:
            if p.memory_gib == memory_gib:
                return Price(usd=p.usd, as_of=p.as_of, source=p.source)
        return None

    @property
    def price_usd(self) -> float | None:
        """The street price, else the launch price; for a machine priced per memory size,
        only the price of this size (None when not published). [USD]"""
        if self.street_price is not None:
            return self.street_price.usd
        return None if self.memory_prices else self.launch_price_usd

    @property
    def memory_sizes_gib(self) -> tuple[float, ...]:
        """The memory sizes this GPU can be had in (one for a discrete card). [GiB]"""
        return self.memory_options_gib or (self.memory_gib,)

    def with_memory(self, memory_gib: float) -> "Gpu":
        """This machine configured with ``memory_gib`` of memory, priced as sold that way.

        A size without a published price has no price (not the price of
        another size); ``memory_gib`` must be one of :attr:`memory_sizes_gib`.
        """
        if memory_gib not in self.memory_sizes_gib:
            raise ValueError(f"{self.name} comes with "
                             f"{', '.join(f'{m:g}' for m in self.memory_sizes_gib)} GiB, "
                             f"not {memory_gib:g}")
        if memory_gib == self.memory_gib:
            return self
        update: dict[str, object] = {"memory_gib": memory_gib}
        if self.memory_prices:
            # The launch price is the base size's: no stand-in for another size's price.
            update |= {"street_price": self.memory_price(memory_gib), "used_price": None,
                       "launch_price_usd": None}
        return self.model_copy(update=update)

    @model_validator(mode="after")
    def _apple_is_unified(self) -> "Gpu":
        if self.vendor is Vendor.APPLE and self.segment is not Segment.UNIFIED:
            raise ValueError("Apple GPUs share system memory: segment must be 'unified'")
        if self.power_limit_min_w and self.power_limit_max_w:
            if self.power_limit_min_w > self.power_limit_max_w:
                raise ValueError("power_limit_min_w exceeds power_limit_max_w")
        return self


class VisionEncoder(Record):
    """A vision-language model's image encoder and projector, and its image-token rule.

    ``image_tokens`` says how an image becomes tokens in the language model's
    context: ``fixed`` (every image gives ``tokens_per_image``, Gemma 3: 256),
    ``patches`` (dynamic resolution: the image is resized to a multiple of
    ``patch_size * merge_size`` within ``min_pixels``..``max_pixels`` and each
    ``merge_size`` x ``merge_size`` block of patches is one token: Qwen2-VL,
    Qwen2.5-VL, GLM-4.1V) or ``tiles`` (the image is cut into at most
    ``max_tiles`` tiles of ``tile_size`` pixels, plus a thumbnail when there is
    more than one, each giving ``tokens_per_image`` tokens: InternVL).
    """

    params: Positive  # encoder + projector parameters
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    patch_size: int = Field(gt=0)  # pixels per patch side
    image_tokens: Literal["fixed", "patches", "tiles"]
    tokens_per_image: int | None = Field(default=None, gt=0)  # fixed; tiles: per tile
    merge_size: int = Field(default=1, gt=0)  # patches merged n x n into one token
    min_pixels: int | None = Field(default=None, gt=0)
    max_pixels: int | None = Field(default=None, gt=0)
    image_size: int | None = Field(default=None, gt=0)  # fixed: the encoder's input side
    tile_size: int | None = Field(default=None, gt=0)
    max_tiles: int | None = Field(default=None, gt=0)
    source: Url

    @model_validator(mode="after")
    def _rule_complete(self) -> "VisionEncoder":
        needs = {"fixed": ("tokens_per_image",), "patches": ("min_pixels", "max_pixels"),
                 "tiles": ("tokens_per_image", "tile_size", "max_tiles")}[self.image_tokens]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"image_tokens '{self.image_tokens}' needs {', '.join(missing)}")
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError("min_pixels exceeds max_pixels")
        return self


class FileWeights(Record):
    """Exact weight bytes read from a model file's tensor headers (GGUF or safetensors). [B]

    They replace the bits-per-weight estimate when the scenario runs the file's
    own format (``quant``); another format means another file, estimated as usual.
    """

    quant: Id  # the catalog quant the file's tensors mostly are (e.g. q4_k_m)
    format: Literal["gguf", "safetensors"]
    embedding_bytes: NonNegative  # token-embedding table
    output_bytes: NonNegative  # output head; 0 when tied to the embedding table
    body_bytes: NonNegative  # every other language-model tensor but the routed experts
    expert_bytes: NonNegative = 0.0  # routed experts (MoE)
    projector_bytes: NonNegative | None = None  # vision encoder and projector, when read
    file_bytes: NonNegative  # the weight files on disk
    files: tuple[str, ...] = ()  # file names, for display


class ModelArch(Record):
    """A language model's architecture, as in its Hugging Face config.json."""

    id: Id
    name: str = Field(min_length=2)
    family: Id  # llama, qwen2, qwen3, qwen3-moe, mistral, mixtral, gemma2, gemma3, ...
    hf_repo: str | None = None
    params_total: Positive  # count of parameters
    params_active: Positive  # per token (MoE: routed subset + shared)
    num_layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    max_context_tokens: int = Field(gt=0)
    tie_word_embeddings: bool = False
    # Sliding-window attention: `sliding_window_layers` of the layers see at most
    # `sliding_window_tokens` tokens (0 layers: none).
    sliding_window_tokens: int | None = Field(default=None, gt=0)
    sliding_window_layers: int = Field(default=0, ge=0)
    # Multi-head latent attention (DeepSeek V2/V3): cached per token per layer
    # is kv_lora_rank + qk_rope_head_dim elements.
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    # Mixture of experts.
    num_experts: int | None = Field(default=None, gt=0)
    num_experts_per_token: int | None = Field(default=None, gt=0)
    num_shared_experts: int = Field(default=0, ge=0)
    moe_intermediate_size: int | None = Field(default=None, gt=0)
    moe_layers: int | None = Field(default=None, ge=0)  # layers with experts (default: all)
    # Hybrid/recurrent layers hold a fixed state per sequence.
    recurrent_layers: int = Field(default=0, ge=0)
    recurrent_state_bytes_per_layer: NonNegative = 0
    # Multi-token-prediction modules shipped beside the model (config.json
    # num_nextn_predict_layers; MiniMax-M2's num_mtp_modules): a built-in draft
    # for speculative decoding, not counted in params_total.
    mtp_layers: int = Field(default=0, ge=0)
    # Weight formats the model's authors publish it in (its config.json's
    # quantization_config), with where that is said. Formats that only exist as
    # such a native checkpoint (Quant.native_only) are offered for this model
    # only when listed here.
    native_formats: tuple[QuantFormat, ...] = ()
    native_formats_source: Url | None = None
    # Vision-language models: the image encoder (None: text only).
    vision: VisionEncoder | None = None
    # What the model is run for: text generation, or encoding only (embedding
    # and reranker models: a forward pass over batched inputs, no decode).
    task: Literal["generate", "embed", "rerank"] = "generate"
    # Exact tensor bytes, for a model read from its files (None: from the shapes).
    file_weights: FileWeights | None = None
    release_date: dt.date | None = None
    source: Url
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ModelArch":
        if self.params_active > self.params_total:
            raise ValueError("params_active exceeds params_total")
        if self.num_attention_heads % self.num_kv_heads:
            raise ValueError("num_attention_heads is not a multiple of num_kv_heads")
        if self.sliding_window_layers > self.num_layers:
            raise ValueError("sliding_window_layers exceeds num_layers")
        if self.sliding_window_layers and not self.sliding_window_tokens:
            raise ValueError("sliding_window_layers set without sliding_window_tokens")
        if (self.kv_lora_rank is None) != (self.qk_rope_head_dim is None):
            raise ValueError("kv_lora_rank and qk_rope_head_dim go together")
        if (self.num_experts is None) != (self.num_experts_per_token is None):
            raise ValueError("num_experts and num_experts_per_token go together")
        if self.native_formats and self.native_formats_source is None:
            raise ValueError("native_formats needs native_formats_source (the model card)")
        if self.num_experts is not None and self.num_experts_per_token > self.num_experts:
            raise ValueError(f"num_experts_per_token ({self.num_experts_per_token}) exceeds "
                             f"num_experts ({self.num_experts})")
        return self

    @property
    def is_moe(self) -> bool:
        return self.num_experts is not None

    @property
    def has_latent_attention(self) -> bool:
        return self.kv_lora_rank is not None



class Quant(Record):
    """A weight format, with its effective size.

    ``body_bits_per_weight`` covers the transformer blocks; the token embedding
    and the output head are often stored at another type.
    """

    id: Id
    name: str
    format: QuantFormat
    body_bits_per_weight: Positive
    embedding_bits_per_weight: Positive
    output_bits_per_weight: Positive
    expert_bits_per_weight: Positive | None = None  # MoE experts, when stored apart
    kind: Literal["float", "int-quant"]  # speed-constant grouping
    runtimes: tuple[Id, ...] = Field(min_length=1)
    # False for formats another one beats at a similar size (legacy GGUF Q4_0/Q4_1/
    # Q5_0/Q5_1 against the K-quants): never proposed as "the best quant that fits".
    recommended: bool = True
    # True for formats that exist only where a model's authors ship a checkpoint
    # in them (MXFP4: gpt-oss), not made on load or published for practically
    # every open model: offered only for models whose native_formats list it.
    native_only: bool = False
    source: Url
    notes: str | None = None


class KvCacheType(Record):
    id: Id
    name: str
    bytes_per_element: Positive
    runtimes: tuple[Id, ...] = Field(min_length=1)
    source: Url


class Runtime(Record):
    """An inference runtime and its memory policy."""

    id: Id
    name: str
    apis: tuple[Api, ...] = Field(min_length=1)
    memory_policy: Literal["sized", "preallocate"]
    # sized runtimes: allocate what the model needs; preallocate runtimes claim
    # `gpu_memory_frac` of the card and fill the rest with KV blocks.
    gpu_memory_frac: Annotated[float, Field(gt=0, le=1)] = 1.0
    fixed_overhead_gib: NonNegative  # driver context + runtime, per device
    safety_margin_gib: NonNegative = 0.0
    compute_buffer: Literal["llama-cpp", "activation-peak", "mlx"]
    micro_batch_tokens: int = Field(default=512, gt=0)
    logits: Literal["last-token", "micro-batch", "whole-prompt"]
    logits_bytes_per_element: Positive = 4.0
    # Growing caches reallocated each step (transformers DynamicCache): old and
    # new copies coexist, so decode peaks at this many cache copies.
    decode_kv_copies: Annotated[float, Field(ge=1, le=3)] = 1.0
    # Scratch of quantized-weight kernels (dequantization buffers), per device.
    quant_workspace_gib: NonNegative = 0.0
    embeddings_on_host: bool = False  # token-embedding table kept in system RAM
    supports_offload: bool = False
    supports_tensor_parallel: bool = False
    source: Url
    notes: str | None = None


class StorageClass(Record):
    id: Id
    name: str
    read_gb_per_s: Positive
    source: Url


class Cooler(Record):
    id: CoolerClass
    name: str
    thermal_resistance_k_per_w: Positive
    needs_server_airflow: bool = False
    source: Url
    notes: str | None = None


class FitResiduals(Record):
    rows: int
    median_abs_pct: float
    p90_abs_pct: float
    within_band_frac: float


class OutOfSample(Record):
    """Errors of predictions for rows the fit never saw. [%, fraction]"""

    rows: int
    median_abs_pct: float
    p90_abs_pct: float
    within_band_frac: float | None = None


class CrossValidation(Record):
    by_gpu: OutOfSample  # leave-one-GPU-out
    by_source: OutOfSample  # leave-one-source-out


class MetricCalibration(Record):
    coefficients: dict[str, dict[str, NonNegative]]
    band_low_frac: Positive
    band_high_frac: Positive
    api_bands: dict[str, tuple[Positive, Positive]] = {}  # per API: (low, high) fractions
    residuals: FitResiduals
    cross_validated: CrossValidation | None = None
    pipeline_efficiency_frac: Annotated[float, Field(ge=0, le=1)] = 1.0


class SpeedCalibration(Record):
    """Constants fitted by benchmarks/calibrate.py, with provenance."""

    fitted_on: dt.date
    rows_file: str
    source: Url
    rows_skipped: int
    method: str
    decode: MetricCalibration
    prefill: MetricCalibration


class SpeedPrior(Record):
    """Hand-set multipliers for an API or runtime without calibration rows."""

    id: Id
    borrow_from: Api | None = None
    decode_weights_factor: Positive = 1.0
    # Absolute inverse bandwidth efficiency for weight reads, replacing the
    # fitted value times the factor (engines whose efficiency is documented).
    decode_weights_inverse_efficiency: Annotated[float, Field(ge=1)] | None = None
    # The same for the KV cache a decode step reads: paged-attention kernels
    # stream it like the weights, where llama.cpp's fitted value is higher.
    decode_kv_inverse_efficiency: Annotated[float, Field(ge=1)] | None = None
    # Matmuls accumulate in FP32 (PyTorch/cuBLAS half-precision GEMMs): the
    # prompt runs at the FP32-accumulate tensor rate, half the FP16 one on GeForce cards.
    fp32_accumulate: bool = False
    layer_overhead_factor: NonNegative = 1.0
    prefill_compute_factor: Positive = 1.0
    band_widening: Annotated[float, Field(ge=1)] = 1.0
    source: Url
    notes: str | None = None


class Interconnect(Record):
    """A link between GPUs for tensor-parallel all-reduce."""

    id: Id
    name: str
    bandwidth_gb_per_s: Positive  # per direction, achievable
    latency_s: Positive
    source: Url
