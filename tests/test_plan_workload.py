"""One workload, sized the same way by the command line and the plan the pages ask for."""

from __future__ import annotations

import json

import pytest

from advisor import workload
from advisor.plan import plan
from catalog.catalog import load_catalog
from rigfit.cli import main
from sizing.request import EstimateRequest

CATALOG = load_catalog()
MODEL = "qwen2.5-14b"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tier_numbers(tiers):
    return [(t.tier, t.gpu_id, t.gpu_count, t.quant, t.runtime, round(t.total_usd, 2),
             round(t.decode_tokens_per_s_per_user, 6)) for t in tiers]


@pytest.fixture(scope="module")
def page_style():
    """The page passes the sidebar's prompt, new and context tokens in the request."""
    request = EstimateRequest(model=MODEL, prompt_tokens=workload.DEFAULT_PROMPT_TOKENS,
                              new_tokens=workload.DEFAULT_NEW_TOKENS,
                              context_tokens=workload.DEFAULT_CONTEXT_TOKENS)
    return plan(request, CATALOG, budget_usd=2500, users=3, quant="best")


def test_a_context_given_apart_keeps_the_prompt_and_new_tokens(page_style):
    """The command line gives the context as its own keyword; it used to fill the
    context with prompt (7,680 of 8,192 tokens), so decode ran slower than on the page."""
    cli_style = plan(EstimateRequest(model=MODEL), CATALOG, budget_usd=2500, users=3,
                     quant="best", context_tokens=workload.DEFAULT_CONTEXT_TOKENS)
    assert (cli_style.prompt_tokens, cli_style.new_tokens, cli_style.context_tokens) == (
        workload.DEFAULT_PROMPT_TOKENS, workload.DEFAULT_NEW_TOKENS,
        workload.DEFAULT_CONTEXT_TOKENS)
    assert cli_style.tiers
    assert tier_numbers(cli_style.tiers) == tier_numbers(page_style.tiers)


def test_cli_plan_json_equals_the_plan_of_the_same_workload(capsys, page_style):
    code, out, _ = run(capsys, "plan", "--model", MODEL, "--budget-usd", "2500", "--users", "3",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["prompt_tokens"], data["new_tokens"], data["context_tokens"]) == (
        page_style.prompt_tokens, page_style.new_tokens, page_style.context_tokens)
    assert [(t["tier"], t["gpu_id"], t["gpu_count"], t["quant"], t["runtime"],
             round(t["total_usd"], 2), round(t["decode_tokens_per_s_per_user"], 6))
            for t in data["tiers"]] == tier_numbers(page_style.tiers)


def test_cli_prompt_and_new_tokens_change_the_speed(capsys):
    short = json.loads(run(capsys, "plan", "--model", MODEL, "--budget-usd", "2500",
                           "--format", "json")[1])
    long = json.loads(run(capsys, "plan", "--model", MODEL, "--budget-usd", "2500",
                          "--prompt-tokens", "7000", "--new-tokens", "1000", "--format",
                          "json")[1])
    assert (long["prompt_tokens"], long["new_tokens"]) == (7000, 1000)
    assert long["cloud"][0]["decode_tokens_per_s"] != short["cloud"][0]["decode_tokens_per_s"]


def test_workload_shortens_only_what_overflows_the_context():
    kept = workload.workload_request(EstimateRequest(model=MODEL, prompt_tokens=100,
                                                     new_tokens=1000, context_tokens=1100), 2, None)
    assert (kept.prompt_tokens, kept.new_tokens, kept.context_tokens, kept.batch) == (
        100, 1000, 1100, 2)
    cut = workload.workload_request(EstimateRequest(model=MODEL), 1, 600)
    assert (cut.prompt_tokens, cut.new_tokens, cut.context_tokens) == (300, 300, 600)


@pytest.mark.parametrize("flag, value, words", [
    ("--circuit-volts", "5", "circuit voltage must be between 100 and 250 V"),
    ("--circuit-amps", "500", "circuit breaker must be between 5 and 63 A"),
    ("--electricity-usd-per-kwh", "9", "electricity price (USD/kWh) must be between 0 and 5 (got 9)"),
])
def test_out_of_range_plan_inputs_are_one_line(capsys, flag, value, words):
    code, out, err = run(capsys, "plan", "--model", MODEL, "--budget-usd", "2500", flag, value)
    assert code != 0 and not out
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_kv_cache_only_some_searched_runtimes_have_leaves_the_others_out():
    """llama.cpp's q8_0 cache with several users: vLLM (searched for them) has no such
    cache; the plan keeps to llama.cpp instead of failing on vLLM."""
    result = plan(EstimateRequest(model=MODEL, kv_cache="q8_0", context_tokens=8192), CATALOG,
                  budget_usd=2500, users=3, quant="best")
    assert result.tiers and {t.runtime for t in result.tiers} <= {"llama.cpp", "llama.cpp-vulkan"}
    assert {c.runtime for c in result.cloud} <= {"llama.cpp", "llama.cpp-vulkan"}
