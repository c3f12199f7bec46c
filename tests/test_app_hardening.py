"""Bad config.json uploads: one clear message, and the model the user had stays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._inputs import read_config_upload
from pages._text import plain

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
LLAMA3_8B = {  # meta-llama/Meta-Llama-3-8B config.json
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "vocab_size": 128256, "max_position_embeddings": 8192,
    "_name_or_path": "meta-llama/Meta-Llama-3-8B",
}


def test_a_good_upload_is_read_with_its_own_name():
    arch, message = read_config_upload(json.dumps(LLAMA3_8B).encode(), file_name="config.json")
    assert message == ""
    assert arch.name == "meta-llama/Meta-Llama-3-8B"
    assert arch.params_total == pytest.approx(8.03e9, rel=0.005)
    unnamed = {k: v for k, v in LLAMA3_8B.items() if k != "_name_or_path"}
    named, _ = read_config_upload(json.dumps(unnamed).encode(), file_name="my llama.json")
    assert named.name == "my llama"


@pytest.mark.parametrize(("data", "match"), [
    (b"\x89PNG\r\n\x1a\n not json", "not valid JSON"),
    (b"{" + b" " * (50 * 1024 * 1024) + b"}", "50 MiB; a real one is a few KiB (limit 5 MiB)"),
    (json.dumps({"hidden_size": 4096}).encode(), "missing num_layers"),
    (json.dumps({**LLAMA3_8B, "intermediate_size": 1e15}).encode(),
     "'intermediate_size' must be a whole number from 1 to 10,000,000"),
    (json.dumps({**LLAMA3_8B, "num_hidden_layers": 0}).encode(),
     "'num_hidden_layers' must be a whole number from 1 to 1,000, got 0"),
    (json.dumps({**LLAMA3_8B, "hidden_size": 10**400}).encode(),
     "'hidden_size' must be a whole number from 1 to 200,000, got 1000"),
    (json.dumps({**LLAMA3_8B, "tie_word_embeddings": "false"}).encode(),
     "'tie_word_embeddings' must be true or false"),
    (b'{"hidden_size": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (json.dumps([1, 2, 3]).encode(), "must be a JSON object"),
    (b"", "not valid JSON"),
])
def test_a_bad_upload_is_one_message_and_no_model(data, match):
    arch, message = read_config_upload(data, file_name="config.json")
    assert arch is None
    assert match in message
    assert "\n" not in message and len(message) < 300


def test_markup_in_the_file_name_stays_text():
    unnamed = {k: v for k, v in LLAMA3_8B.items() if k != "_name_or_path"}
    arch, _ = read_config_upload(json.dumps(unnamed).encode(),
                                 file_name="<img src=x onerror=alert(1)>.json")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert arch.name == "<img src=x onerror=alert(1)>"  # stored as given, escaped when shown
    assert "\\<img" in plain(arch.name)


def test_upload_source_keeps_estimating_the_previous_model():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["model"] = "qwen2.5-14b"
    at.run()
    next(r for r in at.radio if r.key.endswith("_source")).set_value("upload")
    at.run()
    assert not at.exception
    assert any("until then the estimate is for Qwen2.5 14B" in i.value for i in at.info)
    assert at.subheader[0].value.startswith("Qwen2.5 14B Instruct on")
    assert at.success[0].value.startswith("Fits")


def test_longest_context_is_at_least_a_context_that_fits():
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in {"model": "glm-4-9b", "quant": "exl2-6", "runtime": "exllamav2",
                       "gpu": "rtx-5060", "prompt_tokens": "0", "new_tokens": "512",
                       "context_tokens": "512", "batch": "64"}.items():
        at.query_params[key] = value
    at.run()
    assert at.success[0].value.startswith("Fits")
    longest = {m.label: m.value for m in at.metric}["Longest context that fits"]
    assert int(longest.replace(",", "")) >= 512
