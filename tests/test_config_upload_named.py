"""An uploaded or given config.json: named after the model, read back, and a context that fits.

The model is named from the config's ``_name_or_path`` (a hub id as it is, a
local path by its last part), else from the file's stem unless that is just
"config"; never from the folder the file sits in. What was read (layers,
heads, KV heads, head size, context, experts) is shown back in the CLI, its
JSON and the app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from pages._inputs import UPLOAD_KEY, read_config_upload
from pages._state import MEMO_KEY
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.request import parse_request, resolve_model

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SHAPES = {  # Llama 3 8B's shapes, without a _name_or_path
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "vocab_size": 128256, "max_position_embeddings": 8192,
}
MOE = {  # Mixtral 8x7B's shapes
    "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "vocab_size": 32000, "max_position_embeddings": 32768, "num_local_experts": 8,
    "num_experts_per_tok": 2,
}


def write(path: Path, config: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(("relative", "config", "name"), [
    ("path/to/x/config.json", SHAPES, "Custom model"),  # the folder "x" is not the model
    ("cfg/Llama.json", SHAPES, "Llama"),  # the file, not the folder "cfg"
    ("cfg/config.json", {**SHAPES, "_name_or_path": "meta-llama/Meta-Llama-3-8B"},
     "meta-llama/Meta-Llama-3-8B"),
    ("cfg/Other.json", {**SHAPES, "_name_or_path": "/srv/models/llama-3-8b-instruct/"},
     "llama-3-8b-instruct"),  # a local path: its last part
    ("cfg/Other.json", {**SHAPES, "_name_or_path": "C:\\models\\Llama-3-8B"}, "Llama-3-8B"),
    ("cfg/Other.json", {**SHAPES, "_name_or_path": ""}, "Other"),
])
def test_a_config_file_is_named_after_the_model(tmp_path, relative, config, name):
    path = write(tmp_path / relative, config)
    arch, _ = resolve_model(parse_request({"hf_config": str(path)}), load_catalog())
    assert arch.name == name
    uploaded, message = read_config_upload(path.read_bytes(), file_name=Path(relative).name)
    assert message == "" and uploaded.name == name


def test_the_cli_shows_what_it_read(tmp_path, capsys):
    path = write(tmp_path / "mixtral" / "config.json", MOE)
    assert main(["estimate", "--hf-config", str(path), "--gpu", "h100-sxm", "--format",
                 "json"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert model["name"] == "Custom model"
    assert (model["num_layers"], model["num_attention_heads"], model["num_kv_heads"],
            model["head_dim"], model["max_context_tokens"], model["num_experts"],
            model["num_experts_per_token"]) == (32, 32, 8, 128, 32768, 8, 2)
    assert main(["estimate", "--hf-config", str(path), "--gpu", "h100-sxm"]) == 0
    shape = next(line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("model shape"))
    assert shape.split(None, 2)[2] == ("32 layers, 32 heads, 8 KV heads of 128, "
                                        "max context 32,768, 8 experts (2 per token)")


# Llama 3.1 8B at 16 bits (about 15 GiB of weights) on a 12 GB card: runs with offload,
# yet no context at all fits entirely on the GPU.
OFFLOAD = {"model": "llama-3.1-8b", "quant": "f16", "gpu": "rtx-3060-12gb", "context_tokens": 8192}


def test_no_bare_none_for_the_longest_context_next_to_a_verdict_that_runs(capsys):
    result = estimate(parse_request(OFFLOAD), load_catalog())
    assert result.memory.verdict == "fits-with-offload" and result.fit.max_context_tokens == 0
    args = [f"--{k.replace('_', '-')}={v}" for k, v in OFFLOAD.items()]
    assert main(["estimate", *args]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith("max context that fits"))
    assert row.endswith("none entirely on the GPU; runs with offload")
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in OFFLOAD.items():
        at.query_params[key] = str(value)
    at.run()
    assert at.warning and at.warning[0].value.startswith("Fits only with offload")
    longest = {m.label: m.value for m in at.metric}["Longest context that fits"]
    assert longest == "none entirely on the GPU; runs with offload"


def test_the_app_shows_what_it_read_under_the_uploader():
    arch, _ = read_config_upload(json.dumps(MOE).encode(), file_name="Mixtral-8x7B.json")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.session_state[MEMO_KEY][UPLOAD_KEY] = arch
    next(r for r in at.radio if r.key.endswith("_source")).set_value("upload")
    at.run()
    assert not at.exception
    assert "Read from the file; check it against the model card." in [
        c.value for c in at.sidebar.caption]
    table = at.sidebar.dataframe[0].value
    read = dict(zip(table["Read"], table["Value"]))
    assert read["Name"] == "Mixtral-8x7B"
    assert (read["Layers"], read["Attention heads"], read["KV heads"], read["Head size"],
            read["Maximum context"], read["Experts"]) == ("32", "32", "8", "128", "32,768",
                                                          "8 (2 per token)")
    assert read["Parameters"].startswith(f"{arch.params_total / 1e9:,.2f} B (")
    assert at.subheader[0].value.startswith("Mixtral\\-8x7B on")
