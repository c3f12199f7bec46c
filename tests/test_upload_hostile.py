"""Hostile config.json uploads: one line in the sidebar, and the page keeps working on every rerun.

Numbers beyond any real model (huge, non-finite, longer than Python prints),
true/false where a count belongs, and names carrying links or invisible
control characters. Streamlit keeps an uploaded file in the uploader and
reads it again on each rerun, so each upload is run three times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from pages._inputs import read_config_upload
from tests.model_configs import LLAMA3_8B, LLAMA3_8B_SHAPE_FIELDS

APP = str(Path(__file__).resolve().parent.parent / "app.py")
FIELDS = (*LLAMA3_8B_SHAPE_FIELDS, "head_dim", "sliding_window", "num_local_experts",
          "num_experts_per_tok", "kv_lora_rank")


def config_bytes(field: str, number: str) -> bytes:
    """Llama 3 8B's config with ``field`` set to the JSON number text ``number``."""
    text = json.dumps({**LLAMA3_8B, field: 0})
    return text.replace(f'"{field}": 0', f'"{field}": {number}').encode()


HOSTILE = [
    config_bytes("hidden_size", "1" + "0" * 400),  # past a float
    config_bytes("num_hidden_layers", "9" * 5000),  # past Python's digit limit for str()
    config_bytes("vocab_size", "1e400"),
    config_bytes("max_position_embeddings", "NaN"),
    config_bytes("intermediate_size", "-Infinity"),
    config_bytes("num_attention_heads", "true"),
    config_bytes("num_key_value_heads", "0.5"),
    json.dumps({**LLAMA3_8B, "vision_config": {"depth": 10**30, "hidden_size": 10**30,
                                               "patch_size": 14}}).encode(),
]


def open_upload(data: bytes, name: str = "config.json", lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["source"] = "upload"
    at.query_params["lang"] = lang
    at.run()
    at.file_uploader(key="w_upload").set_value((name, data, "application/json"))
    at.run()
    return at


@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_number_is_one_line_and_the_page_keeps_rendering(data):
    at = open_upload(data)
    for _ in range(3):  # the file stays in the uploader
        assert not at.exception, [e.value for e in at.exception]
        errors = [e.value for e in at.sidebar.error]
        assert len(errors) == 1 and "\n" not in errors[0] and len(errors[0]) < 400, errors
        assert errors[0].startswith("Could not use this config")
        assert at.metric  # the estimate of the model kept from before
        at.run()


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(FIELDS),
       number=st.one_of(st.integers(-10**30, 10**30).map(str),
                        st.floats(allow_nan=False, allow_infinity=False).map(repr),
                        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "true", "null",
                                         '"12"', "[]", "{}", "9" * 4400])))
def test_any_number_in_any_field_is_read_or_refused_in_one_line(field, number):
    arch, message = read_config_upload(config_bytes(field, number))
    if arch is None:
        assert message and "\n" not in message and len(message) < 400
    else:
        assert message == "" and arch.params_total > 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_name_with_a_link_and_a_bidi_override_is_shown_as_text(lang):
    name = "www.evil.example/x\u202egnp.exe 显卡"
    at = open_upload(json.dumps({**LLAMA3_8B, "_name_or_path": name}).encode(), lang=lang)
    assert not at.exception
    heading = at.subheader[0].value
    assert "`www.evil.example/x`" in heading and "\\\\u202egnp.exe 显卡" in heading, heading
    assert "\u202e" not in heading
    read = at.sidebar.dataframe[0].value
    assert "\u202e" not in "".join(map(str, read.to_numpy().ravel()))
    assert any("\\u202egnp.exe" in str(v) for v in read.to_numpy().ravel())


def test_the_upload_message_is_in_the_pages_language():
    at = open_upload(config_bytes("hidden_size", "1e400"), lang="zh")
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.sidebar.error]
    assert len(errors) == 1 and "“hidden_size”必须是 1 到 200,000 之间的整数，实际为 inf" in errors[0]
