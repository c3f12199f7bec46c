"""A model file, a config.json, a benchmark paste or a Hub repository that cannot be used is
explained in the user's language.

Each error below is raised by the readers in ``sizing/`` with a code; the command line
(``rigfit --lang zh``) and the app render it from ``engine.<code>`` in
``report/locales/zh.yaml``. Every file is written by the test; the Hub is a local server.
"""

from __future__ import annotations

import json
import struct

import pytest

from report.text import translate_notice
from rigfit.cli import main
from sizing.hub import HubNotFoundError, fetch_hub_model
from tests.hub_server import HubServer

ENGLISH_WORDS = ("cannot", "must", "not a", "no such", "expected", "truncated", "unknown")


def _chinese_error(capsys, *argv: str) -> str:
    assert main(["--lang", "zh", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：") and "\n" not in err
    assert not any(word in err for word in ENGLISH_WORDS), err
    return err


def _safetensors(tmp_path, header: dict) -> str:
    raw = json.dumps(header).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return str(path)


def test_a_file_that_is_not_gguf_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "weights.gguf"
    path.write_bytes(b"PK\x03\x04 a zip archive")
    err = _chinese_error(capsys, "estimate", "--gguf", str(path), "--gpu", "rtx-4090")
    assert "weights.gguf：不是 GGUF 文件（开头不是“GGUF”）" in err


def test_a_truncated_gguf_header_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "cut.gguf"
    # Magic, version 3, no tensors, one metadata key: the file ends inside the key's length.
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + b"\x05\x00")
    err = _chinese_error(capsys, "estimate", "--gguf", str(path), "--gpu", "rtx-4090")
    assert "cut.gguf：GGUF 文件不完整；第 24 字节处的数据超出了文件末尾（文件共 26 字节）" in err


def test_a_gguf_of_a_newer_version_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "new.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 9, 0, 0))
    err = _chinese_error(capsys, "estimate", "--gguf", str(path), "--gpu", "rtx-4090")
    assert "new.gguf：不支持 GGUF 版本 9（支持的版本：2, 3）" in err


def test_a_hostile_safetensors_shape_names_the_dimension_in_chinese(tmp_path, capsys):
    path = _safetensors(tmp_path, {"w": {"dtype": "F16", "shape": ["x"], "data_offsets": [0, 2]}})
    err = _chinese_error(capsys, "estimate", "--safetensors", path, "--gpu", "rtx-4090")
    assert "model.safetensors：张量“w”：某个维度不是整数（'x'）" in err


def test_an_unknown_safetensors_dtype_is_said_in_chinese(tmp_path, capsys):
    path = _safetensors(tmp_path, {"w": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 4]}})
    err = _chinese_error(capsys, "estimate", "--safetensors", path, "--gpu", "rtx-4090")
    assert "model.safetensors：张量“w”：未知的数据类型 'Q9'" in err


def test_a_config_json_without_its_shapes_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"hidden_size": 4096, "num_attention_heads": 32}))
    err = _chinese_error(capsys, "estimate", "--hf-config", str(path), "--gpu", "rtx-4090")
    assert "config.json 缺少 num_layers (num_hidden_layers / n_layer)" in err


def test_a_benchmark_paste_with_no_timings_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "bench.txt"
    path.write_text("hello\n")
    err = _chinese_error(capsys, "estimate", "--bench", str(path), "--gpu", "rtx-4090",
                         "--model", "llama-3-8b")
    assert "第 1 行（“hello”）：没有找到 llama-bench 表格、llama-bench JSON 或 Ollama --verbose 计时" in err


def test_a_benchmark_file_that_is_not_text_is_said_in_chinese(tmp_path, capsys):
    path = tmp_path / "bench.bin"
    path.write_bytes(b"ok\n\xff\xfe\n")
    err = _chinese_error(capsys, "estimate", "--bench", str(path), "--gpu", "rtx-4090",
                         "--model", "llama-3-8b")
    assert "第 2 行：基准测试文件“" in err and "bench.bin”不是 UTF-8 文本" in err


@pytest.fixture()
def hub(monkeypatch, tmp_path):
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    server = HubServer()
    with server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_a_repository_the_hub_does_not_have_is_said_in_chinese(hub, tmp_path):
    with pytest.raises(HubNotFoundError) as caught:
        fetch_hub_model("acme/no-such-model", cache_dir=tmp_path / "cache", timeout_s=5)
    assert caught.value.code == "hub_not_found"
    assert translate_notice(caught.value, "en") == str(caught.value)
    assert translate_notice(caught.value, "zh") == ("在 Hugging Face Hub 上找不到 acme/no-such-model"
                                                   "（HTTP 404）；请检查模型 ID")
