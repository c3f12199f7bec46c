"""Models read from their files or a Hub id, vision models and the agent workload, end to end.

GGUF files are written here with the gguf package; the Hugging Face Hub is the
local fake in tests/hub_server.py (nothing reaches the internet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gguf
import pytest
from huggingface_hub import constants as hf_constants

from catalog.catalog import load_catalog
from sizing.agent import agent_task
from sizing.estimate import estimate
from sizing.gguf_file import read_gguf
from sizing.request import RequestError, parse_request, resolve_model
from tests.hub_server import HubServer
from tests.test_model_files import Q, catalog_shaped, write_llama

CAT = load_catalog()
ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "cannot reach the Hugging Face Hub; pass a config.json or a file"


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sizing", "estimate", *args], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=120)


def write_llama_1b(path: Path) -> Path:
    """A GGUF with Llama 3.2 1B's metadata and a few small tensors of several types."""
    ref = CAT.model("llama-3.2-1b")
    g = catalog_shaped(path, ref, gguf.LlamaFileType.MOSTLY_Q4_K_M)
    g.tensor("token_embd.weight", (ref.hidden_size, 256), Q.Q6_K)
    g.tensor("blk.0.attn_norm.weight", (ref.hidden_size,), Q.F32)
    g.tensor("blk.0.attn_q.weight", (ref.hidden_size, 512), Q.Q4_K)
    g.tensor("blk.0.ffn_down.weight", (ref.hidden_size, 256), Q.Q8_0)
    g.write()
    return path


def test_gguf_weights_are_the_tensor_bytes_and_the_kv_cache_the_catalog_models(tmp_path):
    path = write_llama_1b(tmp_path / "Llama-3.2-1B-Q4_K_M.gguf")
    model = read_gguf(path)
    embedding = next(t.n_bytes for t in model.tensors if t.name == "token_embd.weight")
    result = estimate(parse_request({"gguf": str(path), "gpu": "rtx-4090", "runtime": "llama.cpp",
                                     "context_tokens": 8192}), CAT)
    assert result.model.source == "gguf" and result.quant == "q4_k_m"
    # llama.cpp keeps the token embeddings in host memory; Llama 3.2's output head is tied to
    # them, so the table is loaded a second time on the device as the output layer.
    assert model.output_tied
    assert result.memory.host_weights_bytes == embedding
    assert result.memory.weights_bytes == model.device_bytes == model.tensors_bytes
    assert result.memory.file_bytes == model.tensors_bytes
    same = estimate(parse_request({"model": "llama-3.2-1b", "gpu": "rtx-4090",
                                   "runtime": "llama.cpp", "context_tokens": 8192}), CAT)
    assert result.memory.kv_cache_bytes == same.memory.kv_cache_bytes
    # On a runtime keeping embeddings on the device, everything is there.
    on_device = estimate(parse_request({"gguf": str(path), "gpu": "rtx-4090", "runtime": "ollama"}),
                         CAT)
    if not CAT.runtime("ollama").embeddings_on_host:
        assert on_device.memory.weights_bytes == model.tensors_bytes


def test_a_gguf_file_is_its_own_format_whatever_quant_was_asked(tmp_path):
    g = write_llama(tmp_path / "tiny-Q4_K_M.gguf")
    result = estimate(parse_request({"gguf": str(g.path), "quant": "q8_0"}), CAT)
    assert result.quant == "q4_k_m"
    assert [n.params for n in result.warnings if n.code == "file_quant_used"] == [
        {"file_quant": "q4_k_m", "asked": "q8_0"}]


def test_gguf_on_the_command_line_gives_the_json_contract(tmp_path):
    path = write_llama_1b(tmp_path / "one.gguf")
    out = cli("--gguf", str(path), "--gpu", "rtx-3060-12gb", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["model"]["source"] == "gguf"
    assert data["memory"]["file_bytes"] == read_gguf(path).tensors_bytes
    assert data["memory"]["host_weights_bytes"] > 0
    assert data["vision"] is None


@pytest.mark.parametrize("flags,words", [
    (("--gguf", "/nonexistent/model.gguf"), "model.gguf"),
    (("--safetensors", "/nonexistent/folder"), "folder"),
    (("--model", "llama-3.1-8b", "--images", "2"), "reads no images"),
    (("--model", "llama-3.1-8b", "--gguf", "x.gguf"), "exactly one of"),
    (("--model", "llama-3.1-8b", "--mmproj", "x.gguf"), "mmproj goes with gguf"),
])
def test_bad_model_files_are_one_line_exit_2(flags, words):
    out = cli(*flags)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


# --- A Hugging Face id against the local fake Hub --------------------------------------

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
          "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
          "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
          "tie_word_embeddings": True, "torch_dtype": "bfloat16"}


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "RIGFIT_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    server = HubServer()
    server.add_repo("rigfit-test/llama-1b", {"config.json": json.dumps(CONFIG).encode()})
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("RIGFIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    yield server
    server.stop()


def test_hf_id_gives_the_same_estimate_as_its_config_json_and_works_from_the_cache(hub, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    common = ["--gpu", "rtx-3060-12gb", "--format", "json"]
    by_id = cli("--hf-id", "rigfit-test/llama-1b", *common)
    by_file = cli("--hf-config", str(config), *common)
    assert by_id.returncode == 0, by_id.stderr
    a, b = json.loads(by_id.stdout), json.loads(by_file.stdout)
    assert a["model"]["source"] == "hf-id" and b["model"]["source"] == "hf-config"
    for section in ("memory", "speed", "fit"):
        assert a[section] == b[section], section
    hub.stop()  # the cache answers now
    again = cli("--hf-id", "rigfit-test/llama-1b", *common)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["memory"] == a["memory"]
    empty = cli("--hf-id", "rigfit-test/llama-1b", *common,
                env={"RIGFIT_CACHE_DIR": str(tmp_path / "empty"),
                     "HF_HOME": str(tmp_path / "empty-hf")})
    assert empty.returncode == 2
    assert UNREACHABLE in empty.stderr and len(empty.stderr.strip().splitlines()) == 1


# --- Vision-language models and the phone agent -----------------------------------------


def test_autoglm_on_an_rtx_3060_answers_the_seed_question():
    request = parse_request({"model": "autoglm-phone-9b", "gpu": "rtx-3060-12gb",
                             "workload": "agent", "quant": "q4_k_m"})
    result = estimate(request, CAT)
    assert result.memory.fits and result.vision is not None
    # One 1080 x 2400 screenshot per step, 3,354 tokens under GLM-4.1V's rule.
    assert result.vision.image_tokens_per_image == 3354
    assert result.prompt_tokens == result.vision.text_prompt_tokens + 3354
    assert result.fit.best_quant in ("q5_k_m", "q6_k", "q8_0")
    agent = agent_task(request, CAT, resolve_model(request, CAT)[0],
                       max_context_tokens=result.fit.max_context_tokens)
    contexts = [s.context_tokens for s in agent.steps]
    assert len(contexts) == 20 and contexts == sorted(contexts) and contexts[0] < contexts[-1]
    assert agent.seconds_per_step and 1.0 < agent.seconds_per_step < 60.0
    assert agent.steps_per_minute == pytest.approx(60.0 / agent.seconds_per_step)
    assert agent.fits_every_step and agent.screenshots_that_fit >= 1
    # Encoding the screenshot is part of every step and of the time to first token.
    no_image = estimate(parse_request({"model": "autoglm-phone-9b", "gpu": "rtx-3060-12gb",
                                       "workload": "agent", "quant": "q4_k_m", "images": 0}), CAT)
    assert result.speed.ttft_s > no_image.speed.ttft_s
    # The CLI says the same, with an agent section.
    out = cli("--model", "autoglm-phone-9b", "--gpu", "rtx-3060-12gb", "--workload", "agent",
              "--quant", "q4_k_m", "--format", "json")
    data = json.loads(out.stdout)
    assert data["agent"]["seconds_per_step"] == pytest.approx(agent.seconds_per_step)
    assert data["vision"]["image_tokens_per_image"] == 3354
    table = cli("--model", "autoglm-phone-9b", "--gpu", "rtx-3060-12gb", "--workload", "agent")
    assert "steps per minute" in table.stdout and "screenshots that fit" in table.stdout


def test_a_text_model_in_the_agent_workload_sends_no_images():
    result = estimate(parse_request({"model": "llama-3.1-8b", "workload": "agent"}), CAT)
    assert result.vision is None and result.prompt_tokens == 5450


def test_workload_presets_fill_only_what_was_not_given():
    code = parse_request({"model": "llama-3.1-8b", "workload": "code", "new_tokens": 64})
    assert (code.prompt_tokens, code.new_tokens, code.context_tokens) == (16_000, 64, 32_768)
    with pytest.raises(RequestError, match="workload"):
        parse_request({"model": "llama-3.1-8b", "workload": "poetry"})
