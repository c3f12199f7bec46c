"""Local model files: GGUF and safetensors headers, read exactly and defensively.

The GGUF files are written here with the gguf package's own writer (a few
layers, several tensor types); quantized tensors are zero bytes of the right
size for their type. Safetensors files are written by hand from the format
(an 8-byte little-endian header length, the JSON header, the data). Broken and
hostile files must give one clear :class:`ModelInputError`, never a crash.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
import yaml
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFWriter

from catalog.catalog import load_catalog
from sizing.architecture import ModelInputError, arch_from_hf_config
from sizing.gguf_file import (
    GgufHeaderIncomplete,
    parse_gguf_bytes,
    read_gguf,
    read_mmproj,
)
from sizing.memory import model_kv_cache_bytes
from sizing.safetensors_file import read_safetensors, read_safetensors_header

ROOT = Path(__file__).resolve().parent.parent
Q = GGMLQuantizationType


# --- Writing GGUF files ----------------------------------------------------------------


class _Gguf:
    """A GGUF being written: tensors are given in ggml order (ne0 first), as llama.cpp names them."""

    def __init__(self, path: Path, arch: str) -> None:
        self.path = path
        self.writer = GGUFWriter(str(path), arch)
        self.tensor_bytes: dict[str, int] = {}
        self.tensor_types: dict[str, str] = {}

    def tensor(self, name: str, shape: tuple[int, ...], qtype: GGMLQuantizationType) -> None:
        block, type_size = GGML_QUANT_SIZES[qtype]
        numpy_shape = tuple(reversed(shape))
        if qtype == Q.F32:
            data = np.zeros(numpy_shape, dtype=np.float32)
            self.writer.add_tensor(name, data)
        elif qtype == Q.F16:
            data = np.zeros(numpy_shape, dtype=np.float16)
            self.writer.add_tensor(name, data)
        else:
            byte_shape = (*numpy_shape[:-1], numpy_shape[-1] // block * type_size)
            data = np.zeros(byte_shape, dtype=np.uint8)
            self.writer.add_tensor(name, data, raw_dtype=qtype)
        self.tensor_bytes[name] = int(data.nbytes)
        self.tensor_types[name] = qtype.name

    def write(self) -> Path:
        self.writer.write_header_to_file()
        self.writer.write_kv_data_to_file()
        self.writer.write_tensors_to_file()
        self.writer.close()
        return self.path


HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, LAYERS = 256, 8, 2, 32, 512, 384, 3


def _llama_metadata(w: GGUFWriter, *, layers: int = LAYERS, hidden: int = HIDDEN,
                    heads: int = HEADS, kv_heads: int = KV_HEADS, ffn: int = FFN,
                    context: int = 8192) -> None:
    w.add_name("Tiny Llama GQA")
    w.add_block_count(layers)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_context_length(context)
    w.add_rope_dimension_count(hidden // heads)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    w.add_token_list([f"t{i}" for i in range(VOCAB)])


def write_llama(path: Path, *, tied: bool = False) -> _Gguf:
    """A three-layer llama with grouped-query attention and a Q4_K_M-like mix of types."""
    g = _Gguf(path, "llama")
    _llama_metadata(g.writer)
    kv = KV_HEADS * HEAD_DIM
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    for i in range(LAYERS):
        g.tensor(f"blk.{i}.attn_norm.weight", (HIDDEN,), Q.F32)
        g.tensor(f"blk.{i}.attn_q.weight", (HIDDEN, HIDDEN), Q.Q4_K)
        g.tensor(f"blk.{i}.attn_k.weight", (HIDDEN, kv), Q.Q4_K)
        g.tensor(f"blk.{i}.attn_v.weight", (HIDDEN, kv), Q.Q6_K)
        g.tensor(f"blk.{i}.attn_output.weight", (HIDDEN, HIDDEN), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_norm.weight", (HIDDEN,), Q.F32)
        g.tensor(f"blk.{i}.ffn_gate.weight", (HIDDEN, FFN), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_up.weight", (HIDDEN, FFN), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_down.weight", (FFN, HIDDEN), Q.Q6_K)
    g.tensor("output_norm.weight", (HIDDEN,), Q.F32)
    if not tied:
        g.tensor("output.weight", (HIDDEN, VOCAB), Q.Q6_K)
    g.write()
    return g


@pytest.fixture()
def llama(tmp_path: Path) -> _Gguf:
    return write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")


# --- GGUF: exact bytes and architecture ---------------------------------------------------


def test_gguf_tensor_bytes_are_exact_and_typed(llama: _Gguf):
    model = read_gguf(llama.path)
    assert model.kind == "model"
    assert model.tensors_bytes == sum(llama.tensor_bytes.values())
    expected: dict[str, int] = {}
    for name, size in llama.tensor_bytes.items():
        expected[llama.tensor_types[name]] = expected.get(llama.tensor_types[name], 0) + size
    assert model.bytes_by_type == expected
    assert set(model.bytes_by_type) == {"Q4_K", "Q6_K", "Q8_0", "F32"}
    assert list(model.bytes_by_type.values()) == sorted(model.bytes_by_type.values(), reverse=True)
    assert model.dominant_type == "Q4_K"
    assert model.file_type == "MOSTLY_Q4_K_M" and model.quant_id == "q4_k_m"
    assert model.file_bytes == os.path.getsize(llama.path)
    assert model.host_bytes == llama.tensor_bytes["token_embd.weight"]
    assert not model.output_tied
    assert model.device_bytes == model.tensors_bytes - model.host_bytes
    assert sum(share for _, _, share in model.type_shares()) == pytest.approx(1.0)
    blocks = model.block_bytes()
    assert list(blocks) == list(range(LAYERS))
    assert blocks[0] == sum(size for name, size in llama.tensor_bytes.items()
                            if name.startswith("blk.0."))
    assert {t.name: t.n_bytes for t in model.tensors} == llama.tensor_bytes


def test_gguf_sizes_agree_with_the_gguf_packages_reader(llama: _Gguf):
    reader = gguf.GGUFReader(str(llama.path))
    ours = {t.name: (t.n_bytes, t.n_elements, t.type_name) for t in read_gguf(llama.path).tensors}
    theirs = {t.name: (int(t.n_bytes), int(t.n_elements), t.tensor_type.name) for t in reader.tensors}
    assert ours == theirs


def test_gguf_architecture_fields(llama: _Gguf):
    model = read_gguf(llama.path)
    arch = model.arch
    assert arch is not None and model.vision is None
    assert (arch.num_layers, arch.hidden_size, arch.num_attention_heads, arch.num_kv_heads,
            arch.head_dim, arch.intermediate_size, arch.vocab_size, arch.max_context_tokens) == \
        (LAYERS, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, 8192)
    assert arch.family == "llama" and arch.name == "Tiny Llama GQA"
    assert arch.id == "tiny-llama-q4-k-m"
    assert not arch.tie_word_embeddings and not arch.is_moe
    per_layer = HIDDEN * 2 + HIDDEN * HIDDEN * 2 + 2 * HIDDEN * KV_HEADS * HEAD_DIM + 3 * HIDDEN * FFN
    assert model.params_total == LAYERS * per_layer + 2 * HIDDEN * VOCAB + HIDDEN
    assert arch.params_total == model.params_total == arch.params_active


def test_gguf_tied_embedding_is_loaded_again_for_the_output(tmp_path: Path):
    g = write_llama(tmp_path / "tied.gguf", tied=True)
    model = read_gguf(g.path)
    assert model.output_tied and model.arch.tie_word_embeddings
    assert model.device_bytes == model.tensors_bytes


def catalog_shaped(path: Path, ref, file_type: gguf.LlamaFileType) -> _Gguf:
    """A llama GGUF being written with a catalog model's metadata (tensors still to add)."""
    g = _Gguf(path, "llama")
    w = g.writer
    w.add_name(ref.name)
    w.add_block_count(ref.num_layers)
    w.add_embedding_length(ref.hidden_size)
    w.add_feed_forward_length(ref.intermediate_size)
    w.add_head_count(ref.num_attention_heads)
    w.add_head_count_kv(ref.num_kv_heads)
    w.add_context_length(ref.max_context_tokens)
    w.add_vocab_size(ref.vocab_size)
    w.add_rope_dimension_count(ref.head_dim)
    w.add_file_type(file_type)
    return g


def test_gguf_kv_cache_fields_match_the_catalog_model(tmp_path: Path):
    """A GGUF with Llama 3.2 1B's metadata (and tiny tensors) sizes the same KV cache."""
    catalog_arch = load_catalog().model("llama-3.2-1b")
    g = catalog_shaped(tmp_path / "Llama-3.2-1B-Q4_0.gguf", catalog_arch,
                       gguf.LlamaFileType.MOSTLY_Q4_0)
    g.tensor("blk.0.attn_norm.weight", (catalog_arch.hidden_size,), Q.F32)
    g.tensor("blk.0.attn_k.weight", (catalog_arch.hidden_size, 256), Q.Q4_0)
    g.tensor("rope_freqs.weight", (32,), Q.F32)
    g.write()
    model = read_gguf(g.path)
    arch = model.arch
    for field in ("num_layers", "num_kv_heads", "head_dim", "max_context_tokens", "num_attention_heads",
                  "hidden_size", "vocab_size", "sliding_window_layers", "kv_lora_rank"):
        assert getattr(arch, field) == getattr(catalog_arch, field), field
    for context in (4096, 131072):
        assert model_kv_cache_bytes(arch, context_tokens=context) == \
            model_kv_cache_bytes(catalog_arch, context_tokens=context)
    # rope_freqs holds conversion-time factors, not weights; its bytes still count.
    assert model.params_total == catalog_arch.hidden_size + catalog_arch.hidden_size * 256
    assert model.tensors_bytes == sum(g.tensor_bytes.values())
    assert model.quant_id == "q4_0"


def test_gguf_moe_active_parameters_leave_out_idle_experts(tmp_path: Path):
    experts, used, moe_ffn, layers = 8, 2, 256, 2
    g = _Gguf(tmp_path / "tiny-moe.gguf", "qwen3moe")
    w = g.writer
    w.add_block_count(layers)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_key_length(64)
    w.add_value_length(64)
    w.add_context_length(32768)
    w.add_expert_count(experts)
    w.add_expert_used_count(used)
    w.add_expert_feed_forward_length(moe_ffn)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    for i in range(layers):
        g.tensor(f"blk.{i}.attn_q.weight", (HIDDEN, HEADS * 64), Q.Q4_K)
        g.tensor(f"blk.{i}.attn_k.weight", (HIDDEN, KV_HEADS * 64), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_gate_inp.weight", (HIDDEN, experts), Q.F32)
        g.tensor(f"blk.{i}.ffn_gate_exps.weight", (HIDDEN, moe_ffn, experts), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_up_exps.weight", (HIDDEN, moe_ffn, experts), Q.Q4_K)
        g.tensor(f"blk.{i}.ffn_down_exps.weight", (moe_ffn, HIDDEN, experts), Q.Q6_K)
    g.tensor("output.weight", (HIDDEN, VOCAB), Q.Q6_K)
    g.write()
    model = read_gguf(g.path)
    arch = model.arch
    expert_params = layers * 3 * HIDDEN * moe_ffn * experts
    assert model.params_total - model.params_active == expert_params * (experts - used) // experts
    assert arch.params_active == model.params_active
    assert (arch.num_experts, arch.num_experts_per_token, arch.moe_layers,
            arch.moe_intermediate_size) == (experts, used, layers, moe_ffn)
    assert arch.family == "qwen3-moe" and arch.head_dim == 64
    assert model.tensors_bytes == sum(g.tensor_bytes.values())
    assert model.quant_id == "q4_k_m"  # no general.file_type: from the dominant Q4_K


def test_gguf_sliding_window_and_per_layer_kv_heads(tmp_path: Path):
    g = _Gguf(tmp_path / "gemma.gguf", "gemma3")
    w = g.writer
    w.add_block_count(12)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv([2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 4])
    w.add_key_length(64)
    w.add_context_length(131072)
    w.add_sliding_window(1024)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.F16)
    g.write()
    arch = read_gguf(g.path).arch
    assert arch.sliding_window_tokens == 1024
    assert arch.sliding_window_layers == 10  # every sixth layer is global (llama.cpp's gemma3)
    assert arch.num_kv_heads == 4 and "KV heads vary by layer" in arch.notes
    assert arch.tie_word_embeddings and arch.family == "gemma3"


def test_gguf_latent_attention_matches_the_config_reading(tmp_path: Path):
    g = _Gguf(tmp_path / "ds.gguf", "deepseek2")
    w = g.writer
    w.add_block_count(2)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(1)
    w.add_key_length(512 + 64)
    w.add_value_length(512)
    w.add_key_length_mla(192)
    w.add_value_length_mla(128)
    w.add_kv_lora_rank(512)
    w.add_rope_dimension_count(64)
    w.add_context_length(163840)
    w.add_expert_count(4)
    w.add_expert_used_count(2)
    w.add_expert_shared_count(1)
    w.add_leading_dense_block_count(1)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    g.tensor("blk.1.ffn_up_exps.weight", (HIDDEN, 256, 4), Q.Q4_K)
    g.write()
    arch = read_gguf(g.path).arch
    assert (arch.kv_lora_rank, arch.qk_rope_head_dim, arch.head_dim, arch.num_kv_heads) == \
        (512, 64, 192, HEADS)
    assert (arch.moe_layers, arch.num_shared_experts, arch.family) == (1, 1, "deepseek-v3")


def test_gguf_split_model_reads_every_part(tmp_path: Path):
    parts = []
    for number in range(2):
        g = _Gguf(tmp_path / f"big-0000{number + 1}-of-00002.gguf", "llama")
        w = g.writer
        w.add_uint16("split.no", number)
        w.add_uint16("split.count", 2)
        if number == 0:
            _llama_metadata(w)
        g.tensor(f"blk.{number}.attn_q.weight", (HIDDEN, HIDDEN), Q.Q4_K)
        g.write()
        parts.append(g)
    model = read_gguf(parts[1].path)  # any part names the whole model
    assert model.split_count == 2
    assert model.tensors_bytes == sum(sum(g.tensor_bytes.values()) for g in parts)
    assert model.file_bytes == sum(os.path.getsize(g.path) for g in parts)
    assert model.arch.num_layers == LAYERS and model.arch.id == "big"
    parts[1].path.unlink()
    with pytest.raises(ModelInputError, match="no such file"):
        read_gguf(parts[0].path)


def test_gguf_quant_ids_exist_in_the_catalog():
    from sizing import gguf_file

    quants = yaml.safe_load((ROOT / "catalog" / "quants.yaml").read_text(encoding="utf-8"))
    ids = {q["id"] for q in quants["quants"]}
    assert set(gguf_file._FILE_TYPE_QUANT.values()) <= ids
    assert set(gguf_file._TYPE_QUANT.values()) <= ids


# --- GGUF: vision projector ------------------------------------------------------------


def write_mmproj(path: Path) -> _Gguf:
    g = _Gguf(path, "clip")
    w = g.writer
    w.add_bool("clip.has_vision_encoder", True)
    w.add_string("clip.projector_type", "qwen25vl")
    w.add_uint32("clip.vision.image_size", 560)
    w.add_uint32("clip.vision.patch_size", 14)
    w.add_uint32("clip.vision.embedding_length", 1280)
    w.add_uint32("clip.vision.block_count", 32)
    w.add_uint32("clip.vision.feed_forward_length", 3420)
    w.add_uint32("clip.vision.attention.head_count", 16)
    w.add_uint32("clip.vision.projection_dim", 3584)
    w.add_uint32("clip.vision.spatial_merge_size", 2)
    g.tensor("v.patch_embd.weight", (14, 14, 3, 1280), Q.F16)
    g.tensor("v.blk.0.attn_q.weight", (1280, 1280), Q.F16)
    g.tensor("v.blk.0.ln1.weight", (1280,), Q.F32)
    g.tensor("mm.0.weight", (5120, 5120), Q.Q8_0)
    g.write()
    return g


def test_mmproj_bytes_and_vision_keys(tmp_path: Path):
    g = write_mmproj(tmp_path / "mmproj-F16.gguf")
    proj = read_mmproj(g.path)
    assert proj.kind == "mmproj" and proj.arch is None
    assert proj.tensors_bytes == sum(g.tensor_bytes.values())
    assert proj.host_bytes == 0 and proj.device_bytes == proj.tensors_bytes
    v = proj.vision
    assert (v.projector_type, v.image_size, v.patch_size, v.embedding_length, v.block_count,
            v.head_count, v.projection_dim, v.spatial_merge_size) == \
        ("qwen25vl", 560, 14, 1280, 32, 16, 3584, 2)
    assert read_gguf(g.path).kind == "mmproj"


def test_read_mmproj_refuses_a_language_model(llama: _Gguf):
    with pytest.raises(ModelInputError, match="not a vision projector"):
        read_mmproj(llama.path)


# --- GGUF: broken and hostile files ---------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo[ModelInputError], name: str) -> str:
    message = str(exc.value)
    assert "\n" not in message and name in message, message
    return message


@pytest.mark.parametrize("content, words", [
    (b"", "empty file"),
    (b"GGU", "truncated"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a GGUF file"),
    (b"GGUF" + struct.pack("<I", 99) + b"\0" * 16, "version 99"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 0), "general.architecture"),
    (b"GGUF" + struct.pack("<IQQ", 3, 2**62, 0), "too many"),
    (os.urandom(4096), "not a GGUF file"),
])
def test_gguf_garbage_is_one_clear_line(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelInputError, match=words) as exc:
        read_gguf(path)
    _one_line(exc, "bad.gguf")


def test_gguf_truncated_anywhere_is_one_clear_line(llama: _Gguf, tmp_path: Path):
    data = llama.path.read_bytes()
    header_end = read_gguf(llama.path).header_bytes
    cuts = sorted({*range(0, 200, 7), *range(200, header_end, max(1, header_end // 60)),
                   header_end, header_end + 100, len(data) - 1})
    for cut in cuts:
        path = tmp_path / "cut.gguf"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelInputError) as exc:
            read_gguf(path)
        message = _one_line(exc, "cut.gguf")
        assert "truncated" in message or "empty" in message, (cut, message)


def test_gguf_hostile_array_length_does_not_hang(tmp_path: Path):
    key = b"tokenizer.ggml.tokens"
    for item_type in (gguf.GGUFValueType.UINT8, gguf.GGUFValueType.STRING, gguf.GGUFValueType.ARRAY):
        body = struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, item_type, 2**63 - 1)
        path = tmp_path / "hostile.gguf"
        path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + body + b"\0" * 64)
        with pytest.raises(ModelInputError) as exc:
            read_gguf(path)
        _one_line(exc, "hostile.gguf")


def _rewrite_tensor_info(llama: _Gguf, tmp_path: Path, *, dims: list[int] | None = None,
                         qtype: int | None = None, offset: int | None = None,
                         tensor: str = "token_embd.weight") -> Path:
    """The llama file with one tensor's info record altered in place."""
    data = bytearray(llama.path.read_bytes())
    name = tensor.encode()
    at = data.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    n_dims = struct.unpack_from("<I", data, at)[0]
    if dims is not None:
        assert len(dims) == n_dims
        struct.pack_into(f"<{n_dims}Q", data, at + 4, *dims)
    if qtype is not None:
        struct.pack_into("<I", data, at + 4 + 8 * n_dims, qtype)
    if offset is not None:
        struct.pack_into("<Q", data, at + 8 + 8 * n_dims, offset)
    path = tmp_path / "edited.gguf"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("change, words", [
    (dict(dims=[2**40, 2**40]), "no real tensor"),
    (dict(dims=[0, VOCAB]), "empty dimension"),
    (dict(dims=[HIDDEN + 1, VOCAB]), "block size"),
    (dict(qtype=999), "ggml type 999"),
    (dict(offset=3), "alignment"),
    (dict(offset=32), "overlap"),
    (dict(dims=[HIDDEN, VOCAB * 1000], tensor="output.weight"), "truncated"),
])
def test_gguf_absurd_tensor_infos_are_refused(llama: _Gguf, tmp_path: Path, change, words):
    path = _rewrite_tensor_info(llama, tmp_path, **change)
    with pytest.raises(ModelInputError, match=words) as exc:
        read_gguf(path)
    _one_line(exc, "edited.gguf")


def test_gguf_absurd_metadata_is_refused(tmp_path: Path):
    g = _Gguf(tmp_path / "absurd.gguf", "llama")
    _llama_metadata(g.writer, layers=10**6)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    g.write()
    with pytest.raises(ModelInputError, match="implausible llama.block_count") as exc:
        read_gguf(g.path)
    _one_line(exc, "absurd.gguf")
    g = _Gguf(tmp_path / "nokv.gguf", "llama")
    _llama_metadata(g.writer, heads=8, kv_heads=3)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    g.write()
    with pytest.raises(ModelInputError, match="not a multiple of 3 KV heads"):
        read_gguf(g.path)


def test_gguf_missing_key_is_named(tmp_path: Path):
    g = _Gguf(tmp_path / "nokey.gguf", "llama")
    g.writer.add_block_count(2)
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    g.write()
    with pytest.raises(ModelInputError, match="lacks llama.embedding_length") as exc:
        read_gguf(g.path)
    _one_line(exc, "nokey.gguf")


def test_gguf_folder_device_and_missing_paths(tmp_path: Path):
    with pytest.raises(ModelInputError, match="folder"):
        read_gguf(tmp_path)
    with pytest.raises(ModelInputError, match="no such file"):
        read_gguf(tmp_path / "absent.gguf")
    if Path("/dev/zero").exists():
        with pytest.raises(ModelInputError, match="not a regular file"):
            read_gguf("/dev/zero")


def test_gguf_header_over_the_bound_is_refused(llama: _Gguf):
    with pytest.raises(ModelInputError, match="header larger than"):
        read_gguf(llama.path, max_header_bytes=1024)


def test_gguf_header_from_leading_bytes(llama: _Gguf):
    """A ranged read of the first bytes is enough; too few says how many more are needed."""
    data = llama.path.read_bytes()
    whole = read_gguf(llama.path)
    with pytest.raises(GgufHeaderIncomplete) as exc:
        parse_gguf_bytes(data[:256], source="remote.gguf")
    needed = exc.value.needed_bytes
    assert 256 < needed <= whole.header_bytes
    model = parse_gguf_bytes(data[:whole.header_bytes], source="remote.gguf",
                             file_bytes=len(data))
    assert model.tensors_bytes == whole.tensors_bytes
    assert model.arch.num_kv_heads == KV_HEADS


# --- Safetensors -------------------------------------------------------------------------

ST_BITS = {"F32": 32, "F16": 16, "BF16": 16, "I32": 32, "U8": 8, "I8": 8, "F8_E4M3": 8}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]],
                      metadata: dict[str, str] | None = None) -> int:
    """A safetensors file of zeros, written from the format; returns its data bytes."""
    header: dict[str, object] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = int(np.prod(shape, dtype=np.int64)) * ST_BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text)
        handle.truncate(8 + len(text) + offset)  # zeros, sparse on disk
    return offset


ST_CONFIG = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 512,
    "intermediate_size": 1024, "num_hidden_layers": 2, "num_attention_heads": 8,
    "num_key_value_heads": 2, "vocab_size": 8192, "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
}


def llama_tensors(dtype: str = "BF16", layers: int = 2) -> dict[str, tuple[str, tuple[int, ...]]]:
    h, i, v, kv = 512, 1024, 8192, 128
    out: dict[str, tuple[str, tuple[int, ...]]] = {"model.embed_tokens.weight": (dtype, (v, h))}
    for n in range(layers):
        p = f"model.layers.{n}."
        out |= {p + "input_layernorm.weight": (dtype, (h,)),
                p + "self_attn.q_proj.weight": (dtype, (h, h)),
                p + "self_attn.k_proj.weight": (dtype, (kv, h)),
                p + "self_attn.v_proj.weight": (dtype, (kv, h)),
                p + "self_attn.o_proj.weight": (dtype, (h, h)),
                p + "post_attention_layernorm.weight": (dtype, (h,)),
                p + "mlp.gate_proj.weight": (dtype, (i, h)),
                p + "mlp.up_proj.weight": (dtype, (i, h)),
                p + "mlp.down_proj.weight": (dtype, (h, i))}
    out |= {"model.norm.weight": (dtype, (h,)), "lm_head.weight": (dtype, (v, h))}
    return out


def _elements(tensors: dict[str, tuple[str, tuple[int, ...]]]) -> int:
    return sum(int(np.prod(shape)) for _, shape in tensors.values())


def test_safetensors_single_file(tmp_path: Path):
    tensors = llama_tensors()
    tensors["model.norm.weight"] = ("F32", (512,))
    path = tmp_path / "model.safetensors"
    data_bytes = write_safetensors(path, tensors)
    model = read_safetensors(path)
    assert model.params_total == _elements(tensors)
    assert model.tensors_bytes == data_bytes
    assert model.bytes_by_dtype == {"BF16": data_bytes - 2048, "F32": 2048}
    assert model.params_by_dtype == {"BF16": _elements(tensors) - 512, "F32": 512}
    assert model.file_bytes == os.path.getsize(path)
    assert model.arch is None and model.quant_id == "bf16" and model.vision_bytes == 0
    header = read_safetensors_header(path)
    assert header.data_bytes == data_bytes and header.metadata == {"format": "pt"}


def test_safetensors_folder_with_config_gives_an_exact_architecture(tmp_path: Path):
    tensors = llama_tensors()
    write_safetensors(tmp_path / "model.safetensors", tensors)
    (tmp_path / "config.json").write_text(json.dumps(ST_CONFIG))
    model = read_safetensors(tmp_path)
    arch = model.arch
    assert arch is not None
    shapes = arch_from_hf_config(ST_CONFIG)
    assert arch.params_total == model.params_total == _elements(tensors)
    # Exact: the final norm, which a count from the config's shapes leaves out, is in.
    assert arch.params_total - shapes.params_total == 512
    assert (arch.num_layers, arch.num_kv_heads, arch.head_dim) == (2, 2, 64)
    assert arch.source.startswith("https://huggingface.co/docs/safetensors")


def test_safetensors_sharded_index(tmp_path: Path):
    tensors = llama_tensors(layers=4)
    names = list(tensors)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half],
              "model-00002-of-00002.safetensors": names[half:]}
    data = 0
    weight_map = {}
    for shard, part in shards.items():
        data += write_safetensors(tmp_path / shard, {n: tensors[n] for n in part})
        weight_map |= {n: shard for n in part}
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": data}, "weight_map": weight_map}))
    config = dict(ST_CONFIG, num_hidden_layers=4)
    (tmp_path / "config.json").write_text(json.dumps(config))
    # A consolidated copy beside the shards (as Mistral repositories have) is not counted.
    write_safetensors(tmp_path / "consolidated.safetensors", tensors)
    for target in (index, tmp_path):
        model = read_safetensors(target)
        assert model.tensors_bytes == data
        assert model.params_total == _elements(tensors) == model.arch.params_total
        assert model.files == tuple(shards)
        assert model.file_bytes == sum(os.path.getsize(tmp_path / s) for s in shards)
    with pytest.raises(ModelInputError, match="one shard of 2") as exc:
        read_safetensors(tmp_path / "model-00001-of-00002.safetensors")
    _one_line(exc, "model-00001-of-00002.safetensors")
    weight_map["model.extra.weight"] = "model-00002-of-00002.safetensors"
    index.write_text(json.dumps({"weight_map": weight_map}))
    with pytest.raises(ModelInputError, match="lacks tensor 'model.extra.weight'"):
        read_safetensors(index)
    index.write_text(json.dumps({"weight_map": {"a": "../../etc/passwd.safetensors"}}))
    with pytest.raises(ModelInputError, match="beside the index"):
        read_safetensors(index)


def test_safetensors_vision_tower_is_split_out(tmp_path: Path):
    tensors = llama_tensors()
    vision = {"visual.patch_embed.proj.weight": ("BF16", (32, 3, 2, 14, 14)),
              "visual.blocks.0.attn.qkv.weight": ("BF16", (96, 32)),
              "visual.merger.mlp.0.weight": ("F32", (64, 128)),
              "model.visual.blocks.1.norm1.weight": ("BF16", (32,)),
              "multi_modal_projector.linear_1.weight": ("BF16", (64, 32)),
              "vision_tower.encoder.layers.0.mlp.fc1.weight": ("BF16", (64, 32))}
    write_safetensors(tmp_path / "model.safetensors", tensors | vision)
    config = {"model_type": "qwen2_5_vl", "vision_config": {"depth": 2},
              "text_config": dict(ST_CONFIG, model_type="qwen2")}
    (tmp_path / "config.json").write_text(json.dumps(config))
    model = read_safetensors(tmp_path)
    vision_bytes = sum(int(np.prod(s)) * ST_BITS[d] // 8 for d, s in vision.values())
    assert model.vision_bytes == vision_bytes
    assert model.vision_params == _elements(vision)
    assert model.text_bytes == model.tensors_bytes - vision_bytes
    assert model.arch.params_total == _elements(tensors) == model.text_params
    assert model.config["vision_config"] == {"depth": 2}


def test_safetensors_gptq_counts_packed_weights(tmp_path: Path):
    """GPTQ: I32 qweight packs 8 four-bit weights; scales, zeros and g_idx are overhead."""
    h, i = 512, 1024
    tensors = {"model.embed_tokens.weight": ("F16", (8192, h)), "lm_head.weight": ("F16", (8192, h))}
    for n in range(2):
        for proj, (rows, cols) in {"self_attn.q_proj": (h, h), "self_attn.k_proj": (h, 128),
                                   "self_attn.v_proj": (h, 128), "self_attn.o_proj": (h, h),
                                   "mlp.gate_proj": (h, i), "mlp.up_proj": (h, i),
                                   "mlp.down_proj": (i, h)}.items():
            p = f"model.layers.{n}.{proj}."
            tensors |= {p + "qweight": ("I32", (rows // 8, cols)),
                        p + "qzeros": ("I32", (rows // 32, cols // 8)),
                        p + "scales": ("F16", (rows // 32, cols)),
                        p + "g_idx": ("I32", (rows,))}
        tensors |= {f"model.layers.{n}.input_layernorm.weight": ("F16", (h,)),
                    f"model.layers.{n}.post_attention_layernorm.weight": ("F16", (h,))}
    tensors["model.norm.weight"] = ("F16", (h,))
    data = write_safetensors(tmp_path / "model.safetensors", tensors)
    config = dict(ST_CONFIG, quantization_config={"quant_method": "gptq", "bits": 4,
                                                  "group_size": 32})
    (tmp_path / "config.json").write_text(json.dumps(config))
    model = read_safetensors(tmp_path)
    assert model.tensors_bytes == data
    assert model.quantization == "gptq" and model.quant_bits == 4 and model.quant_id == "gptq-int4"
    assert model.params_total == _elements(llama_tensors())  # as if unquantized
    overhead = sum(int(np.prod(s)) * ST_BITS[d] // 8 for n, (d, s) in tensors.items()
                   if n.endswith(("qzeros", "scales", "g_idx")))
    assert model.overhead_bytes == overhead
    assert model.params_by_dtype["int4 (gptq)"] == sum(
        int(np.prod(s)) * 8 for n, (d, s) in tensors.items() if n.endswith("qweight"))
    # Without its config the packing is assumed 4-bit, and said so.
    (tmp_path / "config.json").unlink()
    bare = read_safetensors(tmp_path / "model.safetensors")
    assert bare.params_total == model.params_total and "4-bit packing assumed" in bare.notes[0]


def test_safetensors_moe_active_parameters(tmp_path: Path):
    config = dict(ST_CONFIG, model_type="qwen3_moe", num_experts=4, num_experts_per_tok=2,
                  moe_intermediate_size=32, head_dim=64)
    tensors = llama_tensors()
    for n in range(2):
        for name in ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
            del tensors[f"model.layers.{n}.{name}.weight"]
        tensors[f"model.layers.{n}.mlp.gate.weight"] = ("BF16", (4, 512))
        for e in range(4):
            p = f"model.layers.{n}.mlp.experts.{e}."
            tensors |= {p + "gate_proj.weight": ("BF16", (32, 512)),
                        p + "up_proj.weight": ("BF16", (32, 512)),
                        p + "down_proj.weight": ("BF16", (512, 32))}
    write_safetensors(tmp_path / "model.safetensors", tensors)
    (tmp_path / "config.json").write_text(json.dumps(config))
    arch = read_safetensors(tmp_path).arch
    assert arch.params_total == _elements(tensors)
    assert arch.params_total - arch.params_active == 2 * 2 * 3 * 512 * 32  # two idle experts a layer


def _raw_safetensors(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


@pytest.mark.parametrize("header, length, data, words", [
    (b"{}", 2**60, b"", "header"),
    (b"not json at all", None, b"", "not a safetensors file"),
    (b"{\"a\": ", None, b"", "not valid JSON"),
    (b"[1, 2]", None, b"", "not a safetensors file"),
    (b"{" * 100_000, None, b"", "JSON"),
    (json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}).encode(), None,
     bytes(8), "out of range"),
    (json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode(), None,
     bytes(12), "overlap"),
    (json.dumps({"w": {"dtype": "F32", "shape": [10**30], "data_offsets": [0, 8]}}).encode(), None,
     bytes(8), "out of range"),
    (json.dumps({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}).encode(),
     None, bytes(8), "no real tensor"),
    (json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode(), None,
     bytes(8), "do not hold"),
    (json.dumps({"w": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 8]}}).encode(), None,
     bytes(8), "unknown dtype"),
    (json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode(), None,
     bytes(4), "truncated"),
    (json.dumps({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 8]}}).encode(), None,
     bytes(8), "not a whole number"),
    (b'{"w": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 8]}}', None,
     bytes(8), "JSON"),
    (b"{}", 100, b"", "truncated"),
    (b"{}", None, b"", "holds no tensors"),
])
def test_safetensors_hostile_headers_are_one_clear_line(tmp_path: Path, header, length, data, words):
    path = _raw_safetensors(tmp_path / "hostile.safetensors", header, data, length)
    with pytest.raises(ModelInputError, match=words) as exc:
        read_safetensors(path)
    _one_line(exc, "hostile.safetensors")


@pytest.mark.parametrize("content, words", [(b"", "empty file"), (b"\x01\x02", "only 2 bytes")])
def test_safetensors_empty_and_short_files(tmp_path: Path, content, words):
    path = tmp_path / "short.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelInputError, match=words) as exc:
        read_safetensors(path)
    _one_line(exc, "short.safetensors")


def test_safetensors_folder_without_weights_and_missing_paths(tmp_path: Path):
    with pytest.raises(ModelInputError, match="no .safetensors files"):
        read_safetensors(tmp_path)
    with pytest.raises(ModelInputError, match="no such file"):
        read_safetensors(tmp_path / "absent.safetensors")
    if Path("/dev/zero").exists():
        with pytest.raises(ModelInputError, match="not a regular file"):
            read_safetensors("/dev/zero")


def test_safetensors_reads_only_the_header(tmp_path: Path, monkeypatch):
    """The reader asks for 8 bytes and then the header, never the data."""
    path = tmp_path / "model.safetensors"
    write_safetensors(path, llama_tensors())
    header_length_bytes = struct.unpack("<Q", path.read_bytes()[:8])[0]
    asked: list[int] = []
    real_open = open

    def spying_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if str(file) == str(path) and "b" in mode:
            read = handle.read

            def counted(size=-1):
                asked.append(size)
                return read(size)
            handle.read = counted
        return handle

    monkeypatch.setattr("builtins.open", spying_open)
    read_safetensors(path)
    assert asked == [8, header_length_bytes]
