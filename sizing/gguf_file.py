"""Read a local GGUF file's header: architecture, tensor types and exact sizes.

GGUF (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md) is one file:
a fixed header (magic ``GGUF``, version, tensor count, key/value count), the
key/value metadata, one info record per tensor (name, dimensions, ggml type,
offset), then the tensor data, aligned to ``general.alignment`` (32 bytes by
default). Everything this module needs is in the part before the data, so only
that part is read, through a read-only memory map and never further than
``max_header_bytes``; the tensor data is never touched. Each tensor's byte size
follows from its element count and its type's block layout
(``gguf.GGML_QUANT_SIZES``: elements per block, bytes per block), the same
rule ``gguf.GGUFReader`` uses for ``ReaderTensor.n_bytes``.

The metadata and tensor infos are parsed here with the gguf package's own
type tables (``GGUFValueType``, ``GGMLQuantizationType``, ``LlamaFileType``)
rather than with ``gguf.GGUFReader``, because the reader maps the whole file,
builds a Python object for every token string, and follows a declared array
length without checking it against the file (a hostile 2**63-element array
makes it loop for ever). The tests check that both agree on every tensor.

The header can also be parsed from bytes (``parse_gguf_bytes``), e.g. the
first megabytes of a remote file fetched with an HTTP range request; when the
bytes end before the header does, :class:`GgufHeaderIncomplete` says how many
bytes at least are needed.

Every problem is a :class:`sizing.architecture.ModelInputError` naming the file.
"""

from __future__ import annotations

import math
import mmap
import os
import re
import stat
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, LlamaFileType
from pydantic import ValidationError

from catalog.errors import echo, validation_error_text
from catalog.printable import printable
from catalog.schema import ModelArch
from sizing.notices import count_text
from sizing.architecture import MAX_PARAMS, ModelInputError

GGUF_SPEC_URL = "https://github.com/ggml-org/ggml/blob/master/docs/gguf.md"
GGUF_MAGIC_BYTES = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT_BYTES = 32
# A real header is a few MiB (a 262k-token vocabulary with scores and merges is
# under 10 MiB); the data after it is never read.
DEFAULT_MAX_HEADER_BYTES = 64 * 2**20
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_TENSOR_ELEMENTS = 2**45  # 35e12: far above any single tensor of a 5e12-parameter model
MAX_NAME_BYTES = 4096
MAX_ARRAY_NESTING = 4
# Arrays longer than these are skipped (only their length is kept).
KEPT_NUMERIC_ARRAY_LENGTH = 65_536
KEPT_STRING_ARRAY_LENGTH = 1_024
MAX_SPLIT_FILES = 1_000

# Tensors that hold no trained weights (rope scaling factors computed at conversion).
_NOT_PARAMETERS = re.compile(r"^(rope_freqs|rope_factors_long|rope_factors_short)\.weight$")
_EXPERT_TENSOR = re.compile(r"^blk\.(\d+)\..*_exps\.")
_SHARED_EXPERT_TENSOR = re.compile(r"^blk\.(\d+)\..*_shexp\.")
_BLOCK = re.compile(r"^blk\.(\d+)\.")
_SPLIT_NAME = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")

# llama.cpp architecture names (general.architecture) -> catalog families.
_FAMILIES = {
    "llama": "llama",
    "llama4": "llama4",
    "mistral3": "mistral",
    "qwen2": "qwen2",
    "qwen2moe": "qwen2-moe",
    "qwen2vl": "qwen2",
    "qwen3": "qwen3",
    "qwen3moe": "qwen3-moe",
    "qwen3next": "qwen3-next",
    "qwen3vl": "qwen3",
    "qwen3vlmoe": "qwen3-moe",
    "gemma": "gemma",
    "gemma2": "gemma2",
    "gemma3": "gemma3",
    "gemma3n": "gemma3n",
    "glm4": "glm4",
    "glm4moe": "glm4-moe",
    "chatglm": "chatglm",
    "deepseek": "deepseek",
    "deepseek2": "deepseek-v2",
    "gpt-oss": "gpt-oss",
    "phi3": "phi3",
    "phimoe": "phi-moe",
    "command-r": "command-r",
    "cohere2": "cohere2",
    "granite": "granite",
    "granitemoe": "granite-moe",
    "olmo2": "olmo2",
    "exaone": "exaone",
    "minimax-m2": "minimax",
    "smollm3": "smollm3",
}

# Sliding-window layouts llama.cpp applies when the file carries no
# ``{arch}.attention.sliding_window_pattern``: every n-th layer sees the whole
# context, the others the window (llama_hparams::set_swa_pattern).
_SWA_PERIOD = {"gemma2": 2, "gpt-oss": 2, "gemma3": 6, "cohere2": 4, "gemma3n": 5}

# llama.cpp file types (general.file_type) -> catalog quant ids (catalog/quants.yaml).
_FILE_TYPE_QUANT = {
    LlamaFileType.ALL_F32: "f32",
    LlamaFileType.MOSTLY_F16: "f16",
    LlamaFileType.MOSTLY_BF16: "bf16",
    LlamaFileType.MOSTLY_Q4_0: "q4_0",
    LlamaFileType.MOSTLY_Q4_1: "q4_1",
    LlamaFileType.MOSTLY_Q5_0: "q5_0",
    LlamaFileType.MOSTLY_Q5_1: "q5_1",
    LlamaFileType.MOSTLY_Q8_0: "q8_0",
    LlamaFileType.MOSTLY_Q2_K: "q2_k",
    LlamaFileType.MOSTLY_Q2_K_S: "q2_k_s",
    LlamaFileType.MOSTLY_Q3_K_S: "q3_k_s",
    LlamaFileType.MOSTLY_Q3_K_M: "q3_k_m",
    LlamaFileType.MOSTLY_Q3_K_L: "q3_k_l",
    LlamaFileType.MOSTLY_Q4_K_S: "q4_k_s",
    LlamaFileType.MOSTLY_Q4_K_M: "q4_k_m",
    LlamaFileType.MOSTLY_Q5_K_S: "q5_k_s",
    LlamaFileType.MOSTLY_Q5_K_M: "q5_k_m",
    LlamaFileType.MOSTLY_Q6_K: "q6_k",
    LlamaFileType.MOSTLY_IQ1_S: "iq1_s",
    LlamaFileType.MOSTLY_IQ1_M: "iq1_m",
    LlamaFileType.MOSTLY_IQ2_XXS: "iq2_xxs",
    LlamaFileType.MOSTLY_IQ2_XS: "iq2_xs",
    LlamaFileType.MOSTLY_IQ2_S: "iq2_s",
    LlamaFileType.MOSTLY_IQ2_M: "iq2_m",
    LlamaFileType.MOSTLY_IQ3_XXS: "iq3_xxs",
    LlamaFileType.MOSTLY_IQ3_XS: "iq3_xs",
    LlamaFileType.MOSTLY_IQ3_S: "iq3_s",
    LlamaFileType.MOSTLY_IQ3_M: "iq3_m",
    LlamaFileType.MOSTLY_IQ4_NL: "iq4_nl",
    LlamaFileType.MOSTLY_IQ4_XS: "iq4_xs",
    LlamaFileType.MOSTLY_MXFP4_MOE: "mxfp4",
}

# ggml tensor types -> the nearest catalog quant id (the K-quant "M" mixes are
# the common files whose bulk is that type).
_TYPE_QUANT = {
    "F32": "f32", "F16": "f16", "BF16": "bf16",
    "Q4_0": "q4_0", "Q4_1": "q4_1", "Q5_0": "q5_0", "Q5_1": "q5_1", "Q8_0": "q8_0",
    "Q2_K": "q2_k", "Q3_K": "q3_k_m", "Q4_K": "q4_k_m", "Q5_K": "q5_k_m", "Q6_K": "q6_k",
    "IQ1_S": "iq1_s", "IQ1_M": "iq1_m", "IQ2_XXS": "iq2_xxs", "IQ2_XS": "iq2_xs",
    "IQ2_S": "iq2_s", "IQ3_XXS": "iq3_xxs", "IQ3_S": "iq3_s", "IQ4_NL": "iq4_nl",
    "IQ4_XS": "iq4_xs", "MXFP4": "mxfp4",
}


class GgufHeaderIncomplete(ModelInputError):
    """The bytes end before the header does; ``needed_bytes`` is a lower bound to retry with."""

    def __init__(self, message: str, needed_bytes: int, *, code: str = "text",
                 params: dict[str, str | int | float] | None = None) -> None:
        super().__init__(message, code=code, params=params)
        self.needed_bytes = needed_bytes


@dataclass(frozen=True)
class GgufTensor:
    """One tensor info record. ``shape`` is in ggml order (fastest dimension first)."""

    name: str
    type_name: str  # ggml type, e.g. "Q4_K"
    shape: tuple[int, ...]
    n_elements: int
    n_bytes: int  # exact size of its data [B]
    offset_bytes: int  # from the start of the data section [B]


@dataclass(frozen=True)
class GgufArray:
    """A metadata array too long to keep (a token list): its length and item type only."""

    length: int
    item_type: str


@dataclass(frozen=True)
class GgufVision:
    """A vision projector's (mmproj) encoder, from its ``clip.vision.*`` keys."""

    projector_type: str | None  # clip.projector_type / clip.vision.projector_type (e.g. "qwen25vl")
    image_size: int | None  # clip.vision.image_size [px]
    patch_size: int | None  # clip.vision.patch_size [px]
    embedding_length: int | None  # clip.vision.embedding_length
    block_count: int | None  # clip.vision.block_count
    feed_forward_length: int | None
    head_count: int | None
    projection_dim: int | None  # width of the language model it feeds
    spatial_merge_size: int | None  # patches merged per side (Qwen2-VL-style)
    image_min_pixels: int | None
    image_max_pixels: int | None
    has_audio_encoder: bool


@dataclass(frozen=True)
class GgufModel:
    """What a GGUF header says. All sizes in bytes, counts are exact.

    ``tensors_bytes`` is the sum of every tensor's data; ``host_bytes`` the part
    llama.cpp keeps in host memory by default (the token-embedding table: the
    input layer is never offloaded; with the default memory map those pages are
    the file's). When the output head is tied to the
    embedding (``output_tied``: no ``output.weight``), llama.cpp loads the
    embedding table a second time into the output layer's buffer when that
    layer is offloaded, so a fully offloaded tied model holds ``host_bytes``
    on the host and ``tensors_bytes`` on the device (see ``device_bytes``).
    """

    source: str  # the file's name, for messages
    kind: Literal["model", "mmproj"]
    architecture: str  # general.architecture as written
    arch: ModelArch | None  # None for a vision projector
    vision: GgufVision | None  # a projector's encoder; None for a language model
    tensors: tuple[GgufTensor, ...]
    tensors_bytes: int
    bytes_by_type: dict[str, int]  # ggml type name -> bytes, largest first
    params_total: int  # elements of every weight tensor
    params_active: int  # per token: idle routed experts left out (MoE)
    host_bytes: int
    output_tied: bool
    file_bytes: int  # size of the file(s) on disk (0 when parsed from bytes of unknown length)
    header_bytes: int  # where the tensor data starts
    dominant_type: str  # the ggml type holding the most bytes
    quant_id: str | None  # nearest catalog quant id (general.file_type, else the dominant type)
    file_type: str | None  # general.file_type's name, e.g. "MOSTLY_Q4_K_M"
    split_count: int = 1  # files read (llama.cpp splits model-0000i-of-0000n.gguf)
    metadata: Mapping[str, Any] = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def device_bytes(self) -> int:
        """Weights on the device(s) when every layer is offloaded. [B]"""
        embedding = self.host_bytes
        return self.tensors_bytes - embedding + (embedding if self.output_tied else 0)

    def block_bytes(self) -> dict[int, int]:
        """Bytes of each repeating block ``blk.N.*`` (what offloading N layers moves). [B]"""
        sizes: Counter[int] = Counter()
        for tensor in self.tensors:
            match = _BLOCK.match(tensor.name)
            if match:
                sizes[int(match[1])] += tensor.n_bytes
        return dict(sorted(sizes.items()))

    def type_shares(self) -> list[tuple[str, int, float]]:
        """(type, bytes, share of all tensor bytes), largest first."""
        total = self.tensors_bytes or 1
        return [(name, size, size / total) for name, size in self.bytes_by_type.items()]


# --- Reading ---------------------------------------------------------------------


class _Cursor:
    """Bounded little- or big-endian reads over a buffer; every overrun is an error."""

    def __init__(self, data: Any, *, source: str, limit: int, file_bytes: int | None,
                 max_header_bytes: int) -> None:
        self.data = data
        self.source = source
        self.limit = limit  # bytes available to parse
        self.file_bytes = file_bytes
        self.max_header_bytes = max_header_bytes
        self.pos = 0
        self.order = "<"

    def need(self, n: int, what: str) -> None:
        end = self.pos + n
        if end <= self.limit:
            return
        if self.file_bytes is not None and end > self.file_bytes:
            raise ModelInputError(f"{self.source}: truncated GGUF file; {what} at byte {self.pos} "
                                  f"runs past the end of the file ({self.file_bytes} bytes)",
                                  code="gguf_truncated",
                                  params={"source": echo(self.source), "pos": self.pos,
                                          "file_bytes": self.file_bytes})
        if end > self.max_header_bytes:
            raise ModelInputError(
                f"{self.source}: GGUF header larger than {self.max_header_bytes / 2**20:g} MiB "
                f"({what} at byte {self.pos}); not a model file this tool reads",
                code="gguf_header_too_large",
                params={"source": echo(self.source), "limit_mib": f"{self.max_header_bytes / 2**20:g}",
                        "pos": self.pos})
        raise GgufHeaderIncomplete(
            f"{self.source}: the first {self.limit} bytes end inside the GGUF header ({what})",
            needed_bytes=end, code="gguf_header_cut",
            params={"source": echo(self.source), "limit_bytes": self.limit})

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        self.need(size, what)
        values = struct.unpack_from(self.order + fmt, self.data, self.pos)
        self.pos += size
        return values

    def u32(self, what: str) -> int:
        return self.unpack("I", what)[0]

    def u64(self, what: str) -> int:
        return self.unpack("Q", what)[0]

    def string(self, what: str, *, keep: bool = True, max_bytes: int | None = None) -> str:
        length = self.u64(what)
        if max_bytes is not None and length > max_bytes:
            raise ModelInputError(f"{self.source}: {what} is {length} bytes long; at most "
                                  f"{max_bytes} makes sense", code="gguf_string_too_long",
                                  params={"source": echo(self.source), "length": length,
                                          "max_bytes": max_bytes})
        self.need(length, what)
        start = self.pos
        self.pos += length
        if not keep:
            return ""
        return bytes(self.data[start:self.pos]).decode("utf-8", errors="replace")


_SCALAR_FORMATS = {
    GGUFValueType.UINT8: "B", GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H", GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I", GGUFValueType.INT32: "i",
    GGUFValueType.UINT64: "Q", GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT32: "f", GGUFValueType.FLOAT64: "d",
    GGUFValueType.BOOL: "?",
}


def _value_type(cur: _Cursor, raw: int, key: str) -> GGUFValueType:
    try:
        return GGUFValueType(raw)
    except ValueError:
        raise ModelInputError(f"{cur.source}: metadata key {key!r} has unknown value type {raw}; "
                              f"not a GGUF file this tool reads", code="gguf_value_type",
                              params={"source": echo(cur.source), "key": echo(key),
                                      "type": raw}) from None


def _read_value(cur: _Cursor, vtype: GGUFValueType, key: str, depth: int = 0) -> Any:
    if vtype == GGUFValueType.STRING:
        return cur.string(f"value of {key!r}")
    if vtype in _SCALAR_FORMATS:
        value = cur.unpack(_SCALAR_FORMATS[vtype], f"value of {key!r}")[0]
        return bool(value) if vtype == GGUFValueType.BOOL else value
    if vtype != GGUFValueType.ARRAY:  # pragma: no cover - every GGUFValueType is handled above
        raise ModelInputError(f"{cur.source}: metadata key {key!r} has unhandled type {vtype.name}",
                              code="gguf_value_type",
                              params={"source": echo(cur.source), "key": echo(key),
                                      "type": vtype.name})
    if depth >= MAX_ARRAY_NESTING:
        raise ModelInputError(f"{cur.source}: metadata key {key!r} nests arrays too deeply",
                              code="gguf_array_too_deep",
                              params={"source": echo(cur.source), "key": echo(key)})
    item_type = _value_type(cur, cur.u32(f"array type of {key!r}"), key)
    length = cur.u64(f"array length of {key!r}")
    if item_type in _SCALAR_FORMATS:
        fmt = _SCALAR_FORMATS[item_type]
        size = length * struct.calcsize(fmt)
        cur.need(size, f"array {key!r} of {length} items")
        if length > KEPT_NUMERIC_ARRAY_LENGTH:
            cur.pos += size
            return GgufArray(length, item_type.name)
        values = struct.unpack_from(f"{cur.order}{length}{fmt}", cur.data, cur.pos)
        cur.pos += size
        return tuple(bool(v) for v in values) if item_type == GGUFValueType.BOOL else values
    # Strings or nested arrays: each item at least 8 bytes, so the length is bounded first.
    cur.need(min(length, cur.max_header_bytes) * 8, f"array {key!r} of {length} items")
    if item_type == GGUFValueType.STRING:
        if length <= KEPT_STRING_ARRAY_LENGTH:
            return tuple(cur.string(f"item of array {key!r}") for _ in range(length))
        # Skipped (a token list): a tight loop, as such arrays hold 100k+ strings.
        unpack = struct.Struct(cur.order + "Q").unpack_from
        data, pos, limit = cur.data, cur.pos, cur.limit
        for _ in range(length):
            if pos + 8 > limit:
                cur.pos = pos
                cur.need(8, f"item of array {key!r}")
            end = pos + 8 + unpack(data, pos)[0]
            if end > limit:
                cur.pos = pos + 8
                cur.need(end - pos - 8, f"item of array {key!r}")
            pos = end
        cur.pos = pos
        return GgufArray(length, item_type.name)
    for _ in range(length):
        _read_value(cur, item_type, key, depth + 1)
    return GgufArray(length, item_type.name)


@dataclass(frozen=True)
class _Header:
    metadata: dict[str, Any]
    tensors: tuple[GgufTensor, ...]
    data_offset_bytes: int
    alignment_bytes: int


def _parse_header(data: Any, *, source: str, available: int, file_bytes: int | None,
                  max_header_bytes: int) -> _Header:
    cur = _Cursor(data, source=source, limit=min(available, max_header_bytes), file_bytes=file_bytes,
                  max_header_bytes=max_header_bytes)
    if available == 0:
        raise ModelInputError(f"{source}: empty file, not a GGUF model", code="gguf_empty",
                              params={"source": echo(source)})
    cur.need(4, "the magic number")
    if bytes(data[0:4]) != GGUF_MAGIC_BYTES:
        raise ModelInputError(f"{source}: not a GGUF file (it does not start with 'GGUF')",
                              code="gguf_magic", params={"source": echo(source)})
    cur.pos = 4
    version = cur.u32("the version")
    if version & 0xFFFF == 0 and version != 0:  # written big-endian
        cur.order = ">"
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in SUPPORTED_VERSIONS:
        raise ModelInputError(f"{source}: GGUF version {version} is not supported (versions "
                              f"{', '.join(map(str, SUPPORTED_VERSIONS))} are)",
                              code="gguf_version",
                              params={"source": echo(source), "version": version,
                                      "supported": ", ".join(map(str, SUPPORTED_VERSIONS))})
    tensor_count = cur.u64("the tensor count")
    kv_count = cur.u64("the metadata count")
    # Each key/value takes at least 13 bytes, each tensor info at least 29.
    if kv_count * 13 > max_header_bytes or tensor_count * 29 > max_header_bytes:
        raise ModelInputError(f"{source}: GGUF header declares {kv_count} metadata keys and "
                              f"{tensor_count} tensors; too many for a real file",
                              code="gguf_too_many_entries",
                              params={"source": echo(source), "keys": kv_count,
                                      "tensors": tensor_count})
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cur.string("a metadata key", max_bytes=MAX_NAME_BYTES)
        vtype = _value_type(cur, cur.u32(f"type of {key!r}"), key)
        value = _read_value(cur, vtype, key)
        if key in metadata:
            raise ModelInputError(f"{source}: metadata key {key!r} appears twice",
                                  code="gguf_key_twice",
                                  params={"source": echo(source), "key": echo(key)})
        metadata[key] = value
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT_BYTES)
    if (not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0
            or alignment & (alignment - 1) or alignment > 2**20):
        raise ModelInputError(f"{source}: general.alignment {alignment!r} is not a power of two",
                              code="gguf_alignment",
                              params={"source": echo(source), "alignment": echo(repr(alignment))})
    tensors = []
    seen: set[str] = set()
    for _ in range(tensor_count):
        name = cur.string("a tensor name", max_bytes=MAX_NAME_BYTES)
        if name in seen:
            raise ModelInputError(f"{source}: tensor {name!r} appears twice",
                                  code="gguf_tensor_twice",
                                  params={"source": echo(source), "tensor": echo(name)})
        seen.add(name)
        n_dims = cur.u32(f"dimension count of {name!r}")
        if not 1 <= n_dims <= MAX_DIMS:
            raise ModelInputError(f"{source}: tensor {name!r} has {n_dims} dimensions; ggml "
                                  f"allows 1 to {MAX_DIMS}", code="gguf_tensor_dims",
                                  params={"source": echo(source), "tensor": echo(name),
                                          "dims": n_dims, "max_dims": MAX_DIMS})
        shape = cur.unpack(f"{n_dims}Q", f"shape of {name!r}")
        raw_type = cur.u32(f"type of {name!r}")
        offset = cur.u64(f"offset of {name!r}")
        tensors.append(_tensor(source, name, shape, raw_type, offset, alignment))
    data_offset = cur.pos + (-cur.pos) % alignment
    _check_layout(source, tensors, data_offset, file_bytes)
    return _Header(metadata, tuple(tensors), data_offset, alignment)


def _tensor(source: str, name: str, shape: tuple[int, ...], raw_type: int, offset: int,
            alignment: int) -> GgufTensor:
    try:
        qtype = GGMLQuantizationType(raw_type)
        block, type_size = GGML_QUANT_SIZES[qtype]
    except (ValueError, KeyError):
        raise ModelInputError(f"{source}: tensor {name!r} has ggml type {raw_type}, which this "
                              f"version of the gguf package does not know",
                              code="gguf_tensor_type",
                              params={"source": echo(source), "tensor": echo(name),
                                      "type": raw_type}) from None
    if any(d == 0 for d in shape):
        raise ModelInputError(f"{source}: tensor {name!r} has an empty dimension {list(shape)}",
                              code="gguf_tensor_empty",
                              params={"source": echo(source), "tensor": echo(name),
                                      "shape": echo(list(shape))})
    n_elements = math.prod(shape)
    if n_elements > MAX_TENSOR_ELEMENTS:
        raise ModelInputError(f"{source}: tensor {name!r} declares {n_elements:.3g} elements; "
                              f"no real tensor is that large", code="gguf_tensor_too_large",
                              params={"source": echo(source), "tensor": echo(name),
                                      "elements": f"{n_elements:.3g}"})
    if shape[0] % block:
        raise ModelInputError(f"{source}: tensor {name!r} of type {qtype.name} has a first "
                              f"dimension {shape[0]} that is not a multiple of its block size {block}",
                              code="gguf_tensor_block",
                              params={"source": echo(source), "tensor": echo(name),
                                      "type": qtype.name, "dim": shape[0], "block": block})
    if offset % alignment:
        raise ModelInputError(f"{source}: tensor {name!r} starts at offset {offset}, not a "
                              f"multiple of the alignment {alignment}", code="gguf_tensor_offset",
                              params={"source": echo(source), "tensor": echo(name),
                                      "offset": offset, "alignment": alignment})
    n_bytes = n_elements // block * type_size
    return GgufTensor(name, qtype.name, tuple(int(d) for d in shape), n_elements, n_bytes, offset)


def _check_layout(source: str, tensors: list[GgufTensor], data_offset: int,
                  file_bytes: int | None) -> None:
    end = 0
    previous = None
    for tensor in sorted(tensors, key=lambda t: t.offset_bytes):
        if previous is not None and tensor.offset_bytes < end:
            raise ModelInputError(f"{source}: tensors {previous.name!r} and {tensor.name!r} "
                                  f"overlap in the data section", code="gguf_tensors_overlap",
                                  params={"source": echo(source), "first": echo(previous.name),
                                          "second": echo(tensor.name)})
        end = tensor.offset_bytes + tensor.n_bytes
        previous = tensor
    if tensors and file_bytes is not None and data_offset + end > file_bytes:
        raise ModelInputError(
            f"{source}: truncated GGUF file; its tensors end at byte {data_offset + end} but the "
            f"file has {file_bytes} bytes", code="gguf_tensors_past_end",
            params={"source": echo(source), "end": data_offset + end, "file_bytes": file_bytes})


def _display(path: Path) -> str:
    return path.name or str(path)


def _read_header_file(path: Path, max_header_bytes: int) -> tuple[_Header, int]:
    source = _display(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelInputError(f"{source}: no such file", code="model_file_missing",
                              params={"source": echo(source)}) from None
    except OSError as exc:
        reason = echo(exc.strerror or exc)
        raise ModelInputError(f"{source}: cannot be read ({reason})", code="model_file_unreadable",
                              params={"source": echo(source), "reason": reason}) from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelInputError(f"{source}: is a folder; pass the .gguf file itself",
                              code="gguf_folder", params={"source": echo(source)})
    if not stat.S_ISREG(info.st_mode):
        raise ModelInputError(f"{source}: not a regular file (a device or a pipe); pass a .gguf file",
                              code="gguf_not_regular", params={"source": echo(source)})
    size = info.st_size
    if size == 0:
        raise ModelInputError(f"{source}: empty file, not a GGUF model", code="gguf_empty",
                              params={"source": echo(source)})
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), min(size, max_header_bytes),
                                                   access=mmap.ACCESS_READ) as view:
            header = _parse_header(view, source=source, available=len(view), file_bytes=size,
                                   max_header_bytes=max_header_bytes)
    except PermissionError:
        raise ModelInputError(f"{source}: permission denied", code="model_file_permission",
                              params={"source": echo(source)}) from None
    except GgufHeaderIncomplete as exc:  # only when the header outgrows the bound
        raise ModelInputError(str(exc), code=exc.code, params=exc.params) from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, ModelInputError):
            raise
        reason = echo(exc, max_chars=120)
        raise ModelInputError(f"{source}: cannot be read as a GGUF file ({reason})",
                              code="gguf_unreadable",
                              params={"source": echo(source), "reason": reason}) from None
    return header, size


def _split_paths(path: Path, metadata: Mapping[str, Any]) -> list[Path]:
    """Every part of a llama.cpp split model (gguf-split), in order; [path] when not split."""
    count = metadata.get("split.count")
    if not isinstance(count, int) or count <= 1:
        return [path]
    match = _SPLIT_NAME.match(path.name)
    if count > MAX_SPLIT_FILES or not match or int(match["count"]) != count:
        raise ModelInputError(f"{_display(path)}: part of a model split into {count} files, but "
                              f"not named NAME-0000i-of-{count:05d}.gguf; pass the first part",
                              code="gguf_split_name",
                              params={"source": echo(_display(path)), "count": echo(count),
                                      "pattern": echo(f"NAME-0000i-of-{count:05d}.gguf")})
    return [path.with_name(f"{match['prefix']}-{i:05d}-of-{count:05d}.gguf")
            for i in range(1, count + 1)]


def read_gguf(path: str | os.PathLike[str], *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
              model_id: str | None = None) -> GgufModel:
    """Read a local GGUF file's header (and the other parts of a split model).

    ``model_id`` names the :class:`ModelArch` (default: from the file name).
    A vision projector (``general.architecture == "clip"``) comes back with
    ``kind == "mmproj"``, ``arch`` None and ``vision`` set.
    """
    first = Path(path)
    header, size = _read_header_file(first, max_header_bytes)
    parts = _split_paths(first, header.metadata)
    if len(parts) == 1:
        return _summarize(header, source=_display(first), file_bytes=size,
                          model_id=model_id or _slug(first.name), split_count=1)
    headers, size = [], 0
    for part in parts:
        part_header, part_size = (header, os.stat(first).st_size) if part == first else \
            _read_header_file(part, max_header_bytes)
        headers.append(part_header)
        size += part_size
    return join_split_parts(headers, [_display(p) for p in parts], file_bytes=size,
                            model_id=model_id or _slug(parts[0].name))


def read_part_header(data: bytes | bytearray | memoryview, *, source: str, file_bytes: int | None,
                     max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> _Header:
    """One part of a split model from its leading bytes (a later part has no architecture of
    its own); raises :class:`GgufHeaderIncomplete` while the bytes end inside the header."""
    return _parse_header(data, source=source, available=len(data), file_bytes=file_bytes,
                         max_header_bytes=max_header_bytes)


def join_split_parts(headers: list[_Header], names: list[str], *, file_bytes: int,
                     model_id: str) -> GgufModel:
    """A split model (llama.cpp's NAME-0000i-of-0000n.gguf) from its parts' headers, in order.

    The first part carries the model's metadata; each part must say its own
    number, and no tensor may appear twice.
    """
    count = headers[0].metadata.get("split.count", len(headers))
    if count != len(headers):
        raise ModelInputError(f"{names[0]}: says it is split into {count!r} files; "
                              f"{len(headers)} were given", code="gguf_split_count",
                              params={"source": echo(names[0]), "count": echo(repr(count)),
                                      "given": len(headers)})
    for number, (name, header) in enumerate(zip(names, headers, strict=True)):
        if header.metadata.get("split.no", number) != number:
            raise ModelInputError(f"{name}: says it is split part "
                                  f"{header.metadata.get('split.no')!r}, expected {number}",
                                  code="gguf_split_number",
                                  params={"source": echo(name),
                                          "part": echo(repr(header.metadata.get("split.no"))),
                                          "expected": number})
    tensors = tuple(t for h in headers for t in h.tensors)
    if len({t.name for t in tensors}) != len(tensors):
        raise ModelInputError(f"{names[0]}: the split parts repeat a tensor",
                              code="gguf_split_repeat", params={"source": echo(names[0])})
    joined = _Header(headers[0].metadata, tensors, headers[0].data_offset_bytes,
                     headers[0].alignment_bytes)
    return _summarize(joined, source=names[0], file_bytes=file_bytes, model_id=model_id,
                      split_count=len(headers))


def parse_gguf_bytes(data: bytes | bytearray | memoryview, *, source: str = "model.gguf",
                     file_bytes: int | None = None, model_id: str | None = None,
                     max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> GgufModel:
    """Parse a GGUF header from its first bytes (the whole file is not needed).

    ``file_bytes`` is the full file's size when known (checks that the tensors
    fit in it). Raises :class:`GgufHeaderIncomplete` (with ``needed_bytes``)
    when ``data`` ends inside the header: fetch more and call again.
    """
    header = _parse_header(data, source=source, available=len(data), file_bytes=file_bytes,
                           max_header_bytes=max_header_bytes)
    return _summarize(header, source=source, file_bytes=file_bytes or 0,
                      model_id=model_id or _slug(source), split_count=1)


def read_mmproj(path: str | os.PathLike[str], *,
                max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> GgufModel:
    """Read a vision projector (mmproj) GGUF; any other GGUF is an error."""
    model = read_gguf(path, max_header_bytes=max_header_bytes)
    if model.kind != "mmproj":
        raise ModelInputError(f"{model.source}: a {model.architecture!r} model, not a vision "
                              f"projector (mmproj) file", code="gguf_not_mmproj",
                              params={"source": echo(model.source),
                                      "architecture": echo(model.architecture)})
    return model


# --- Summarizing -----------------------------------------------------------------


def _slug(name: str) -> str:
    stem = name[:-5] if name.lower().endswith(".gguf") else name
    stem = re.sub(r"-\d{5}-of-\d{5}$", "", stem)
    kept = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in stem.lower())
    slug = "-".join(part for part in kept.split("-") if part)[:80].strip("-")
    return slug if slug else "gguf-model"


class _Meta:
    """Typed access to the metadata, with messages naming the file and key."""

    def __init__(self, metadata: Mapping[str, Any], source: str, arch: str) -> None:
        self.metadata = metadata
        self.source = source
        self.arch = arch

    def raw(self, suffix: str) -> Any:
        return self.metadata.get(f"{self.arch}.{suffix}")

    def count(self, key: str, value: Any, *, allow_zero: bool = False, high: int = 100_000_000) -> int:
        if isinstance(value, (bool, float)) or not isinstance(value, int):
            raise ModelInputError(f"{self.source}: {key} must be a whole number, got {value!r:.40}",
                                  code="gguf_not_whole",
                                  params={"source": echo(self.source), "key": echo(key),
                                          "got": echo(f"{value!r:.40}")})
        low = 0 if allow_zero else 1
        if not low <= value <= high:
            raise ModelInputError(f"{self.source}: implausible {key} = {value}; expected "
                                  f"{low} to {high}", code="gguf_implausible_range",
                                  params={"source": echo(self.source), "key": echo(key),
                                          "value": value, "low": low, "high": high})
        return value

    def scalar(self, suffix: str, *, required: bool = False, allow_zero: bool = False,
               high: int = 100_000_000) -> int | None:
        key = f"{self.arch}.{suffix}"
        value = self.metadata.get(key)
        if value is None:
            if required:
                raise ModelInputError(f"{self.source}: GGUF metadata lacks {key}",
                                      code="gguf_missing_key",
                                      params={"source": echo(self.source), "key": echo(key)})
            return None
        return self.count(key, value, allow_zero=allow_zero, high=high)

    def per_layer(self, suffix: str, *, required: bool = False,
                  high: int = 100_000) -> tuple[int, ...] | None:
        """A value given once or per layer (a tuple), as a tuple of counts."""
        key = f"{self.arch}.{suffix}"
        value = self.metadata.get(key)
        if value is None:
            if required:
                raise ModelInputError(f"{self.source}: GGUF metadata lacks {key}",
                                      code="gguf_missing_key",
                                      params={"source": echo(self.source), "key": echo(key)})
            return None
        if isinstance(value, tuple):
            if not value:
                raise ModelInputError(f"{self.source}: {key} is an empty array",
                                      code="gguf_empty_array",
                                      params={"source": echo(self.source), "key": echo(key)})
            return tuple(self.count(key, v, allow_zero=True, high=high) for v in value)
        return (self.count(key, value, allow_zero=True, high=high),)


def _text(metadata: Mapping[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _summarize(header: _Header, *, source: str, file_bytes: int, model_id: str,
               split_count: int) -> GgufModel:
    metadata = header.metadata
    tensors = header.tensors
    architecture = _text(metadata, "general.architecture")
    if architecture is None:
        raise ModelInputError(f"{source}: GGUF metadata lacks general.architecture",
                              code="gguf_missing_key",
                              params={"source": echo(source), "key": "general.architecture"})
    if not tensors:
        raise ModelInputError(f"{source}: the GGUF file holds no tensors", code="gguf_no_tensors",
                              params={"source": echo(source)})
    bytes_by_type: Counter[str] = Counter()
    for tensor in tensors:
        bytes_by_type[tensor.type_name] += tensor.n_bytes
    ordered = dict(sorted(bytes_by_type.items(), key=lambda item: (-item[1], item[0])))
    tensors_bytes = sum(ordered.values())
    dominant = next(iter(ordered))
    file_type, quant_id = _file_type(metadata, dominant)
    params_total = sum(t.n_elements for t in tensors if not _NOT_PARAMETERS.match(t.name))
    by_name = {t.name: t for t in tensors}
    embedding = by_name.get("token_embd.weight")
    host_bytes = embedding.n_bytes if embedding is not None else 0
    output_tied = embedding is not None and "output.weight" not in by_name
    kept = {k: v for k, v in metadata.items() if not isinstance(v, GgufArray)
            and not (isinstance(v, str) and len(v) > 4096)}
    common: dict[str, Any] = dict(
        source=source, architecture=architecture, tensors=tensors, tensors_bytes=tensors_bytes,
        bytes_by_type=ordered, file_bytes=file_bytes, header_bytes=header.data_offset_bytes,
        dominant_type=dominant, quant_id=quant_id, file_type=file_type, split_count=split_count,
        metadata=kept,
    )
    if architecture == "clip":
        return GgufModel(kind="mmproj", arch=None, vision=_vision(metadata, source),
                         params_total=params_total, params_active=params_total, host_bytes=0,
                         output_tied=False, **common)
    meta = _Meta(metadata, source, architecture)
    arch, params_active, notes = _arch(meta, tensors, params_total, model_id)
    return GgufModel(kind="model", arch=arch, vision=None, params_total=params_total,
                     params_active=params_active, host_bytes=host_bytes, output_tied=output_tied,
                     notes=tuple(notes), **common)


def _file_type(metadata: Mapping[str, Any], dominant: str) -> tuple[str | None, str | None]:
    raw = metadata.get("general.file_type")
    try:
        file_type = LlamaFileType(raw) if isinstance(raw, int) else None
    except ValueError:
        file_type = None
    quant = _FILE_TYPE_QUANT.get(file_type) if file_type is not None else None
    return (file_type.name if file_type is not None else None), quant or _TYPE_QUANT.get(dominant)


def _family(meta: _Meta, is_moe: bool) -> str:
    arch = meta.arch
    if arch == "llama":
        label = " ".join(filter(None, (_text(meta.metadata, "general.basename"),
                                       _text(meta.metadata, "general.name")))).lower()
        if is_moe:
            return "mixtral"
        if "mistral" in label or "ministral" in label:
            return "mistral"
    if arch == "deepseek2" and meta.raw("expert_gating_func") == 2:
        return "deepseek-v3"  # sigmoid routing: DeepSeek V3/R1 (V2 uses softmax)
    family = _FAMILIES.get(arch)
    if family:
        return family
    kept = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in arch.lower())
    return "-".join(part for part in kept.split("-") if part)[:60] or "custom"


def _sliding_layers(meta: _Meta, layers: int, notes: list[str]) -> tuple[int | None, int]:
    window = meta.scalar("attention.sliding_window", allow_zero=True)
    if not window:
        return None, 0
    pattern = meta.raw("attention.sliding_window_pattern")
    if isinstance(pattern, tuple):
        if len(pattern) != layers:
            notes.append(f"sliding_window_pattern lists {len(pattern)} layers for {layers}")
        return window, min(layers, sum(1 for flag in pattern if flag))
    period = pattern if isinstance(pattern, int) and not isinstance(pattern, bool) else \
        _SWA_PERIOD.get(meta.arch)
    if period is None:
        return window, layers
    if period <= 0:
        return window, layers
    return window, sum(1 for il in range(layers) if il % period < period - 1)


def _recurrent(meta: _Meta, layers: int, kv_per_layer: tuple[int, ...],
               notes: list[str]) -> tuple[int, float]:
    """(layers with a recurrent state instead of a KV cache, state bytes per such layer)."""
    recurrent = 0
    if len(kv_per_layer) == layers and any(v == 0 for v in kv_per_layer):
        recurrent = sum(1 for v in kv_per_layer if v == 0)
    interval = meta.scalar("full_attention_interval")
    if interval and not recurrent:
        recurrent = sum(1 for il in range(layers) if (il + 1) % interval)
    if not recurrent:
        return 0, 0.0
    conv = meta.scalar("ssm.conv_kernel")
    inner = meta.scalar("ssm.inner_size")
    state = meta.scalar("ssm.state_size")
    groups = meta.scalar("ssm.group_count", allow_zero=True) or 1
    if not (conv and inner and state):
        notes.append(f"{recurrent} recurrent layers; their state size is not in the file")
        return recurrent, 0.0
    # llama.cpp's recurrent cache, f32: a convolution window of (kernel - 1) steps
    # over inner + 2 x groups x state channels, and a state x inner SSM state.
    state_bytes = 4.0 * ((conv - 1) * (inner + 2 * groups * state) + state * inner)
    return recurrent, state_bytes


def _arch(meta: _Meta, tensors: tuple[GgufTensor, ...], params_total: int,
          model_id: str) -> tuple[ModelArch, int, list[str]]:
    source = meta.source
    notes: list[str] = []
    block_count = meta.scalar("block_count", required=True, high=10_000)
    nextn = meta.scalar("nextn_predict_layers", allow_zero=True) or 0
    layers = block_count - nextn if 0 < nextn < block_count else block_count
    if layers != block_count:
        mtp = count_text(nextn, "multi-token-prediction layer", "multi-token-prediction layers")
        notes.append(f"{mtp} counted in weights, not in the KV cache")
    hidden = meta.scalar("embedding_length", required=True, high=200_000)
    heads_per_layer = meta.per_layer("attention.head_count", required=True)
    heads = max(heads_per_layer)
    if heads == 0:
        raise ModelInputError(f"{source}: {meta.arch}.attention.head_count is 0; a model without "
                              f"attention layers is not supported", code="gguf_no_heads",
                              params={"source": echo(source), "arch": echo(meta.arch)})
    kv_per_layer = meta.per_layer("attention.head_count_kv") or (heads,)
    attention_kv = [v for v in kv_per_layer if v]
    kv_heads = max(attention_kv) if attention_kv else heads
    if len(set(attention_kv)) > 1:
        notes.append(f"KV heads vary by layer ({min(attention_kv)}-{kv_heads}); the largest is used")
    kv_lora_rank = meta.scalar("attention.kv_lora_rank")
    rope_dim = None
    key_length = meta.scalar("attention.key_length")
    if kv_lora_rank:
        # Latent attention, stored as RigFit's config.json reading does: head_dim =
        # nope + rope per head (key_length_mla in files converted since 2025).
        rope_dim = meta.scalar("rope.dimension_count") or 64
        key_length = meta.scalar("attention.key_length_mla") or key_length
        kv_heads = heads
    head_dim = key_length or hidden // heads
    if head_dim <= 0:
        raise ModelInputError(f"{source}: head size works out to 0 (embedding_length {hidden}, "
                              f"{heads} heads)", code="gguf_head_size_zero",
                              params={"source": echo(source), "hidden": hidden, "heads": heads})
    if heads % kv_heads:
        raise ModelInputError(f"{source}: {heads} attention heads are not a multiple of "
                              f"{kv_heads} KV heads", code="gguf_heads_not_multiple",
                              params={"source": echo(source), "heads": heads, "kv_heads": kv_heads})
    ffn = meta.per_layer("feed_forward_length", high=10_000_000)
    expert_ffn = meta.scalar("expert_feed_forward_length")
    intermediate = max(ffn) if ffn and max(ffn) else expert_ffn
    if not intermediate:
        raise ModelInputError(f"{source}: GGUF metadata lacks {meta.arch}.feed_forward_length",
                              code="gguf_missing_key",
                              params={"source": echo(source),
                                      "key": echo(f"{meta.arch}.feed_forward_length")})
    context = meta.scalar("context_length")
    if context is None:
        context = 4096
        notes.append(f"no {meta.arch}.context_length; 4096 tokens assumed")
    by_name = {t.name: t for t in tensors}
    vocab = _vocab(meta, by_name)
    window, windowed = _sliding_layers(meta, layers, notes)
    experts = meta.scalar("expert_count", allow_zero=True) or None
    used = meta.scalar("expert_used_count", allow_zero=True) or None
    expert_tensors = [t for t in tensors if _EXPERT_TENSOR.match(t.name)]
    params_active = params_total
    moe_layers = None
    shared = 0
    if experts:
        if not used:
            raise ModelInputError(f"{source}: {meta.arch}.expert_count is {experts} but "
                                  f"expert_used_count is missing", code="gguf_no_experts_used",
                                  params={"source": echo(source), "arch": echo(meta.arch),
                                          "experts": experts})
        if used > experts:
            raise ModelInputError(f"{source}: {used} experts used per token out of {experts}",
                                  code="gguf_experts_used",
                                  params={"source": echo(source), "used": used, "experts": experts})
        expert_elements = sum(t.n_elements for t in expert_tensors)
        idle = expert_elements * (experts - used) // experts
        params_active = params_total - idle
        blocks = {int(_EXPERT_TENSOR.match(t.name)[1]) for t in expert_tensors}
        moe_layers = len(blocks) if blocks else \
            max(0, block_count - (meta.scalar("leading_dense_block_count", allow_zero=True) or 0))
        moe_layers = min(moe_layers, layers)
        shared = meta.scalar("expert_shared_count", allow_zero=True) or 0
        if not shared and any(_SHARED_EXPERT_TENSOR.match(t.name) for t in tensors):
            shared = 1
        if not expert_ffn:
            up = by_name.get(next((t.name for t in expert_tensors if "ffn_up_exps.weight" in t.name),
                                  ""))
            expert_ffn = up.shape[1] if up is not None and len(up.shape) >= 2 else None
    recurrent, state_bytes = _recurrent(meta, layers, kv_per_layer, notes)
    if not 1 <= params_total <= MAX_PARAMS:
        raise ModelInputError(f"{source}: {params_total:.4g} parameters is outside what a model has",
                              code="gguf_params_range",
                              params={"source": echo(source), "params": f"{params_total:.4g}"})
    name = _text(meta.metadata, "general.name") or model_id
    fields: dict[str, Any] = dict(
        id=model_id,
        name=(printable(" ".join(name.split()))[:100] if len(name.strip()) >= 2 else "GGUF model"),
        family=_family(meta, bool(experts)),
        params_total=float(params_total),
        params_active=float(max(1, params_active)),
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        vocab_size=vocab,
        max_context_tokens=context,
        tie_word_embeddings="output.weight" not in by_name,
        sliding_window_tokens=window,
        sliding_window_layers=windowed,
        kv_lora_rank=kv_lora_rank,
        qk_rope_head_dim=rope_dim if kv_lora_rank else None,
        num_experts=experts,
        num_experts_per_token=used if experts else None,
        num_shared_experts=shared,
        moe_intermediate_size=expert_ffn if experts else None,
        moe_layers=moe_layers,
        recurrent_layers=recurrent,
        recurrent_state_bytes_per_layer=state_bytes,
        source=GGUF_SPEC_URL,
        notes=("Read from a GGUF header; parameter counts are the tensors' element counts."
               + (" " + "; ".join(notes) + "." if notes else "")),
    )
    try:
        arch = ModelArch(**fields)
    except ValidationError as exc:
        reason = validation_error_text(exc)
        raise ModelInputError(f"{source}: inconsistent GGUF metadata ({reason})",
                              code="gguf_inconsistent",
                              params={"source": echo(source), "reason": reason}) from None
    return arch, max(1, params_active), notes


def _vocab(meta: _Meta, by_name: Mapping[str, GgufTensor]) -> int:
    embedding = by_name.get("token_embd.weight")
    if embedding is not None and len(embedding.shape) >= 2:
        return meta.count("token_embd.weight.shape[1]", embedding.shape[1])
    declared = meta.scalar("vocab_size")
    if declared:
        return declared
    tokens = meta.metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, GgufArray):
        return meta.count("len(tokenizer.ggml.tokens)", tokens.length)
    if isinstance(tokens, tuple) and tokens:
        return len(tokens)
    raise ModelInputError(f"{meta.source}: no vocabulary size (no token_embd.weight tensor, "
                          f"{meta.arch}.vocab_size or tokenizer.ggml.tokens)", code="gguf_no_vocab",
                          params={"source": echo(meta.source), "arch": echo(meta.arch)})


def _vision(metadata: Mapping[str, Any], source: str) -> GgufVision:
    def number(key: str) -> int | None:
        value = metadata.get(key)
        if value is None or isinstance(value, (GgufArray, tuple, str)):
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10_000_000:
            raise ModelInputError(f"{source}: implausible {key} = {value!r:.40}",
                                  code="gguf_implausible",
                                  params={"source": echo(source), "key": key,
                                          "value": echo(f"{value!r:.40}")})
        return value

    if metadata.get("clip.has_vision_encoder") is False:
        raise ModelInputError(f"{source}: a projector without a vision encoder (audio only?)",
                              code="gguf_no_vision", params={"source": echo(source)})
    return GgufVision(
        projector_type=_text(metadata, "clip.vision.projector_type")
        or _text(metadata, "clip.projector_type"),
        image_size=number("clip.vision.image_size"),
        patch_size=number("clip.vision.patch_size"),
        embedding_length=number("clip.vision.embedding_length"),
        block_count=number("clip.vision.block_count"),
        feed_forward_length=number("clip.vision.feed_forward_length"),
        head_count=number("clip.vision.attention.head_count"),
        projection_dim=number("clip.vision.projection_dim"),
        spatial_merge_size=number("clip.vision.spatial_merge_size"),
        image_min_pixels=number("clip.vision.image_min_pixels"),
        image_max_pixels=number("clip.vision.image_max_pixels"),
        has_audio_encoder=metadata.get("clip.has_audio_encoder") is True,
    )


__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "GgufArray",
    "GgufHeaderIncomplete",
    "GgufModel",
    "GgufTensor",
    "GgufVision",
    "parse_gguf_bytes",
    "read_gguf",
    "read_mmproj",
]
