"""A GGUF header read from the first bytes of a file: metadata and tensor infos.

The Hugging Face Hub client (:mod:`sizing.hub`) reads only the start of a
multi-GB GGUF file with HTTP range requests, so this parser works on a byte
prefix and says how many more bytes it needs when the prefix is too short
(:class:`GGUFTruncatedError`) instead of mapping the whole file as
``gguf.GGUFReader`` does. Nothing after the tensor infos is read.

Layout (GGUF v2 and v3, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
magic ``GGUF``, uint32 version, uint64 tensor count, uint64 metadata count;
each metadata pair is a string key, a uint32 value type and the value; each
tensor info is a string name, uint32 dimension count, uint64 dimensions, uint32
ggml type and uint64 offset into the data section, which starts at the next
multiple of ``general.alignment`` (32 when absent). Strings are a uint64 byte
length and UTF-8 bytes. A file whose version reads byte-swapped is big-endian
(as ``gguf.GGUFReader`` detects it). Tensor sizes follow ggml's block sizes
(``gguf.GGML_QUANT_SIZES``: elements per block, bytes per block); a type this
table does not know is sized by the distance to the next tensor's offset.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import gguf

from catalog.errors import UserError

GGUF_MAGIC = b"GGUF"
GGUF_DEFAULT_ALIGNMENT_BYTES = 32
# Bounds that no real file reaches but that stop a corrupt header from
# allocating without end: the largest published GGUF files hold a few thousand
# tensors and a few dozen metadata pairs; ggml tensors have at most 4 dimensions.
MAX_TENSORS = 1_000_000
MAX_METADATA_PAIRS = 100_000
MAX_DIMS = 8
# Arrays longer than this (the tokenizer's tokens, scores and merges) are kept
# as their length only; per-layer arrays (head counts, window patterns) are kept.
MAX_KEPT_ARRAY_ITEMS = 4096

# GGUF metadata value types (docs/gguf.md, "gguf_metadata_value_type").
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, \
    _UINT64, _INT64, _FLOAT64 = range(13)
_SCALAR_FORMATS = {
    _UINT8: "B", _INT8: "b", _UINT16: "H", _INT16: "h", _UINT32: "I", _INT32: "i",
    _FLOAT32: "f", _BOOL: "?", _UINT64: "Q", _INT64: "q", _FLOAT64: "d",
}


class GGUFHeaderError(UserError):
    """Bytes that are not a GGUF header this reader can use, with the reason."""


class GGUFTruncatedError(Exception):
    """The prefix ends inside the header; ``needed_bytes`` is a lower bound on what is needed."""

    def __init__(self, needed_bytes: int) -> None:
        super().__init__(f"GGUF header needs at least {needed_bytes} bytes")
        self.needed_bytes = needed_bytes


@dataclass(frozen=True)
class GGUFTensor:
    """One tensor info. ``offset_bytes`` is relative to the start of the data section."""

    name: str
    shape: tuple[int, ...]  # ggml order: the fastest-varying dimension first
    ggml_type: int
    type_name: str  # ggml's name (Q4_K, F16, ...), or "type<N>" for a type gguf does not know
    offset_bytes: int
    n_elements: int
    n_bytes: int | None  # None: unknown type, last tensor and no file size to measure against


@dataclass(frozen=True)
class GGUFHeader:
    """What a GGUF file's header says, without its tensor data."""

    version: int
    endian: str  # "little" or "big"
    metadata: dict[str, Any]  # scalars and arrays of at most MAX_KEPT_ARRAY_ITEMS items
    array_lengths: dict[str, int]  # every array's length, kept or not
    tensors: tuple[GGUFTensor, ...]
    header_bytes: int  # end of the tensor infos
    alignment_bytes: int
    data_offset_bytes: int  # start of the tensor data: header_bytes rounded up to the alignment
    file_size_bytes: int | None = None
    bytes_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def tensor_bytes(self) -> int:
        """Bytes of all tensors whose size is known."""
        return sum(t.n_bytes or 0 for t in self.tensors)


class _Cursor:
    """Reads little- or big-endian values from a byte prefix, raising GGUFTruncatedError past its end."""

    def __init__(self, data: bytes | memoryview, order: str) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.order = order

    def need(self, n_bytes: int) -> None:
        if self.pos + n_bytes > len(self.data):
            raise GGUFTruncatedError(self.pos + n_bytes)

    def scalar(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self.need(size)
        (value,) = struct.unpack_from(self.order + fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.scalar("Q")
        self.need(length)
        raw = bytes(self.data[self.pos:self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.scalar("Q")
        self.need(length)
        self.pos += length


def _value(cur: _Cursor, value_type: int, key: str, array_lengths: dict[str, int]) -> Any:
    """One metadata value; long arrays are skipped and stand as None (their length is recorded)."""
    if value_type in _SCALAR_FORMATS:
        return cur.scalar(_SCALAR_FORMATS[value_type])
    if value_type == _STRING:
        return cur.string()
    if value_type != _ARRAY:
        raise GGUFHeaderError(f"GGUF metadata '{key[:80]}' has unknown value type {value_type}")
    item_type = cur.scalar("I")
    length = cur.scalar("Q")
    array_lengths[key] = length
    keep = length <= MAX_KEPT_ARRAY_ITEMS
    if item_type in _SCALAR_FORMATS:
        fmt = _SCALAR_FORMATS[item_type]
        size = struct.calcsize(fmt) * length
        cur.need(size)
        values = (list(struct.unpack_from(f"{cur.order}{length}{fmt}", cur.data, cur.pos))
                  if keep else None)
        cur.pos += size
        return values
    if item_type == _STRING:
        if keep:
            return [cur.string() for _ in range(length)]
        for _ in range(length):
            cur.skip_string()
        return None
    if item_type == _ARRAY:
        if length and not keep:
            raise GGUFHeaderError(f"GGUF metadata '{key[:80]}' is an array of {length} arrays")
        return [_value(cur, _ARRAY, key + f"[{i}]", array_lengths) for i in range(length)]
    raise GGUFHeaderError(f"GGUF metadata '{key[:80]}' is an array of unknown type {item_type}")


def _type_name(ggml_type: int) -> str:
    try:
        return gguf.GGMLQuantizationType(ggml_type).name
    except ValueError:
        return f"type{ggml_type}"


def _known_bytes(ggml_type: int, n_elements: int, shape: tuple[int, ...]) -> int | None:
    """Bytes of a tensor of a type ggml's table knows: rows of whole blocks."""
    try:
        block_elements, block_bytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ggml_type)]
    except (ValueError, KeyError):
        return None
    if n_elements == 0:
        return 0
    row = shape[0] if shape else 1
    rows = n_elements // row
    return rows * (-(-row // block_elements)) * block_bytes


def parse_gguf_header(data: bytes | memoryview, *, file_size_bytes: int | None = None) -> GGUFHeader:
    """Parse a GGUF header from the first bytes of a file.

    Raises :class:`GGUFTruncatedError` when ``data`` ends inside the header
    (read more and call again) and :class:`GGUFHeaderError` when the bytes are
    not a usable GGUF v2/v3 header. ``file_size_bytes`` (when known) sizes a
    tensor of a type ggml's table does not know, and checks that every tensor
    lies inside the file.
    """
    if len(data) < 8:
        raise GGUFTruncatedError(24)
    if bytes(data[:4]) != GGUF_MAGIC:
        raise GGUFHeaderError("not a GGUF file (it does not start with the bytes 'GGUF')")
    (version,) = struct.unpack_from("<I", data, 4)
    order, endian = "<", "little"
    if version & 0xFFFF == 0:  # read byte-swapped: a big-endian file
        (version,) = struct.unpack_from(">I", data, 4)
        order, endian = ">", "big"
    if version not in (2, 3):
        raise GGUFHeaderError(f"GGUF version {version} is not supported (versions 2 and 3 are)")
    cur = _Cursor(data, order)
    cur.pos = 8
    n_tensors = cur.scalar("Q")
    n_pairs = cur.scalar("Q")
    if n_tensors > MAX_TENSORS or n_pairs > MAX_METADATA_PAIRS:
        raise GGUFHeaderError(f"GGUF header claims {n_tensors} tensors and {n_pairs} metadata "
                              "pairs; not a real model file")
    metadata: dict[str, Any] = {}
    array_lengths: dict[str, int] = {}
    for _ in range(n_pairs):
        key = cur.string()
        value_type = cur.scalar("I")
        value = _value(cur, value_type, key, array_lengths)
        if value is not None:
            metadata[key] = value
    infos = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.scalar("I")
        if not 0 < n_dims <= MAX_DIMS:
            raise GGUFHeaderError(f"GGUF tensor '{name[:80]}' has {n_dims} dimensions")
        shape = tuple(cur.scalar("Q") for _ in range(n_dims))
        ggml_type = cur.scalar("I")
        offset = cur.scalar("Q")
        infos.append((name, shape, ggml_type, offset))
    header_bytes = cur.pos
    alignment = metadata.get("general.alignment", GGUF_DEFAULT_ALIGNMENT_BYTES)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise GGUFHeaderError(f"GGUF general.alignment {alignment!r} is not a power of two")
    data_offset = -(-header_bytes // alignment) * alignment
    data_size = None if file_size_bytes is None else file_size_bytes - data_offset
    ends = sorted({offset for _, _, _, offset in infos})
    tensors = []
    bytes_by_type: dict[str, int] = {}
    for name, shape, ggml_type, offset in infos:
        n_elements = math.prod(shape)
        n_bytes = _known_bytes(ggml_type, n_elements, shape)
        if n_bytes is None:
            later = [e for e in ends if e > offset]
            if later:
                n_bytes = later[0] - offset
            elif data_size is not None:
                n_bytes = data_size - offset
        if data_size is not None and n_bytes is not None and offset + n_bytes > data_size:
            raise GGUFHeaderError(f"GGUF tensor '{name[:80]}' lies past the end of the file "
                                  f"({file_size_bytes} bytes); the file is truncated or corrupt")
        type_name = _type_name(ggml_type)
        tensors.append(GGUFTensor(name, shape, ggml_type, type_name, offset, n_elements, n_bytes))
        if n_bytes is not None:
            bytes_by_type[type_name] = bytes_by_type.get(type_name, 0) + n_bytes
    return GGUFHeader(
        version=version, endian=endian, metadata=metadata, array_lengths=array_lengths,
        tensors=tuple(tensors), header_bytes=header_bytes, alignment_bytes=alignment,
        data_offset_bytes=data_offset, file_size_bytes=file_size_bytes, bytes_by_type=bytes_by_type,
    )


__all__ = [
    "GGUFHeader",
    "GGUFHeaderError",
    "GGUFTensor",
    "GGUFTruncatedError",
    "MAX_KEPT_ARRAY_ITEMS",
    "parse_gguf_header",
]
