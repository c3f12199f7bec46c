"""The command line: JSON shapes, errors, JSONL batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.cli import main
from rigfit.script import GC_THRESHOLDS, PLUGINS_ENV, PLUGINS_OFF

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_gpus_json_has_required_fields(capsys):
    code, out, _ = run(capsys, "gpus", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 60
    rtx4090 = next(r for r in rows if r["id"] == "rtx-4090")
    assert rtx4090["memory_bytes"] == 24 * 2**30
    assert rtx4090["memory_bandwidth_gb_per_s"] == pytest.approx(1008, rel=0.01)
    assert {"id", "name", "vendor", "board_power_w"} <= set(rtx4090)


def test_models_json(capsys):
    code, out, _ = run(capsys, "models", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 30
    moe = next(r for r in rows if r["id"] == "qwen3-30b-a3b")
    assert moe["params_active"] < moe["params_total"] / 5


def test_estimate_json_memory_section(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3-8b", "--quant", "q4_k_m",
                       "--gpu", "rtx-3060-12gb", "--context-tokens", "8192", "--format", "json")
    result = json.loads(out)
    mem = result["memory"]
    assert code == 0 and mem["fits"] is True and mem["offloaded_bytes"] == 0
    assert mem["kv_cache_bytes"] == 2**30
    assert mem["total_bytes"] == pytest.approx(
        mem["weights_bytes"] + mem["kv_cache_bytes"] + mem["activations_bytes"]
        + mem["overhead_bytes"])
    assert mem["usable_bytes"] == 12 * 2**30


def test_params_b_warns_about_assumed_architecture(capsys):
    code, out, _ = run(capsys, "estimate", "--params-b", "14", "--gpu", "rtx-4090",
                       "--format", "json")
    result = json.loads(out)
    assert code == 0 and any("typical dense 14B" in w["text"] for w in result["warnings"])


def test_hf_config_path(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"hidden_size": 4096, "intermediate_size": 14336,
                                "num_attention_heads": 32, "num_hidden_layers": 32,
                                "num_key_value_heads": 8, "vocab_size": 128256}))
    code, out, _ = run(capsys, "estimate", "--hf-config", str(path), "--gpu", "rtx-4090",
                       "--format", "json")
    assert code == 0 and json.loads(out)["memory"]["fits"]


@pytest.mark.parametrize("argv,needle", [
    (["estimate", "--model", "llama3-8b", "--gpu", "rtx-4090"], "closest: llama-3-8b"),
    (["estimate", "--model", "llama-3-8b", "--gpu", "rtx4090"], "closest: rtx-4090"),
    (["estimate", "--model", "llama-3-8b", "--quant", "q4km"], "closest: q4_k_m"),
    (["estimate", "--model", "llama-3-8b", "--prompt-tokens", "-5"], "prompt_tokens"),
    (["estimate", "--model", "llama-3-8b", "--prompt-tokens", "0", "--new-tokens", "0"],
     "nothing to run"),
    (["estimate", "--model", "llama-3-8b", "--gpu", "rtx-4090", "--runtime", "mlx"],
     "does not run on NVIDIA"),
    (["estimate", "--model", "llama-3-8b", "--runtime", "vllm", "--quant", "q4_k_m"],
     "cannot run quant"),
    (["estimate", "--params-b", "1000000"], "outside"),
    (["estimate", "--model", "llama-3-8b", "--hf-config", "x.json"], "exactly one"),
    (["estimate", "--hf-config", "/nonexistent/config.json"], "cannot read"),
    (["estimate", "--model", "qwen3-embedding-0.6b", "--prompt-tokens", "0"],
     "Qwen3-Embedding 0.6B is an encoder-only embedding model: it encodes a prompt"),
    (["bogus"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_context_beyond_model_maximum_warns(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-2-7b", "--context-tokens", "16384",
                       "--format", "json")
    assert code == 0 and any("beyond the model's maximum" in w["text"] for w in json.loads(out)["warnings"])


def test_requests_jsonl_keeps_order_and_survives_bad_lines(tmp_path, capsys):
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join([
        json.dumps({"model": "llama-3-8b", "gpu": "rtx-4090", "quant": "q8_0"}),
        "{not json",
        json.dumps({"model": "nope", "gpu": "rtx-4090"}),
        json.dumps({"params_b": 70, "gpu": "h100-sxm", "gpu_count": 2, "quant": "f16"}),
    ]))
    code, out, _ = run(capsys, "estimate", "--requests", str(path), "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4
    assert lines[0]["quant"] == "q8_0" and "error" in lines[1] and "unknown model" in lines[2]["error"]
    assert lines[3]["gpu_count"] == 2 and lines[3]["memory"]["fits"]


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "sizing", "estimate", "--model", "nope"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_estimate_json_has_speed_power_thermal_load_system(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-3090",
                       "--batch", "4", "--ram", "ddr5-6000x2", "--ambient-c", "30",
                       "--storage", "sata-ssd", "--electricity-usd-per-kwh", "0.30",
                       "--format", "json")
    r = json.loads(out)
    assert code == 0
    for key in ("decode_tokens_per_s", "decode_tokens_per_s_low", "decode_tokens_per_s_high",
                "prefill_tokens_per_s", "prefill_tokens_per_s_low", "prefill_tokens_per_s_high",
                "ttft_s", "total_time_s", "decode_tokens_per_s_per_sequence"):
        assert r["speed"][key] > 0
    assert r["speed"]["decode_tokens_per_s_per_sequence"] < r["speed"]["decode_tokens_per_s"]
    for key in ("gpu_power_w", "system_power_w", "psu_recommended_w", "energy_wh_per_1k_tokens",
                "cost_usd_per_1m_tokens"):
        assert r["power"][key] > 0
    assert r["power"]["gpu_power_w"] <= 350  # RTX 3090 board power
    assert r["thermal"]["throttle_risk"] in ("low", "medium", "high")
    assert r["thermal"]["gpu_temp_c"] > 30 and r["thermal"]["heat_btu_per_hour"] > 0
    # 8.03e9 x Q4_K_M file / 0.55 GB/s SATA SSD
    assert r["load"]["load_time_s"] == pytest.approx(4.918e9 / 0.55e9, rel=0.02)
    assert r["system"]["ram_recommended_bytes"] >= 16 * 2**30


def test_power_limit_slows_decode_and_caps_power(capsys):
    _, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-3090",
                    "--quant", "f16", "--format", "json")
    _, capped, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-3090",
                       "--quant", "f16", "--power-limit-w", "150", "--format", "json")
    a, b = json.loads(out), json.loads(capped)
    assert b["power"]["gpu_power_w"] <= 150
    assert b["speed"]["decode_tokens_per_s"] < a["speed"]["decode_tokens_per_s"]


@pytest.mark.parametrize("argv,needle", [
    (["--ambient-c", "55"], "between 0 and 50"),
    (["--ambient-c", "-5"], "between 0 and 50"),
    (["--power-limit-w", "1000"], "outside what the NVIDIA GeForce RTX 4090 allows"),
    (["--cooler", "ice"], "valid ids: dual-fan"),
    (["--storage", "tape"], "valid ids: nvme-gen5"),
    (["--interconnect", "carrier-pigeon"], "unknown interconnect"),
    (["--electricity-usd-per-kwh", "-1"], "electricity_usd_per_kwh"),
])
def test_box_bad_input(capsys, argv, needle):
    code, _, err = run(capsys, "estimate", "--model", "llama-3-8b", "--gpu", "rtx-4090", *argv)
    assert code == 2 and needle in err and "Traceback" not in err


def test_estimate_reports_max_context_and_best_quant(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-4090",
                       "--context-tokens", "4096", "--format", "json")
    fit = json.loads(out)["fit"]
    assert code == 0 and fit["max_context_tokens"] == 0  # Q4_K_M 70B never fits 24 GB
    assert fit["best_quant"] in ("iq2_xxs", "iq2_xs", "iq1_m", "iq1_s", "q2_k_s", "iq2_s")


def test_warnings_carry_codes_and_parameters_for_translation(capsys):
    code, out, _ = run(capsys, "estimate", "--params-b", "70", "--gpu", "rtx-4090",
                       "--context-tokens", "8192", "--format", "json")
    r = json.loads(out)
    codes = [n["code"] for n in r["warnings"]]
    assert code == 0 and codes[:2] == ["bare_size_assumed", "offloaded"]
    assert set(r["warnings"][0]) == {"code", "params", "text"} and "notices" not in r
    assert r["warnings"][0]["params"]["layers"] == 80
    assert "80 layers" in r["warnings"][0]["text"] or "80" in r["warnings"][0]["text"]


def test_a_chinese_jsonl_run_says_each_bad_line_in_chinese(capsys, tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join([json.dumps({"model": "llama-3-8b", "gpu": "rtx-4090"}).encode(),
                                 b"[1]", b"\xff", json.dumps({"model": "nope"}).encode()]))
    code, out, _ = run(capsys, "--lang", "zh", "estimate", "--requests", str(path), "--format",
                       "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4 and lines[0]["memory"]["fits"]
    assert lines[1] == {"error": "第 2 行：每一行都必须是一个 JSON 对象", "code": "line_not_object"}
    assert lines[2] == {"error": "第 3 行：不是 UTF-8 文本（第 1 字节）", "code": "not_utf8"}
    assert lines[3]["error"].startswith("第 4 行：") and lines[3]["code"] != "text"
    english = run(capsys, "estimate", "--requests", str(path), "--format", "jsonl")[1]
    assert json.loads(english.splitlines()[1]) == {"error": "line 2: each line must be a JSON object",
                                                   "code": "line_not_object"}


CONSOLE = ("import atexit, sys; from rigfit.cli import console; "
           "atexit.register(lambda: open(sys.argv[1], 'w').write('ran')); console(sys.argv[2:])")


def test_the_script_flushes_its_output_runs_exit_handlers_and_keeps_its_status(tmp_path):
    from catalog.catalog import load_catalog

    marker = tmp_path / "exit-handler"
    done = subprocess.run([sys.executable, "-c", CONSOLE, str(marker), "gpus", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0
    assert [g["id"] for g in json.loads(done.stdout)] == [g.id for g in load_catalog().gpus]
    assert marker.read_text(encoding="utf-8") == "ran"
    marker.unlink()
    bad = subprocess.run([sys.executable, "-c", CONSOLE, str(marker), "estimate", "--model", "nope"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1 and "nope" in bad.stderr
    assert marker.read_text(encoding="utf-8") == "ran"


def script_exit_words(printed: str, *, variable: str, given: str | None) -> list[str]:
    """The words ``rigfit gpus --format json`` run through :mod:`rigfit.script` ends with,
    with the environment ``variable`` unset (``given`` None) or set to ``given``: the
    Python expressions ``printed`` (os, sys and gc imported), evaluated at exit."""
    import os

    env = {k: v for k, v in os.environ.items() if k != variable}
    if given is not None:
        env[variable] = given
    probe = ("import atexit, gc, os, sys, rigfit.script; "
             f"atexit.register(lambda: print({printed})); rigfit.script.run()")
    done = subprocess.run([sys.executable, "-c", probe, "gpus", "--format", "json"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, env=env)
    assert done.returncode == 0
    return done.stdout.split()


@pytest.mark.parametrize("given, expected", [(None, "1"), ("4", "4")])
def test_the_script_sets_blas_threads_unless_told_and_collects_garbage_less_often(given, expected):
    words = script_exit_words("os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules, "
                              "gc.get_threshold()[0]", variable="OPENBLAS_NUM_THREADS", given=given)
    assert words[-3:] == [expected, "False", str(GC_THRESHOLDS[0])]  # before numpy


@pytest.mark.parametrize("given, searched", [(None, False), ("", True), ("some-plugin", True)])
def test_the_script_searches_for_pydantic_plugins_only_when_told(given, searched):
    # Listing the GPUs builds a validator (the catalog's), which asks pydantic for plugins.
    words = script_exit_words("'importlib.metadata' in sys.modules, 'pydantic_core' in sys.modules",
                              variable=PLUGINS_ENV, given=given)
    assert words[-2:] == [str(searched), "True"]


def test_pydantic_takes_only_get_plugins_from_its_loader_and_none_when_turned_off(monkeypatch):
    import inspect
    import re

    from pydantic.plugin import _loader, _schema_validator

    # The script's stand-in loader holds get_plugins alone: pydantic must ask for no more.
    assert re.findall(r"_loader import (.+)", inspect.getsource(_schema_validator)) == ["get_plugins"]
    for value in PLUGINS_OFF:
        monkeypatch.setenv(PLUGINS_ENV, value)
        assert tuple(_loader.get_plugins()) == ()
