"""Hostile input to the engine: bounded file reads, config.json numbers and flags, echoes."""

from __future__ import annotations

import json
import os
import resource

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from catalog.catalog import load_catalog
from catalog.errors import ECHO_MAX_CHARS, UserError, echo, validation_error_text
from report.text import translate_notice
from sizing.architecture import CONFIG_RANGES, parse_hf_config_text
from sizing.guards import (MAX_CONFIG_BYTES, InputFileError, ModelInputError, load_json,
                           read_bounded_bytes, strict_flag, whole_number)
from sizing.request import RequestError, parse_request

# Llama 3.1 8B's config.json shapes (meta-llama/Llama-3.1-8B).
LLAMA = {"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096,
         "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
         "vocab_size": 128256, "max_position_embeddings": 131072}
# A DeepSeek-style MoE with latent attention and a sliding window, so every field of
# CONFIG_RANGES is read from it.
MOE = {**LLAMA, "n_routed_experts": 64, "num_experts_per_tok": 6, "n_shared_experts": 2,
       "moe_intermediate_size": 1408, "first_k_dense_replace": 1, "kv_lora_rank": 512,
       "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "sliding_window": 4096,
       "sliding_window_pattern": 4, "head_dim": 128}
# The config.json key each CONFIG_RANGES field is read from in the configs above.
# vision_config's range bounds the numbers inside that object; its own cases are in
# tests/test_architecture.py.
CONFIG_KEY = {"num_layers": "num_hidden_layers", "num_experts": "n_routed_experts",
              "max_window_layers": None, "vision_config": None}
FIELDS = sorted(f for f in CONFIG_RANGES if CONFIG_KEY.get(f, f) is not None)


def _config_with(field: str, value: object) -> tuple[str, dict]:
    key = CONFIG_KEY.get(field, field)
    base = dict(LLAMA if field in ("head_dim", "num_key_value_heads") else MOE)
    if field == "max_window_layers":
        base = {**LLAMA, "model_type": "qwen2", "sliding_window": 4096}
    return key, {**base, key: value}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("offset", ["below", "above", "true", "string", "fraction", "huge"])
def test_every_config_field_outside_its_range_is_one_line_naming_field_and_range(field, offset):
    low, high = CONFIG_RANGES[field]
    value = {"below": low - 1, "above": high + 1, "true": True, "string": str(low + 1),
             "fraction": low + 0.5, "huge": 10 ** 400}[offset]
    key, config = _config_with(field, value)
    if field == "num_experts_per_tok":
        high = config["n_routed_experts"]  # no more than the experts there are
    if field == "first_k_dense_replace":
        high = config["num_hidden_layers"]
    with pytest.raises(ModelInputError) as info:
        parse_hf_config_text(json.dumps(config))
    message = str(info.value)
    assert f"'{key}' must be a whole number from {low:,} to {high:,}, got " in message
    assert "\n" not in message and len(message) < 200
    assert info.value.code == "value_range"
    chinese = translate_notice(info.value, "zh")
    assert f"{low:,}" in chinese and key in chinese and "must" not in chinese


@pytest.mark.parametrize("key", ["tie_word_embeddings", "multi_query", "use_sliding_window"])
@pytest.mark.parametrize("value", ["false", "true", 0, 1, [], {}])
def test_flags_are_json_true_or_false_only(key, value):
    with pytest.raises(ModelInputError, match=f"'{key}' must be true or false, got "):
        parse_hf_config_text(json.dumps({**LLAMA, "sliding_window": 4096, key: value}))


def test_flags_read_as_written():
    untied = parse_hf_config_text(json.dumps({**LLAMA, "tie_word_embeddings": False}))
    tied = parse_hf_config_text(json.dumps({**LLAMA, "tie_word_embeddings": True}))
    assert (untied.tie_word_embeddings, tied.tie_word_embeddings) == (False, True)
    assert untied.params_total - tied.params_total == pytest.approx(128256 * 4096)
    no_kv = {k: v for k, v in LLAMA.items() if k != "num_key_value_heads"}
    assert parse_hf_config_text(json.dumps({**no_kv, "multi_query": False})).num_kv_heads == 32
    assert parse_hf_config_text(json.dumps({**no_kv, "multi_query": True})).num_kv_heads == 1


@pytest.mark.parametrize("key", ["max_position_embeddings", "moe_intermediate_size", "head_dim",
                                 "kv_lora_rank", "qk_rope_head_dim", "num_experts_per_tok"])
def test_zero_where_zero_means_nothing_is_refused_not_defaulted(key):
    config = {**(LLAMA if key == "head_dim" else MOE), key: 0}
    with pytest.raises(ModelInputError, match=f"'{key}' must be a whole number from 1 to"):
        parse_hf_config_text(json.dumps(config))


def test_zero_experts_and_no_window_read_as_dense_and_full_attention():
    arch = parse_hf_config_text(json.dumps({**LLAMA, "num_local_experts": 0, "sliding_window": 0}))
    assert (arch.num_experts, arch.sliding_window_tokens) == (None, None)


def test_layer_types_longer_than_the_layers_is_one_plain_line():
    config = {**LLAMA, "sliding_window": 4096, "layer_types": ["sliding_attention"] * 40}
    with pytest.raises(ModelInputError) as info:
        parse_hf_config_text(json.dumps(config))
    assert str(info.value) == ("config.json: 'layer_types' lists 40 layers but the model has 32 "
                               "(num_hidden_layers)")
    assert "层" in translate_notice(info.value, "zh")


def test_a_pydantic_error_is_one_line_without_input_or_link():
    class Shape(BaseModel):
        layers: int
        width: int

    with pytest.raises(ValidationError) as info:
        Shape(layers="x" * 10_000, width=None)
    text = validation_error_text(info.value)
    assert text == ("layers: Input should be a valid integer, unable to parse string as an "
                    "integer; width: Input should be a valid integer")
    assert "input_value" not in text and "errors.pydantic.dev" not in text


@pytest.mark.parametrize("text", ["1" * 5000, "[" * 100_000, "\xff", b"\xff\xfe{}", "NaN x"])
def test_unreadable_json_is_one_input_error(text):
    with pytest.raises(ModelInputError, match="config.json is (not valid JSON|nested too deeply)"):
        load_json(text, what="config.json")


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
@settings(max_examples=300, deadline=None)
def test_an_echo_is_one_short_printable_line(text):
    shown = echo(text)
    assert len(shown) <= ECHO_MAX_CHARS
    assert shown.isprintable()
    if text.isprintable() and len(text) <= ECHO_MAX_CHARS:
        assert shown == text  # short printable text comes back as it is
    elif len(text) > ECHO_MAX_CHARS:
        assert shown.endswith("…")


def test_an_unknown_50_mib_id_is_echoed_cut():
    with pytest.raises(UserError) as info:
        load_catalog().gpu("x" * (50 * 2**20))
    assert len(str(info.value)) < 300
    assert "xxx…'" in str(info.value)


@given(st.sampled_from(["batch", "gpu_count", "prompt_tokens", "new_tokens", "images",
                        "params_b", "memory_gib", "power_limit_w", "ambient_c"]),
       st.booleans())
@settings(max_examples=40, deadline=None)
def test_true_or_false_is_never_a_count_in_a_request(field, value):
    data = {"model": "llama-3.1-8b", field: value}
    if field == "params_b":
        data = {field: value}
    with pytest.raises(RequestError, match=f"{field} must be a number, not "
                                           f"{'true' if value else 'false'}"):
        parse_request(data)


# --- Files read with a bound ----------------------------------------------------------


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "config.json"
    with big.open("wb") as handle:
        handle.truncate(2**30)  # 1 GiB, sparse
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputFileError) as info:
        read_bounded_bytes(big, limit_bytes=MAX_CONFIG_BYTES, what="config.json")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert str(info.value).endswith("is 1,024 MiB; the limit is 5 MiB")
    assert grown_kib < 50 * 1024


@pytest.mark.parametrize("path,match", [("/dev/zero", "not a regular file"),
                                        ("/", "is a folder"),
                                        ("/no/such/file", "No such file"),
                                        ("bad\0path", "not a valid path")])
def test_devices_folders_and_missing_files_are_refused(path, match):
    with pytest.raises(InputFileError, match=match):
        read_bounded_bytes(path, limit_bytes=100, what="config.json")


def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="not a regular file"):
        read_bounded_bytes(fifo, limit_bytes=100, what="requests file")


def test_a_file_at_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"a" * 100)
    assert read_bounded_bytes(path, limit_bytes=100, what="x") == b"a" * 100
    path.write_bytes(b"a" * 101)
    with pytest.raises(InputFileError, match="the limit is"):
        read_bounded_bytes(path, limit_bytes=100, what="x")


def test_the_estimate_reads_config_json_with_the_bound(tmp_path):
    big = tmp_path / "config.json"
    with big.open("wb") as handle:
        handle.truncate(2**30)
    with pytest.raises(InputFileError, match="limit is 5 MiB"):
        from sizing.request import resolve_model
        resolve_model(parse_request({"hf_config": str(big)}), load_catalog())


@pytest.mark.parametrize("value,ok", [(4096, True), (4096.0, True), (True, False), ("4096", False),
                                      (float("inf"), False), (float("nan"), False), (None, False),
                                      (10 ** 400, False), (0, False), (4096.5, False)])
def test_whole_number_table(value, ok):
    if ok:
        assert whole_number("x", value, low=1, high=10_000) == 4096
    else:
        with pytest.raises(ModelInputError, match="'x' must be a whole number from 1 to 10,000"):
            whole_number("x", value, low=1, high=10_000)


def test_strict_flag_default_and_values():
    assert strict_flag("f", None, default=True) is True
    assert strict_flag("f", False, default=True) is False
    with pytest.raises(ModelInputError, match="'f' must be true or false, got 0"):
        strict_flag("f", 0, default=True)


def test_a_context_left_out_is_a_stated_default_not_a_silent_one(tmp_path):
    from sizing.request import resolve_model
    no_context = {k: v for k, v in LLAMA.items() if k != "max_position_embeddings"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(no_context))
    arch, notices = resolve_model(parse_request({"hf_config": str(path)}), load_catalog())
    assumed = [n for n in notices if n.code == "config_context_assumed"]
    assert arch.max_context_tokens == 4096 and len(assumed) == 1
    assert "4,096 tokens assumed" in str(assumed[0])
    assert "4,096" in translate_notice(assumed[0], "zh")
    path.write_text(json.dumps({**no_context, "seq_length": 8192}))
    arch, notices = resolve_model(parse_request({"hf_config": str(path)}), load_catalog())
    assert arch.max_context_tokens == 8192
    assert [n for n in notices if n.code == "config_context_assumed"] == []


def test_a_config_name_with_terminal_escapes_is_shown_escaped():
    arch = parse_hf_config_text(json.dumps({**LLAMA, "_name_or_path": "org/a\x1b[31mred\u202egnp"}))
    assert arch.name == "org/a\\x1b[31mred\\u202egnp"
    assert arch.name.isprintable()


def test_a_gguf_name_with_terminal_escapes_is_shown_escaped(tmp_path):
    from sizing.gguf_file import read_gguf
    from tests.test_model_files import HIDDEN, VOCAB, Q, _Gguf, _llama_metadata

    g = _Gguf(tmp_path / "named.gguf", "llama")
    _llama_metadata(g.writer)
    g.writer.add_name("evil\x1b]0;title\x07name")  # the last general.name written wins
    g.tensor("token_embd.weight", (HIDDEN, VOCAB), Q.Q8_0)
    g.write()
    assert read_gguf(str(tmp_path / "named.gguf")).arch.name == "evil\\x1b]0;title\\x07name"
