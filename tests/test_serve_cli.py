"""``rigfit serve``: the JSON contract, the table and one-line errors."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import main

SERVE = ["serve", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--users", "20", "--preset", "chat",
         "--ttft-p95-s", "2", "--itl-p95-ms", "100"]


def test_json_carries_the_contract_keys(capsys):
    assert main([*SERVE, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("max_users_at_target", "throughput_tokens_per_s", "ttft_p95_s", "itl_p95_ms",
                "limiter", "curve"):
        assert key in out
    assert out["runtime"] == "vllm" and out["quant"] == "bf16"  # a team's server by default
    assert (out["prompt_tokens"], out["new_tokens"]) == (512, 512)  # the chat preset
    assert out["limiter"] in ("kv_pool", "slots", "compute", "bandwidth")
    assert out["max_users_at_target"] >= 20 and out["meets_target"] is True
    point = out["curve"][0]
    assert set(point) == {"concurrency", "throughput_tokens_per_s", "ttft_p95_s", "itl_p95_ms"}
    assert [p["concurrency"] for p in out["curve"]][:3] == [1, 2, 4]


def test_explicit_lengths_runtime_and_slots(capsys):
    assert main(["serve", "--model", "llama-3.1-8b", "--gpu", "rtx-3090", "--runtime", "llama.cpp",
                 "--quant", "q4_k_m", "--users", "6", "--prompt-tokens", "1000", "--new-tokens",
                 "200", "--parallel", "2", "--think-time-s", "0", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["max_running_requests"] == 2 and out["scheduler"] == "slots"
    assert out["limiter"] == "slots"
    assert (out["prompt_tokens"], out["new_tokens"]) == (1000, 200)


def test_table_names_the_users_at_target(capsys):
    assert main(SERVE) == 0
    text = capsys.readouterr().out
    assert "users at the target" in text and "in flight" in text


def test_speculative_flags(capsys):
    assert main([*SERVE, "--speculative", "draft", "--draft-model", "llama-3.2-1b",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["speculative"]["draft_model_id"] == "llama-3.2-1b"
    assert out["speculative"]["speedups"][0]["speedup"] > 1.0


@pytest.mark.parametrize("argv, words", [
    (["--users", "0"], "users"),
    (["--prefix-hit-frac", "1.5"], "prefix_hit_frac"),
    (["--runtime", "transformers", "--quant", "f16"], "serving is modelled"),
    (["--speculative", "mtp"], "multi-token-prediction"),
    (["--model", "qwen3-embedding-0.6b"], "is an encoder-only embedding model: it generates nothing"),
    (["--model", "qwen3-reranker-8b"], "reranking model: it generates nothing"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    base = [a for a in SERVE if a not in ("--users", "20")] if "--users" in argv else SERVE
    assert main([*base, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and words in err


def test_requests_per_minute_in_json(capsys):
    assert main([*SERVE, "--requests-per-minute", "60", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests_per_minute"] == 60 and out["max_requests_per_minute_at_target"] > 60


def test_region_prices_the_electricity_and_the_currency_shows_the_cost(capsys):
    from advisor.region import region_terms
    from catalog.catalog import load_catalog

    terms = region_terms(load_catalog().market, region_id="germany")
    assert main([*SERVE, "--region", "germany", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["usd_per_kwh"] == pytest.approx(terms.electricity_usd_per_kwh)
    assert main([*SERVE, "--region", "germany"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("cost "))
    assert line.startswith("cost €") and "/kWh" in line and "USD/kWh" not in line
    # A typed price is in --currency: 0.50 CNY/kWh at the catalog's rate.
    cny = region_terms(load_catalog().market, currency="CNY", kwh_price=0.5)
    assert main([*SERVE, "--currency", "CNY", "--electricity-price", "0.5", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["usd_per_kwh"] == pytest.approx(
        cny.electricity_usd_per_kwh)
    assert main([*SERVE, "--region", "atlantis"]) == 2
    assert "unknown region 'atlantis'" in capsys.readouterr().err
