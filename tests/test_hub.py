"""Hugging Face model ids (sizing.hub) against a local fake Hub; nothing here reaches the internet.

The fake Hub (tests/hub_server.py) serves files these tests write: a small
llama-like config.json, safetensors files written byte by byte (8-byte header
length, JSON header, zero data), and GGUF files written with ``gguf.GGUFWriter``.
Every HTTP request huggingface_hub makes is checked to go to 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import time

import gguf
import httpx
import numpy as np
import pytest
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import _http as hf_http

from catalog.errors import UserError
from sizing import hub as hub_module
from sizing.architecture import parse_hf_config_text
from sizing.gguf_file import parse_gguf_bytes, read_gguf
from sizing.hub import (
    HubAccessError,
    HubError,
    HubNotFoundError,
    HubUnreachableError,
    fetch_hub_model,
    gguf_groups,
    hub_model_id,
    validate_repo_id,
)
from tests.hub_server import HubServer

MiB = 1024 * 1024
UNREACHABLE = "cannot reach the Hugging Face Hub; pass a config.json or a file"

CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 512,
    "intermediate_size": 1408, "num_hidden_layers": 4, "num_attention_heads": 8,
    "num_key_value_heads": 4, "vocab_size": 32000, "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}
CONFIG_TEXT = json.dumps(CONFIG, indent=2).encode()
VL_CONFIG = {
    "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
    "text_config": {**{k: v for k, v in CONFIG.items() if k != "architectures"}, "model_type": "qwen2"},
    "vision_config": {"depth": 2, "hidden_size": 64, "patch_size": 14, "spatial_merge_size": 2},
}
PREPROCESSOR = {"image_processor_type": "Qwen2VLImageProcessor", "min_pixels": 3136,
                "max_pixels": 12845056, "patch_size": 14, "merge_size": 2}

ST_REPO = "rigfit-test/tiny-llama"
VL_REPO = "rigfit-test/tiny-vl"
GGUF_REPO = "rigfit-test/tiny-llama-GGUF"
PRIVATE_REPO = "rigfit-test/private-llama"
GATED_REPO = "rigfit-test/gated-llama"
SPLIT_REPO = "rigfit-test/split-llama-GGUF"
TOKEN = "hf_rigfit_test_token"

Q4_FILE = "tiny-llama-Q4_K_M.gguf"
Q8_FILE = "tiny-llama-Q8_0.gguf"
IQ4_FILE = "tiny-llama-IQ4_XS.gguf"
MMPROJ_FILE = "mmproj-tiny-llama-f16.gguf"
GGUF_VOCAB = 60_000  # "token_000000": a tokenizer of ~1.3 MB, more than the 1 MiB first read


# --- Files the fake Hub serves ------------------------------------------------------

DTYPE_BYTES = {"F32": 4, "BF16": 2, "F16": 2, "I8": 1, "F8_E4M3": 1}


def safetensors_bytes(tensors: dict[str, tuple[str, tuple[int, ...]]]) -> bytes:
    """A safetensors file: 8-byte little-endian header length, JSON header, zero tensor data."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * DTYPE_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + bytes(offset)


SHARD_1 = {
    "model.embed_tokens.weight": ("BF16", (1000, 256)),
    "model.layers.0.self_attn.q_proj.weight": ("BF16", (256, 256)),
    "model.layers.0.input_layernorm.weight": ("F32", (256,)),
}
SHARD_2 = {
    "model.layers.1.mlp.up_proj.weight": ("F8_E4M3", (512, 256)),
    "model.layers.1.mlp.up_proj.weight_scale": ("F32", (512, 1)),
    "model.norm.weight": ("F32", (256,)),
    "lm_head.weight": ("BF16", (1000, 256)),
}
VL_TENSORS = {
    "model.embed_tokens.weight": ("BF16", (1000, 256)),
    "visual.blocks.0.attn.qkv.weight": ("BF16", (192, 64)),
    "visual.merger.mlp.0.weight": ("F32", (256, 64)),
    "lm_head.weight": ("BF16", (1000, 256)),
}


def gguf_bytes(tmp_path, name: str, tensors: list[tuple[str, tuple[int, int], gguf.GGMLQuantizationType]],
               *, arch: str = "llama", vocab: int = 0, extra: dict | None = None,
               split_max_tensors: int = 0) -> bytes:
    """A GGUF file written with gguf.GGUFWriter; tensor shapes are (rows, columns).

    With ``split_max_tensors`` the writer splits the file as llama.cpp's
    gguf-split does (NAME-0000i-of-0000n.gguf); the parts stay in ``tmp_path``.
    """
    path = tmp_path / name
    writer = gguf.GGUFWriter(str(path), arch=arch, split_max_tensors=split_max_tensors)
    if arch == "llama":
        writer.add_block_count(4)
        writer.add_context_length(8192)
        writer.add_embedding_length(256)
        writer.add_feed_forward_length(512)
        writer.add_head_count(8)
        writer.add_head_count_kv(4)
    for key, value in (extra or {}).items():
        writer.add_uint32(key, value)
    if vocab:
        writer.add_tokenizer_model("llama")
        writer.add_token_list([f"token_{i:06d}" for i in range(vocab)])
        writer.add_token_types([1] * vocab)
    for tensor_name, (rows, cols), kind in tensors:
        if kind in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            dtype = np.float32 if kind == gguf.GGMLQuantizationType.F32 else np.float16
            writer.add_tensor(tensor_name, np.zeros((rows, cols), dtype=dtype))
        else:
            block, size = gguf.GGML_QUANT_SIZES[kind]
            writer.add_tensor(tensor_name, np.zeros((rows, cols // block * size), dtype=np.uint8),
                              raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return b"" if split_max_tensors else path.read_bytes()


Q = gguf.GGMLQuantizationType
Q4_TENSORS = [
    ("token_embd.weight", (2048, 256), Q.Q4_K),
    *((f"blk.{i}.attn_q.weight", (256, 256), Q.Q4_K) for i in range(4)),
    *((f"blk.{i}.ffn_down.weight", (256, 512), Q.Q6_K) for i in range(4)),
    *((f"blk.{i}.attn_norm.weight", (1, 256), Q.F32) for i in range(4)),
    ("blk.0.ffn_up.weight", (8192, 512), Q.Q4_K),  # makes the file ~3.5 MB of tensor data
    ("output.weight", (2048, 256), Q.Q6_K),
]


def expected_bytes_by_type(tensors) -> dict[str, int]:
    total: dict[str, int] = {}
    for _, (rows, cols), kind in tensors:
        block, size = gguf.GGML_QUANT_SIZES[kind]
        total[kind.name] = total.get(kind.name, 0) + rows * cols // block * size
    return total


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    """A model split into three parts by gguf's writer, on disk (for sizing.gguf_file.read_gguf)."""
    tmp = tmp_path_factory.mktemp("split")
    gguf_bytes(tmp, "split-Q4_K_M.gguf", Q4_TENSORS, vocab=500, split_max_tensors=6)
    return tmp


@pytest.fixture(scope="module")
def files(tmp_path_factory, split_dir) -> dict[str, bytes]:
    """Every file the fake Hub serves, written once per module."""
    tmp = tmp_path_factory.mktemp("hub-files")
    out = {
        **{f"Q4_K_M/{p.name}": p.read_bytes() for p in sorted(split_dir.glob("*.gguf"))},
        "config.json": CONFIG_TEXT,
        "shard-1": safetensors_bytes(SHARD_1),
        "shard-2": safetensors_bytes(SHARD_2),
        "vl": safetensors_bytes(VL_TENSORS),
        Q4_FILE: gguf_bytes(tmp, Q4_FILE, Q4_TENSORS, vocab=GGUF_VOCAB),
        Q8_FILE: gguf_bytes(tmp, Q8_FILE, [("token_embd.weight", (8192, 1024), Q.Q8_0)], vocab=100),
        IQ4_FILE: gguf_bytes(tmp, IQ4_FILE, [("token_embd.weight", (64, 256), Q.IQ4_XS)], vocab=100),
        MMPROJ_FILE: gguf_bytes(tmp, MMPROJ_FILE, [("v.patch_embd.weight", (64, 588), Q.F16),
                                                   ("mm.0.weight", (256, 64), Q.F16)],
                                arch="clip", extra={"clip.vision.image_size": 448,
                                                    "clip.vision.patch_size": 14}),
    }
    return out


def st_repo_files(files) -> dict[str, bytes]:
    shards = {"model-00001-of-00002.safetensors": files["shard-1"],
              "model-00002-of-00002.safetensors": files["shard-2"]}
    weight_map = {name: "model-00001-of-00002.safetensors" for name in SHARD_1}
    weight_map.update({name: "model-00002-of-00002.safetensors" for name in SHARD_2})
    index = {"metadata": {"total_size": sum(len(v) for v in shards.values())}, "weight_map": weight_map}
    return {"config.json": files["config.json"], "README.md": b"# tiny\n",
            "model.safetensors.index.json": json.dumps(index).encode(),
            # a second copy in another layout, as Mistral repositories have: not counted
            "consolidated.safetensors": files["shard-1"], **shards}


def split_repo_files(files) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name.startswith("Q4_K_M/")} | {
        Q8_FILE: files[Q8_FILE]}


def gguf_repo_files(files) -> dict[str, bytes]:
    return {name: files[name] for name in (Q4_FILE, Q8_FILE, IQ4_FILE, MMPROJ_FILE)} | {
        "README.md": b"# tiny GGUF\n"}


# --- The sandbox: local endpoint only, no token, online ---------------------------


@pytest.fixture(autouse=True)
def sandbox(monkeypatch, tmp_path):
    """No token, not offline, and a client that refuses any host but 127.0.0.1."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "HF_OIDC_RESOURCE", "HF_HUB_ETAG_TIMEOUT", "HF_ENDPOINT", "RIGFIT_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    # huggingface_hub's user agent asks the Hub (the endpoint it read at import) for a list of
    # AI agents, unless telemetry is off.
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    hosts: list[str] = []

    def local_only(request: httpx.Request) -> None:
        hosts.append(request.url.host)
        if request.url.host != "127.0.0.1":
            raise AssertionError(f"a test tried to reach {request.url}")

    def factory() -> httpx.Client:
        return httpx.Client(event_hooks={"request": [hf_http.hf_request_event_hook, local_only]},
                            follow_redirects=True, timeout=None)

    hf_http.set_client_factory(factory)
    hf_http.close_session()
    yield hosts
    hf_http.close_session()
    hf_http.set_client_factory(hf_http.default_client_factory)
    assert set(hosts) <= {"127.0.0.1"}


@pytest.fixture()
def server(files, monkeypatch):
    hub = HubServer()
    hub.add_repo(ST_REPO, st_repo_files(files), revisions=("main", "v1"))
    hub.add_repo(VL_REPO, {"config.json": json.dumps(VL_CONFIG).encode(),
                           "preprocessor_config.json": json.dumps(PREPROCESSOR).encode(),
                           "model.safetensors": files["vl"]})
    hub.add_repo(GGUF_REPO, gguf_repo_files(files))
    hub.add_repo(SPLIT_REPO, split_repo_files(files))
    hub.add_repo(PRIVATE_REPO, {"config.json": CONFIG_TEXT, "model.safetensors": files["shard-1"]},
                 access="private", token=TOKEN)
    hub.add_repo(GATED_REPO, {"config.json": CONFIG_TEXT, "model.safetensors": files["shard-1"]},
                 access="gated", token=TOKEN)
    with hub:
        assert hub.url.startswith("http://127.0.0.1:")
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


def fetch(repo_id: str, tmp_path, **kwargs):
    return fetch_hub_model(repo_id, cache_dir=tmp_path / "cache", timeout_s=5, **kwargs)


def shard_requests(server: HubServer, name: str):
    return [s for s in server.seen if s.file == name and s.method == "GET"]


# --- Safetensors repositories ---------------------------------------------------------


def test_config_gives_the_same_architecture_as_the_config_file(server, tmp_path):
    model = fetch(ST_REPO, tmp_path)
    expected = parse_hf_config_text(CONFIG_TEXT, model_id=hub_model_id(ST_REPO), name=ST_REPO)
    assert model.arch is not None
    assert model.arch.hf_repo == ST_REPO
    assert model.arch.source == f"{server.url}/{ST_REPO}/blob/{model.revision}/config.json"
    same = model.arch.model_copy(update={"hf_repo": None, "source": expected.source,
                                         "notes": expected.notes})
    assert same == expected
    assert model.config == CONFIG
    assert model.source == "hf-id"
    assert model.revision == server.state.repos[ST_REPO].sha
    assert model.requested_revision == "main"
    assert not model.from_cache
    assert dict(model.files) == {n: len(d) for n, d in server.state.repos[ST_REPO].files.items()}


def test_safetensors_headers_give_exact_counts_per_dtype_from_range_reads(server, tmp_path):
    model = fetch(ST_REPO, tmp_path)
    assert model.weight_format == "safetensors"
    info = model.safetensors
    assert info.files == ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    assert info.params_by_dtype == {  # the FP8 weight's scale is overhead, not parameters
        "BF16": 1000 * 256 + 256 * 256 + 1000 * 256,
        "F32": 256 + 256,
        "F8_E4M3": 512 * 256,
    }
    assert info.model.overhead_bytes == 4 * 512
    assert info.bytes_by_dtype == {
        "BF16": 2 * (1000 * 256 + 256 * 256 + 1000 * 256),
        "F32": 4 * (256 + 512 + 256),
        "F8_E4M3": 512 * 256,
    }
    assert info.tensor_count == len(SHARD_1) + len(SHARD_2)
    assert model.params_by_dtype == info.params_by_dtype
    assert model.safetensors_bytes == info.tensor_bytes
    files = server.state.repos[ST_REPO].files
    assert model.file_bytes == sum(len(files[n]) for n in info.files)
    for name in info.files:
        gets = shard_requests(server, name)
        assert gets and all(s.range is not None for s in gets if s.status != 302)
        assert server.served_bytes(name) <= hub_module.SAFETENSORS_FIRST_READ_BYTES < len(files[name])
    assert server.served_bytes("consolidated.safetensors") == 0
    for path in info.header_paths:  # the header bytes are kept for other readers
        with open(path, "rb") as handle:
            raw = handle.read()
        assert raw[:8] and len(raw) == 8 + int.from_bytes(raw[:8], "little")


def test_a_vision_model_reads_its_processor_config_and_vision_tensors(server, tmp_path):
    model = fetch(VL_REPO, tmp_path)
    assert model.preprocessor_config == PREPROCESSOR
    assert model.processor_config is None
    assert model.arch.num_layers == CONFIG["num_hidden_layers"]
    assert model.safetensors.vision_params == 192 * 64 + 256 * 64
    assert model.safetensors.vision_bytes == 2 * 192 * 64 + 4 * 256 * 64
    assert model.safetensors.params_by_dtype["BF16"] == 2 * 1000 * 256 + 192 * 64


def test_a_revision_is_resolved_to_its_commit(server, tmp_path):
    model = fetch(ST_REPO, tmp_path, revision="v1")
    assert model.requested_revision == "v1"
    assert model.revision == server.state.repos[ST_REPO].sha
    with pytest.raises(HubNotFoundError, match="no revision 'v9'"):
        fetch(ST_REPO, tmp_path, revision="v9")


# --- GGUF repositories ----------------------------------------------------------------


def test_gguf_default_is_q4_k_m_and_its_header_is_read_with_bounded_ranges(server, files, tmp_path):
    model = fetch(GGUF_REPO, tmp_path)
    assert model.weight_format == "gguf"
    assert model.config is None
    # The architecture comes from the header, as sizing.gguf_file reads it.
    assert model.arch is not None and model.arch.num_layers == 4 and model.arch.hf_repo == GGUF_REPO
    assert model.arch == info_arch(files[Q4_FILE]).model_copy(
        update={"hf_repo": GGUF_REPO, "source": model.arch.source})
    assert dict(model.gguf_choices) == {Q4_FILE: len(files[Q4_FILE]), Q8_FILE: len(files[Q8_FILE]),
                                        IQ4_FILE: len(files[IQ4_FILE])}
    assert model.gguf_file == Q4_FILE  # not the smaller IQ4_XS file
    assert model.file_bytes == len(files[Q4_FILE])
    info = model.gguf
    assert info.architecture == "llama"
    assert info.metadata["llama.block_count"] == 4
    assert info.bytes_by_type == expected_bytes_by_type(Q4_TENSORS)
    assert [(t.name, t.type_name, t.n_bytes) for t in info.tensors] == [
        (name, kind.name, expected_bytes_by_type([(name, shape, kind)])[kind.name])
        for name, shape, kind in Q4_TENSORS]
    # Read with range requests only, growing from 1 MiB, never near the whole file.
    gets = [s for s in shard_requests(server, Q4_FILE) if s.status != 302]
    assert len(gets) >= 2 and all(s.range is not None and s.status == 206 for s in gets)
    served = server.served_bytes(Q4_FILE)
    assert info.model.header_bytes - 32 <= served <= 2 * MiB < len(files[Q4_FILE])
    for name in (Q8_FILE, IQ4_FILE):
        assert server.served_bytes(name) == 0
    # The vision projector, and its header.
    assert model.mmproj_file == MMPROJ_FILE
    assert model.mmproj_size_bytes == len(files[MMPROJ_FILE])
    assert model.mmproj.architecture == "clip"
    assert model.mmproj.metadata["clip.vision.image_size"] == 448
    assert model.mmproj.model.kind == "mmproj" and model.mmproj.model.vision.image_size == 448
    assert model.mmproj.bytes_by_type == {"F16": 2 * (64 * 588 + 256 * 64)}
    with open(info.header_paths[0], "rb") as handle:
        prefix = handle.read()
    assert prefix == files[Q4_FILE][:len(prefix)]
    assert parse_gguf_bytes(prefix).tensors == parse_gguf_bytes(files[Q4_FILE]).tensors


def info_arch(data: bytes):
    return parse_gguf_bytes(data, source=Q4_FILE, file_bytes=len(data),
                            model_id=hub_model_id(GGUF_REPO)).arch


def _write(tmp_path, data: bytes):
    path = tmp_path / "whole.gguf"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("choice", ["Q8_0", "q8_0", Q8_FILE])
def test_hf_file_picks_another_quant(server, files, tmp_path, choice):
    model = fetch(GGUF_REPO, tmp_path, hf_file=choice)
    assert model.gguf_file == Q8_FILE
    assert model.gguf.bytes_by_type == {"Q8_0": 8192 * 1024 // 32 * 34}
    # The same as gguf's own reader of the whole file.
    reader = gguf.GGUFReader(_write(tmp_path, files[Q8_FILE]))
    assert [(t.name, t.tensor_type.name, int(t.n_bytes), [int(d) for d in t.shape])
            for t in reader.tensors] == \
        [(t.name, t.type_name, t.n_bytes, list(t.shape)) for t in model.gguf.tensors]
    assert model.gguf.model.header_bytes == reader.data_offset
    assert server.served_bytes(Q4_FILE) == 0


def test_an_unknown_hf_file_names_the_files_there_are(server, tmp_path):
    with pytest.raises(HubNotFoundError, match="no GGUF file 'Q2_K'; it has: ") as caught:
        fetch(GGUF_REPO, tmp_path, hf_file="Q2_K")
    assert Q4_FILE in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(HubNotFoundError, match="has no GGUF files"):
        fetch(ST_REPO, tmp_path, hf_file="Q4_K_M")


def test_a_header_longer_than_the_bound_is_refused_after_reading_no_more(server, tmp_path):
    with pytest.raises(UserError, match="larger than 1 MiB"):
        fetch(GGUF_REPO, tmp_path, gguf_max_header_bytes=1 * MiB)
    assert server.served_bytes(Q4_FILE) <= 1 * MiB


@pytest.mark.parametrize(("names", "chosen"), [
    (["m-Q8_0.gguf", "m-Q4_K_S.gguf", "m-Q4_K_M.gguf", "m-IQ4_XS.gguf"], "m-Q4_K_M.gguf"),
    (["m-Q8_0.gguf", "m-Q4_K_S.gguf", "m-IQ4_XS.gguf"], "m-Q4_K_S.gguf"),
    (["m-Q8_0.gguf", "m-Q4_0.gguf", "m-UD-Q4_K_XL.gguf", "m-Q2_K.gguf"], "m-UD-Q4_K_XL.gguf"),
    (["m-Q8_0.gguf", "m-Q6_K.gguf", "m-F16.gguf"], "m-Q6_K.gguf"),
    (["m-UD-Q4_K_M.gguf", "m-Q4_K_M.gguf"], "m-Q4_K_M.gguf"),
    (["m-UD-Q4_K_M.gguf", "m-Q8_0.gguf"], "m-UD-Q4_K_M.gguf"),
    (["Q4_K_M/m-Q4_K_M-00001-of-00002.gguf", "Q4_K_M/m-Q4_K_M-00002-of-00002.gguf",
      "m-Q3_K_M.gguf"], "Q4_K_M/m-Q4_K_M-00001-of-00002.gguf"),
])
def test_the_default_gguf_rule(names, chosen):
    sizes = {"m-Q8_0.gguf": 80, "m-Q6_K.gguf": 60, "m-F16.gguf": 160, "m-Q4_K_M.gguf": 45,
             "m-UD-Q4_K_M.gguf": 47, "m-Q4_K_S.gguf": 43, "m-IQ4_XS.gguf": 40, "m-Q4_0.gguf": 42,
             "m-UD-Q4_K_XL.gguf": 41, "m-Q2_K.gguf": 20, "m-Q3_K_M.gguf": 30}
    listing = [(n, sizes.get(n, 25)) for n in names] + [("mmproj-F16.gguf", 1)]
    groups = gguf_groups(listing)
    assert hub_module._default_gguf(groups)[0][0] == chosen
    assert all("mmproj" not in g[0][0] for g in groups)


@pytest.mark.parametrize(("choice", "chosen"), [
    ("Q4_K_M", "m-Q4_K_M.gguf"), ("ud-q4_k_m", "m-UD-Q4_K_M.gguf"), ("IQ4_XS", "m-IQ4_XS.gguf"),
    ("m-Q8_0.gguf", "m-Q8_0.gguf"), ("sub/m-Q8_0.gguf", "sub/m-Q8_0.gguf"),
    ("Q2_K", "m-Q2_K-00001-of-00002.gguf"), ("m-Q2_K-00002-of-00002.gguf", "m-Q2_K-00001-of-00002.gguf"),
])
def test_hf_file_names_a_file_a_part_or_a_quant(choice, chosen):
    names = ["m-Q4_K_M.gguf", "m-UD-Q4_K_M.gguf", "m-IQ4_XS.gguf", "m-Q8_0.gguf", "sub/m-Q8_0.gguf",
             "m-Q2_K-00001-of-00002.gguf", "m-Q2_K-00002-of-00002.gguf"]
    groups = gguf_groups([(n, 10) for n in names])
    assert hub_module._pick_gguf("o/m", groups, choice)[0][0] == chosen


def test_an_ambiguous_hf_file_asks_for_the_file_name():
    groups = gguf_groups([("a/m-Q8_0.gguf", 1), ("b/m-Q8_0.gguf", 2)])
    with pytest.raises(HubError, match="'Q8_0' matches several GGUF files"):
        hub_module._pick_gguf("o/m", groups, "Q8_0")
    with pytest.raises(HubError, match="matches several"):
        hub_module._pick_gguf("o/m", groups, "m-Q8_0.gguf")


# --- The cache, offline and unreachable ---------------------------------------------


def test_with_the_server_stopped_the_cache_answers(server, tmp_path):
    online = {repo: fetch(repo, tmp_path) for repo in (ST_REPO, GGUF_REPO, VL_REPO)}
    server.stop()
    for repo, first in online.items():
        again = fetch(repo, tmp_path)
        assert again.from_cache
        for field in ("revision", "config", "arch", "files", "gguf_choices", "safetensors",
                      "preprocessor_config", "weight_format"):
            assert getattr(again, field) == getattr(first, field), field
        assert (again.gguf is None) == (first.gguf is None)
        if first.gguf is not None:
            assert again.gguf.tensors == first.gguf.tensors
            assert again.mmproj.metadata == first.mmproj.metadata


def test_hf_hub_offline_reads_only_the_cache(server, tmp_path, monkeypatch):
    first = fetch(GGUF_REPO, tmp_path)
    server.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = fetch(GGUF_REPO, tmp_path)
    assert again.from_cache and again.gguf.tensors == first.gguf.tensors
    assert server.seen == []
    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE is set"):
        fetch(GGUF_REPO, tmp_path, hf_file="Q8_0")  # never read: not in the cache
    assert server.seen == []


def test_a_cached_commit_is_not_read_again_online(server, tmp_path):
    fetch(GGUF_REPO, tmp_path)
    server.clear()
    fetch(GGUF_REPO, tmp_path)
    assert [s for s in server.seen if s.file is not None] == []  # only the listing was asked for


def test_no_network_and_no_cache_is_one_clear_line(server, tmp_path):
    server.stop()
    with pytest.raises(HubUnreachableError) as caught:
        fetch(ST_REPO, tmp_path)
    message = str(caught.value)
    assert message.startswith(UNREACHABLE)
    assert ST_REPO in message and "\n" not in message
    assert isinstance(caught.value, UserError)


def test_a_hub_outage_falls_back_to_the_cache(server, tmp_path):
    first = fetch(ST_REPO, tmp_path)
    server.set_failure(503)
    again = fetch(ST_REPO, tmp_path)
    assert again.from_cache and again.safetensors == first.safetensors
    with pytest.raises(HubUnreachableError, match="^" + UNREACHABLE):
        fetch(VL_REPO, tmp_path)


def test_a_hub_that_does_not_answer_is_given_up_after_the_timeout(server, tmp_path):
    fetch(ST_REPO, tmp_path)
    server.set_stall(3.0)
    started = time.monotonic()
    again = fetch_hub_model(ST_REPO, cache_dir=tmp_path / "cache", timeout_s=0.3)
    assert again.from_cache
    with pytest.raises(HubUnreachableError, match="^" + UNREACHABLE):
        fetch_hub_model(VL_REPO, cache_dir=tmp_path / "cache", timeout_s=0.3)
    assert time.monotonic() - started < 2.5
    server.set_stall(0)


# --- Access, missing repositories, bad ids ------------------------------------------


def test_a_private_repo_asks_for_a_token(server, tmp_path, monkeypatch):
    with pytest.raises(HubAccessError, match="set HF_TOKEN") as caught:
        fetch(PRIVATE_REPO, tmp_path)
    assert "HTTP 401" in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(HubAccessError, match="HF_TOKEN does not grant access"):
        fetch(PRIVATE_REPO, tmp_path)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    model = fetch(PRIVATE_REPO, tmp_path)
    assert model.safetensors.tensor_count == len(SHARD_1)
    assert all(s.authorization == f"Bearer {TOKEN}" for s in server.seen[-3:])


def test_a_gated_repo_asks_for_a_token(server, tmp_path, monkeypatch):
    with pytest.raises(HubAccessError, match="is gated .*set HF_TOKEN"):
        fetch(GATED_REPO, tmp_path)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert fetch(GATED_REPO, tmp_path).arch is not None


def test_a_missing_repo_is_one_line(server, tmp_path):
    with pytest.raises(HubNotFoundError) as caught:
        fetch("rigfit-test/no-such-model", tmp_path)
    assert str(caught.value) == ("rigfit-test/no-such-model was not found on the Hugging Face Hub "
                                 "(HTTP 404); check the model id")


@pytest.mark.parametrize("bad", ["", "llama", "a/b/c", "org/na me", "org/-name", "org/name-",
                                 "org/na..me", "org/na--me", "ö/x", "x" * 97 + "/y", "../etc"])
def test_bad_repo_ids_are_refused_in_one_line(bad):
    with pytest.raises(HubError, match="must be ORG/NAME") as caught:
        validate_repo_id(bad)
    assert "\n" not in str(caught.value)


def test_repo_ids_and_urls_are_accepted():
    assert validate_repo_id(" Qwen/Qwen3-8B ") == "Qwen/Qwen3-8B"
    assert validate_repo_id("https://huggingface.co/unsloth/Qwen3-8B-GGUF/blob/main/x.gguf") == \
        "unsloth/Qwen3-8B-GGUF"
    assert validate_repo_id("hf.co/google/gemma-3-4b-it") == "google/gemma-3-4b-it"
    assert hub_model_id("unsloth/Qwen3-8B-GGUF") == "unsloth-qwen3-8b-gguf"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"revision": "a b"}, "revision must be"),
    ({"revision": "../main"}, "revision must be"),
    ({"hf_file": "../x.gguf"}, "--hf-file must be"),
    ({"hf_file": "Q4 K M"}, "--hf-file must be"),
])
def test_bad_revisions_and_files_are_refused_before_any_request(kwargs, match, tmp_path):
    with pytest.raises(HubError, match=match):
        fetch(ST_REPO, tmp_path, **kwargs)


# --- A GGUF model split into parts ---------------------------------------------------


def test_a_split_gguf_is_read_part_by_part_and_joined(server, files, split_dir, tmp_path,
                                                      monkeypatch):
    monkeypatch.setattr(hub_module, "GGUF_FIRST_READ_BYTES", 64 * 1024)  # the parts are small
    model = fetch(SPLIT_REPO, tmp_path)
    parts = tuple(sorted(n for n in files if n.startswith("Q4_K_M/")))
    assert len(parts) == 3
    assert dict(model.gguf_choices) == {parts[0]: sum(len(files[p]) for p in parts),
                                        Q8_FILE: len(files[Q8_FILE])}
    assert model.gguf.files == parts
    assert model.file_bytes == sum(len(files[p]) for p in parts)
    local = read_gguf(sorted(split_dir.glob("*.gguf"))[0], model_id=hub_model_id(SPLIT_REPO))
    assert model.gguf.model.split_count == 3
    assert model.gguf.tensors == local.tensors
    assert model.gguf.bytes_by_type == local.bytes_by_type == expected_bytes_by_type(Q4_TENSORS)
    assert model.arch == local.arch.model_copy(update={"hf_repo": SPLIT_REPO,
                                                       "source": model.arch.source})
    for part in parts:
        gets = [s for s in shard_requests(server, part) if s.status != 302]
        assert gets and all(s.status == 206 for s in gets)
        assert server.served_bytes(part) <= 64 * 1024 < len(files[part])
    server.stop()
    again = fetch(SPLIT_REPO, tmp_path)
    assert again.from_cache and again.gguf.tensors == model.gguf.tensors
