"""Read safetensors headers: exact parameter counts and bytes per dtype, no weights read.

A safetensors file (https://huggingface.co/docs/safetensors/index) is an
8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON,
then the tensor data. The JSON maps each tensor name to ``{"dtype", "shape",
"data_offsets": [begin, end]}`` (offsets relative to the start of the data)
and may carry a ``"__metadata__"`` object of strings. Only the first 8 + N
bytes are read, and N is bounded before anything else is read.

Three inputs are accepted: one ``.safetensors`` file; a sharded checkpoint's
``model.safetensors.index.json`` (its ``weight_map`` names the shard of every
tensor; each shard's header is read); or a model folder (its ``config.json``,
read with :func:`sizing.architecture.arch_from_hf_config`, plus its
safetensors files). When a ``config.json`` is there the result carries a
:class:`ModelArch` whose ``params_total`` is the exact count from the headers
(vision tower left out: it is reported apart).

Quantized checkpoints store several weights per element: GPTQ and AWQ pack
32 / bits weights into each ``qweight`` I32 element (compressed-tensors the
same in ``weight_packed``), bitsandbytes 4-bit and MXFP4 two per U8 byte. Bytes
are always exact (they are the stored tensors). Parameters are the unpacked
counts, with the bit width from ``config.json``'s ``quantization_config`` (or
``quantize_config.json``); scales, zero points, group indices and
quantization state are overhead bytes, not parameters. Where the packing
cannot be undone from the header (EXL2's variable bit widths, or a packed
file without its config), the count comes from the config's shapes, or 4-bit
packing is assumed, and a note says so.

Every problem is a :class:`sizing.architecture.ModelInputError` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import echo
from catalog.schema import ModelArch
from sizing.architecture import MAX_CONFIG_BYTES, ModelInputError, arch_from_hf_config
from sizing.guards import load_json, read_bounded_bytes

SAFETENSORS_SPEC_URL = "https://huggingface.co/docs/safetensors/index"
DEFAULT_MAX_HEADER_BYTES = 100 * 2**20  # real headers are at most a few MiB
MAX_INDEX_BYTES = 50 * 2**20
MAX_DIMS = 16
MAX_TENSOR_ELEMENTS = 2**45
MAX_SHARDS = 10_000

# Bits per element of each safetensors dtype (sub-byte ones pack several per byte).
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

# Tensor-name prefixes of vision encoders and their projectors (Qwen2/2.5-VL,
# GLM-4.1V, Gemma 3, LLaVA, Llama 3.2 Vision / 4, InternVL, MiniCPM-V, Idefics3, Phi-3-V).
_VISION = re.compile(
    r"^(?:model\.)?(?:visual|vision_tower|vision_model|vision_encoder|vision_embed_tokens"
    r"|multi_modal_projector|mm_projector|vpm|resampler|connector|mlp1|image_newline)(?:\.|$)")

# Quantization side tensors: overhead bytes, not parameters.
_OVERHEAD_SUFFIXES = (
    ".qzeros", ".scales", ".g_idx", ".SCB", ".weight_format",
    ".weight_scale", ".weight_scale_inv", ".weight_zero_point", ".weight_g_idx", ".weight_shape",
    ".input_scale", ".weight_global_scale", ".input_global_scale", ".output_scale",
    ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map",
    ".q_scale", ".q_scale_max", ".q_groups", ".q_perm", ".q_invperm", ".q_group_map",
)
_BNB_STATE = re.compile(r"\.quant_state\.bitsandbytes__(nf4|fp4)$")


class _Hostile(Exception):
    """Internal: a value in a header that no real file has, with its sentence's code and values."""

    def __init__(self, message: str, code: str, **params: str | int | float) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class SafetensorsTensor:
    name: str
    dtype: str
    shape: tuple[int, ...]
    n_elements: int
    n_bytes: int  # exact size of its data [B]
    file: str  # the file holding it


@dataclass(frozen=True)
class SafetensorsHeader:
    """One file's parsed header."""

    source: str  # file name, for messages
    tensors: tuple[SafetensorsTensor, ...]
    metadata: Mapping[str, str]
    header_bytes: int  # 8 + N: where the data starts
    data_bytes: int  # end of the last tensor's data


@dataclass(frozen=True)
class SafetensorsModel:
    """What a checkpoint's headers say. Sizes in bytes, counts exact (see module notes)."""

    source: str
    files: tuple[str, ...]
    tensors: tuple[SafetensorsTensor, ...]
    tensors_bytes: int  # every tensor's data, vision tower and quantization overhead included
    file_bytes: int  # the files on disk (headers included)
    params_total: int  # weights, packed ones unpacked; vision tower included
    params_by_dtype: dict[str, int]  # storage type -> weights ("int4 (gptq)" for packed ones)
    bytes_by_dtype: dict[str, int]  # safetensors dtype -> bytes, largest first
    overhead_bytes: int  # quantization scales, zero points, group indices, state
    vision_bytes: int  # vision encoder and projector tensors
    vision_params: int
    quantization: str | None  # "gptq", "awq", "bitsandbytes", "compressed-tensors", "fp8", "mxfp4", ...
    quant_bits: int | None  # bits per packed weight, when packed
    quant_id: str | None  # nearest catalog quant id (catalog/quants.yaml)
    arch: ModelArch | None  # from config.json, params_total = exact text-model count
    config: Mapping[str, Any] | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def text_bytes(self) -> int:
        """Bytes of everything but the vision tower. [B]"""
        return self.tensors_bytes - self.vision_bytes

    @property
    def text_params(self) -> int:
        return self.params_total - self.vision_params


# --- One header -------------------------------------------------------------------


def header_length(prefix: bytes, *, source: str = "model.safetensors",
                  max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
                  file_bytes: int | None = None) -> int:
    """N from a file's first 8 bytes, bounded; a ranged read can fetch bytes 8..8+N next."""
    if len(prefix) < 8:
        if not prefix:
            raise ModelInputError(f"{source}: empty file; not a safetensors file",
                                  code="st_empty", params={"source": echo(source)})
        raise ModelInputError(f"{source}: only {len(prefix)} bytes; not a safetensors file",
                              code="st_too_short",
                              params={"source": echo(source), "size_bytes": len(prefix)})
    (length,) = struct.unpack("<Q", bytes(prefix[:8]))
    if length < 2:
        raise ModelInputError(f"{source}: not a safetensors file (header length {length})",
                              code="st_header_length", params={"source": echo(source), "length": length})
    if length > max_header_bytes:
        raise ModelInputError(f"{source}: declares a {length:,}-byte header; more than "
                              f"{max_header_bytes / 2**20:g} MiB is not a safetensors file this "
                              f"tool reads", code="st_header_too_large",
                              params={"source": echo(source), "length": f"{length:,}",
                                      "limit_mib": f"{max_header_bytes / 2**20:g}"})
    if file_bytes is not None and 8 + length > file_bytes:
        raise ModelInputError(f"{source}: truncated; the header needs {8 + length:,} bytes but "
                              f"the file has {file_bytes:,}", code="st_header_truncated",
                              params={"source": echo(source), "needed": f"{8 + length:,}",
                                      "file_bytes": f"{file_bytes:,}"})
    return length


def parse_header(header: bytes, *, source: str = "model.safetensors",
                 data_bytes: int | None = None) -> SafetensorsHeader:
    """Parse the N header bytes; ``data_bytes`` (file size - 8 - N) checks the offsets."""
    if not header.lstrip()[:1] == b"{":
        raise ModelInputError(f"{source}: not a safetensors file (its header is not a JSON object)",
                              code="st_not_safetensors", params={"source": echo(source)})
    try:
        parsed = json.loads(header)
    except RecursionError:
        raise ModelInputError(f"{source}: header JSON nested too deeply", code="st_header_too_deep",
                              params={"source": echo(source)}) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, oversize integers
        reason = echo(str(exc)[:100])
        raise ModelInputError(f"{source}: header is not valid JSON ({reason})",
                              code="st_header_json",
                              params={"source": echo(source), "reason": reason}) from None
    if not isinstance(parsed, dict):
        raise ModelInputError(f"{source}: header is not a JSON object", code="st_header_not_object",
                              params={"source": echo(source)})
    metadata = parsed.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise ModelInputError(f"{source}: __metadata__ is not an object", code="st_metadata_not_object",
                              params={"source": echo(source)})
    metadata = {str(k): v for k, v in metadata.items() if isinstance(v, str)}
    tensors = []
    spans = []
    for name, entry in parsed.items():
        try:
            tensor, begin, end = _entry(source, name, entry)
        except _Hostile as exc:
            exc.params.update(source=echo(source), tensor=echo(name))
            raise ModelInputError(f"{source}: tensor {name[:80]!r}: {exc}", code=exc.code,
                                  params=exc.params) from None
        tensors.append(tensor)
        spans.append((begin, end, name))
    spans.sort()
    last_end = 0
    previous = None
    for begin, end, name in spans:
        if begin < last_end:
            raise ModelInputError(f"{source}: tensors {previous[:80]!r} and {name[:80]!r} overlap",
                                  code="st_tensors_overlap",
                                  params={"source": echo(source), "first": echo(previous),
                                          "second": echo(name)})
        last_end = max(last_end, end)
        previous = name
    if data_bytes is not None and last_end > data_bytes:
        raise ModelInputError(f"{source}: truncated; its tensors end at data byte {last_end:,} but "
                              f"the file holds {data_bytes:,} data bytes",
                              code="st_tensors_past_end",
                              params={"source": echo(source), "end": f"{last_end:,}",
                                      "data_bytes": f"{data_bytes:,}"})
    return SafetensorsHeader(source, tuple(tensors), metadata, 8 + len(header), last_end)


def _whole(value: Any, what: str, *, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Hostile(f"{what} is not a whole number ({value!r:.40})", "st_not_whole",
                       field_term=what, got=echo(f"{value!r:.40}"))
    if not 0 <= value <= high:
        raise _Hostile(f"{what} {value:.3g} is out of range", "st_out_of_range",
                       field_term=what, value=f"{value:.3g}")
    return value


def _entry(source: str, name: str, entry: Any) -> tuple[SafetensorsTensor, int, int]:
    if not isinstance(entry, dict):
        raise _Hostile("entry is not an object", "st_entry_not_object")
    dtype = entry.get("dtype")
    if dtype not in DTYPE_BITS:
        raise _Hostile(f"unknown dtype {dtype!r:.40}", "st_dtype", dtype=echo(f"{dtype!r:.40}"))
    shape = entry.get("shape")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS:
        raise _Hostile(f"shape is not a list of at most {MAX_DIMS} dimensions", "st_shape",
                       max_dims=MAX_DIMS)
    dims = tuple(_whole(d, "a dimension", high=MAX_TENSOR_ELEMENTS) for d in shape)
    n_elements = math.prod(dims)
    if n_elements > MAX_TENSOR_ELEMENTS:
        raise _Hostile(f"{n_elements:.3g} elements; no real tensor is that large",
                       "st_tensor_too_large", elements=f"{n_elements:.3g}")
    offsets = entry.get("data_offsets")
    if not isinstance(offsets, list) or len(offsets) != 2:
        raise _Hostile("data_offsets is not a [begin, end] pair", "st_offsets_pair")
    begin = _whole(offsets[0], "begin offset", high=2**62)
    end = _whole(offsets[1], "end offset", high=2**62)
    bits = n_elements * DTYPE_BITS[dtype]
    if end < begin or bits % 8 or end - begin != bits // 8:
        raise _Hostile(f"data_offsets [{begin}, {end}] do not hold {n_elements} {dtype} elements",
                       "st_offsets_size", begin=begin, end=end, elements=n_elements, dtype=dtype)
    return SafetensorsTensor(name, dtype, dims, n_elements, end - begin, source), begin, end


def _regular_file(path: Path) -> int:
    """The file's size; a ModelInputError for anything but a readable regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelInputError(f"{path.name}: no such file", code="model_file_missing",
                              params={"source": echo(path.name)}) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelInputError(f"{path.name}: not a regular file (a device or a pipe)",
                              code="st_not_regular", params={"source": echo(path.name)})
    return info.st_size


def _unreadable(path: Path, exc: OSError) -> ModelInputError:
    reason = echo(exc.strerror or exc)
    return ModelInputError(f"{path.name}: cannot be read ({reason})", code="model_file_unreadable",
                           params={"source": echo(path.name), "reason": reason})


def read_safetensors_header(path: str | os.PathLike[str], *,
                            max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> SafetensorsHeader:
    """Read one file's header: 8 bytes, then at most ``max_header_bytes``."""
    path = Path(path)
    size = _regular_file(path)
    try:
        with open(path, "rb") as handle:
            length = header_length(handle.read(8), source=path.name,
                                   max_header_bytes=max_header_bytes, file_bytes=size)
            header = handle.read(length)
    except PermissionError:
        raise ModelInputError(f"{path.name}: permission denied", code="model_file_permission",
                              params={"source": echo(path.name)}) from None
    except IsADirectoryError:
        raise ModelInputError(f"{path.name}: is a folder", code="st_folder",
                              params={"source": echo(path.name)}) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if len(header) != length:
        raise ModelInputError(f"{path.name}: truncated inside its header", code="st_header_cut",
                              params={"source": echo(path.name)})
    return parse_header(header, source=path.name, data_bytes=size - 8 - length)


# --- A checkpoint -----------------------------------------------------------------------


def _read_json(path: Path, limit: int) -> Any:
    size = _regular_file(path)
    if size > limit:
        raise ModelInputError(f"{path.name}: {size / 2**20:.1f} MiB; a real one is far smaller",
                              code="st_json_too_large",
                              params={"source": echo(path.name), "size_mib": f"{size / 2**20:.1f}"})
    # Read with the bound, too: the file may have grown since it was measured.
    return load_json(read_bounded_bytes(path, limit_bytes=limit, what=path.name), what=path.name)


def _index_shards(index_path: Path) -> tuple[list[Path], dict[str, str]]:
    index = _read_json(index_path, MAX_INDEX_BYTES)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ModelInputError(f"{index_path.name}: no weight_map; not a sharded safetensors index",
                              code="st_no_weight_map", params={"source": echo(index_path.name)})
    shards: list[str] = []
    for tensor, shard in weight_map.items():
        if not isinstance(shard, str) or not shard.endswith(".safetensors") or "/" in shard \
                or "\\" in shard or shard.startswith("."):
            raise ModelInputError(f"{index_path.name}: tensor {str(tensor)[:80]!r} names shard "
                                  f"{str(shard)[:80]!r}, not a .safetensors file beside the index",
                                  code="st_index_bad_shard",
                                  params={"source": echo(index_path.name), "tensor": echo(tensor),
                                          "shard": echo(shard)})
        if shard not in shards:
            shards.append(shard)
    if len(shards) > MAX_SHARDS:
        raise ModelInputError(f"{index_path.name}: {len(shards)} shards; too many",
                              code="st_too_many_shards",
                              params={"source": echo(index_path.name), "shards": len(shards)})
    return [index_path.with_name(s) for s in sorted(shards)], {str(k): v for k, v in weight_map.items()}


def _folder_files(folder: Path) -> tuple[list[Path], dict[str, str] | None]:
    indexes = sorted(folder.glob("*.safetensors.index.json"))
    preferred = [p for p in indexes if p.name == "model.safetensors.index.json"]
    if preferred or indexes:
        return _index_shards((preferred or indexes)[0])
    files = sorted(p for p in folder.glob("*.safetensors") if p.is_file())
    model_files = [p for p in files if p.name.startswith("model")]
    # Mistral repositories ship consolidated.safetensors beside the same weights as model-*.
    files = model_files or files
    if not files:
        raise ModelInputError(f"{folder.name}: no .safetensors files in the folder",
                              code="st_no_files", params={"source": echo(folder.name)})
    return files, None


def read_safetensors(path: str | os.PathLike[str], *, model_id: str | None = None,
                     max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> SafetensorsModel:
    """Read a ``.safetensors`` file, a ``*.safetensors.index.json`` or a model folder."""
    path = Path(path)
    weight_map: dict[str, str] | None = None
    if path.is_dir():
        folder = path
        files, weight_map = _folder_files(folder)
    elif path.name.endswith(".index.json"):
        folder = path.parent
        files, weight_map = _index_shards(path)
    else:
        folder = path.parent
        files = [path]
        sibling = folder / "model.safetensors.index.json"
        if path.suffix == ".safetensors" and sibling.is_file():
            shards, _ = _index_shards(sibling)
            if len(shards) > 1 and path.name in {s.name for s in shards}:
                raise ModelInputError(f"{path.name}: one shard of {len(shards)}; pass the folder or "
                                      f"{sibling.name}", code="st_one_shard",
                                      params={"source": echo(path.name), "shards": len(shards),
                                              "index": echo(sibling.name)})
    headers = [read_safetensors_header(f, max_header_bytes=max_header_bytes) for f in files]
    if weight_map is not None:
        present = {(t.file, t.name) for h in headers for t in h.tensors}
        for tensor, shard in weight_map.items():
            if (shard, tensor) not in present:
                raise ModelInputError(f"{shard}: lacks tensor {tensor[:80]!r} that the index puts "
                                      f"there", code="st_shard_lacks_tensor",
                                      params={"source": echo(shard), "tensor": echo(tensor)})
    config = None
    config_path = folder / "config.json"
    if config_path.is_file():
        config = _read_json(config_path, MAX_CONFIG_BYTES)
        if not isinstance(config, dict):
            raise ModelInputError("config.json: not a JSON object", code="config_not_object")
    quantize_config = None
    if (folder / "quantize_config.json").is_file():
        quantize_config = _read_json(folder / "quantize_config.json", MAX_CONFIG_BYTES)
    file_bytes = sum(os.path.getsize(f) for f in files)
    source = path.name or str(path)
    return summarize(headers, config=config, quantize_config=quantize_config, source=source,
                     file_bytes=file_bytes, model_id=model_id or _slug(folder.name or source),
                     name=folder.name or None)


def _slug(name: str) -> str:
    kept = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name.lower())
    slug = "-".join(part for part in kept.split("-") if part)[:80].strip("-")
    return slug or "safetensors-model"


def _quantization(config: Mapping[str, Any] | None, quantize_config: Any,
                  names: set[str]) -> tuple[str | None, int | None]:
    """(method, bits) from the config's quantization_config, else from the tensor names."""
    qc = config.get("quantization_config") if config else None
    if not isinstance(qc, Mapping):
        qc = quantize_config if isinstance(quantize_config, Mapping) else None
    method = None
    bits = None
    if qc:
        method = str(qc.get("quant_method") or ("gptq" if "bits" in qc else "")).lower() or None
        raw = qc.get("bits", qc.get("w_bit"))
        if raw is None and isinstance(qc.get("config_groups"), Mapping):
            for group in qc["config_groups"].values():
                weights = group.get("weights") if isinstance(group, Mapping) else None
                if isinstance(weights, Mapping) and weights.get("num_bits"):
                    raw = weights["num_bits"]
                    break
        if raw is None and qc.get("load_in_4bit"):
            raw = 4
        if raw is None and qc.get("load_in_8bit"):
            raw = 8
        if isinstance(raw, int) and not isinstance(raw, bool) and raw in (1, 2, 3, 4, 5, 6, 8):
            bits = raw
    if method is None:
        if any(n.endswith(".qweight") for n in names):
            method = "gptq"
        elif any(n.endswith(".weight_packed") for n in names):
            method = "compressed-tensors"
        elif any(_BNB_STATE.search(n) for n in names):
            method = "bitsandbytes"
        elif any(n.endswith("_blocks") for n in names):
            method = "mxfp4"
        elif any(n.endswith(".q_weight") for n in names):
            method = "exl2"
    return method, bits


def _quant_id(method: str | None, bits: int | None, dominant: str) -> str | None:
    if method in ("gptq", "awq") and bits == 4:
        return f"{method}-int4"
    if method == "compressed-tensors" and bits == 4:
        return "gptq-int4"
    if method == "bitsandbytes":
        return "bnb-int8" if bits == 8 else "bnb-nf4"
    if method == "mxfp4":
        return "mxfp4"
    if method == "exl2":
        return None
    return {"BF16": "bf16", "F16": "f16", "F32": "f32", "F8_E4M3": "fp8", "F8_E5M2": "fp8",
            "I8": "int8"}.get(dominant)


def summarize(headers: Sequence[SafetensorsHeader], *, config: Mapping[str, Any] | None = None,
              quantize_config: Any = None, source: str = "model.safetensors",
              file_bytes: int = 0, model_id: str = "safetensors-model",
              name: str | None = None) -> SafetensorsModel:
    """Combine parsed headers (one per shard) with an optional parsed config.json.

    The Hub reader can call this with headers fetched by ranged reads.
    """
    tensors = tuple(t for h in headers for t in h.tensors)
    if not tensors:
        raise ModelInputError(f"{source}: holds no tensors", code="st_no_tensors",
                              params={"source": echo(source)})
    names = {t.name for t in tensors}
    if len(names) != len(tensors):
        duplicate = next(n for n, c in Counter(t.name for t in tensors).items() if c > 1)
        raise ModelInputError(f"{source}: tensor {duplicate[:80]!r} is in more than one file",
                              code="st_tensor_twice",
                              params={"source": echo(source), "tensor": echo(duplicate)})
    method, bits = _quantization(config, quantize_config, names)
    notes: list[str] = []
    packed_bits = bits
    if method in ("gptq", "awq", "compressed-tensors") and bits is None:
        packed_bits = 4
        notes.append(f"{method} bit width not found in a config; 4-bit packing assumed")
    bnb_4bit = {n[:_BNB_STATE.search(n).start()] for n in names if _BNB_STATE.search(n)}
    bytes_by_dtype: Counter[str] = Counter()
    params_by_dtype: Counter[str] = Counter()
    overhead = vision_bytes = vision_params = 0
    hidden_packing = False
    for t in tensors:
        bytes_by_dtype[t.dtype] += t.n_bytes
        vision = bool(_VISION.match(t.name))
        if vision:
            vision_bytes += t.n_bytes
        if t.name.endswith(_OVERHEAD_SUFFIXES) or _BNB_STATE.search(t.name) or \
                (t.name.endswith("_scales") and t.name[:-7] + "_blocks" in names):
            overhead += t.n_bytes
            continue
        label, count = t.dtype, t.n_elements
        if t.name.endswith((".qweight", ".weight_packed")) and t.dtype in ("I32", "U32"):
            label, count = f"int{packed_bits} ({method})", t.n_elements * 32 // packed_bits
        elif t.name in bnb_4bit:
            label, count = "nf4/fp4 (bitsandbytes)", t.n_elements * 2
        elif t.name.endswith("_blocks") and t.dtype == "U8":
            label, count = "mxfp4", t.n_elements * 2
        elif t.name.endswith(".q_weight"):
            hidden_packing = True
            label = "exl2"
        params_by_dtype[label] += count
        if vision:
            vision_params += count
    params_total = sum(params_by_dtype.values())
    text_tensors = [t for t in tensors if not _VISION.match(t.name)]
    text_bytes: Counter[str] = Counter()
    for t in text_tensors:
        text_bytes[t.dtype] += t.n_bytes
    dominant = max(text_bytes or bytes_by_dtype, key=lambda k: (text_bytes or bytes_by_dtype)[k])
    arch = None
    if config is not None:
        shape_arch = arch_from_hf_config(config, model_id=model_id, name=name)
        text_params = params_total - vision_params
        if hidden_packing:
            text_params = int(shape_arch.params_total)
            notes.append("EXL2 packs weights at varying bit widths; parameters from the config's "
                         "shapes")
        idle = shape_arch.params_total - shape_arch.params_active
        active = max(1.0, text_params - idle)
        if text_params < 1:
            raise ModelInputError(f"{source}: holds no weights of the language model",
                                  code="st_no_language_weights", params={"source": echo(source)})
        arch = shape_arch.model_copy(update={
            "params_total": float(text_params), "params_active": min(active, float(text_params)),
            "source": SAFETENSORS_SPEC_URL,
            "notes": "Read from config.json and the safetensors headers; parameter counts are the "
                     "headers' exact element counts" + (" (vision tower apart)" if vision_params
                                                        else "") + ".",
        })
    elif hidden_packing:
        notes.append("EXL2 packs weights at varying bit widths; without config.json the parameter "
                      "count is the packed element count")
    if vision_bytes:
        notes.append(f"vision tower: {vision_bytes:,} bytes, {vision_params:,} parameters")
    return SafetensorsModel(
        source=source,
        files=tuple(h.source for h in headers),
        tensors=tensors,
        tensors_bytes=sum(bytes_by_dtype.values()),
        file_bytes=file_bytes,
        params_total=params_total,
        params_by_dtype=dict(sorted(params_by_dtype.items(), key=lambda i: (-i[1], i[0]))),
        bytes_by_dtype=dict(sorted(bytes_by_dtype.items(), key=lambda i: (-i[1], i[0]))),
        overhead_bytes=overhead,
        vision_bytes=vision_bytes,
        vision_params=vision_params,
        quantization=method,
        quant_bits=packed_bits if method else None,
        quant_id=_quant_id(method, packed_bits, dominant),
        arch=arch,
        config=dict(config) if config is not None else None,
        notes=tuple(notes),
    )


__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "SafetensorsHeader",
    "SafetensorsModel",
    "SafetensorsTensor",
    "header_length",
    "parse_header",
    "read_safetensors",
    "read_safetensors_header",
    "summarize",
]
