"""``rigfit finetune``: the JSON contract, the table and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import run

MEMORY_KEYS = {"weights_bytes", "trainable_params", "gradients_bytes", "optimizer_bytes",
               "activations_bytes", "overhead_bytes", "total_bytes", "usable_bytes", "fits"}


def test_json_has_the_contract_keys_and_adds_up(capsys):
    code, out, _ = run(capsys, "finetune", "--model", "llama-3.1-8b", "--method", "qlora",
                       "--gpu", "rtx-4090", "--dataset-tokens", "1e7", "--epochs", "2",
                       "--format", "json")
    result = json.loads(out)
    assert code == 0
    memory = result["memory"]
    assert MEMORY_KEYS <= set(memory)
    assert {"step_s", "tokens_per_s", "total_s"} <= set(result["time"])
    assert {"local_usd", "cloud_usd_best"} <= set(result["cost"])
    parts = ("weights_bytes", "gradients_bytes", "master_weights_bytes", "optimizer_bytes",
             "activations_bytes", "overhead_bytes")
    assert sum(memory[k] for k in parts) == pytest.approx(memory["total_bytes"])
    assert memory["usable_bytes"] == 24 * 2**30 and memory["fits"] is True
    assert memory["trainable_params"] == 41_943_040  # rank 16, all linear layers
    assert result["time"]["total_s"] == pytest.approx(2e7 / result["time"]["tokens_per_s"])
    assert result["cost"]["local_usd"] > 0 and result["cost"]["cloud_usd_best"] > 0


def test_params_b_and_sharding_flags(capsys):
    code, out, _ = run(capsys, "finetune", "--params-b", "70", "--method", "full", "--gpu",
                       "h100-sxm", "--gpu-count", "8", "--sharding", "zero3", "--optimizer",
                       "adamw-8bit", "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["gpu_count"] == 8
    # 70B x (2 weights + 2 grads + 4 master + 2 optimizer) bytes over 8 GPUs, plus activations.
    assert result["memory"]["optimizer_bytes"] == pytest.approx(70e9 * 2 / 8, rel=0.02)
    assert result["cost"]["local_usd"] is None  # no dataset: no run to price


def test_table_names_the_remedies_when_it_does_not_fit(capsys):
    code, out, _ = run(capsys, "finetune", "--model", "llama-3.1-8b", "--method", "full",
                       "--gpu", "rtx-4090")
    assert code == 0
    assert "does not fit" in out
    assert "what would make it fit" in out and "QLoRA" in out


@pytest.mark.parametrize("argv, message", [
    (("--model", "llama-3.1-8b", "--method", "lora", "--gpu", "rtx-4090", "--lora-rank", "0"),
     "lora_rank"),
    (("--model", "llama-3.1-8b", "--method", "lora", "--gpu", "no-such-gpu"), "no-such-gpu"),
    (("--model", "llama-3.1-8b", "--method", "lora", "--gpu", "rtx-4090", "--offload",
      "parameters"), "offload"),
    (("--model", "llama-3.1-8b", "--method", "prefix", "--gpu", "rtx-4090"), "method"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "finetune", *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_region_prices_the_run_and_the_table_shows_the_currency(capsys):
    from advisor.region import region_terms
    from catalog.catalog import load_catalog
    from report.formats import usd_in_currency_text

    flags = ("finetune", "--model", "llama-3.1-8b", "--method", "qlora", "--gpu", "rtx-4090",
             "--dataset-tokens", "1e7")
    terms = region_terms(load_catalog().market, region_id="germany")
    _, us, _ = run(capsys, *flags, "--format", "json")
    code, out, _ = run(capsys, *flags, "--region", "germany", "--format", "json")
    cost, home = json.loads(out)["cost"], json.loads(us)["cost"]
    assert code == 0
    # The same energy at the German household price instead of the US one.
    assert cost["energy_kwh"] == pytest.approx(home["energy_kwh"])
    assert cost["local_usd"] == pytest.approx(cost["energy_kwh"] * terms.electricity_usd_per_kwh)
    assert cost["local_usd"] != pytest.approx(home["local_usd"])
    code, out, _ = run(capsys, *flags, "--region", "germany")
    line = next(x for x in out.splitlines() if x.startswith("local cost"))
    assert usd_in_currency_text(cost["local_usd"], "EUR", terms.units_per_usd, digits=2) in line
