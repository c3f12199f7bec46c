"""A plan sized by a service level: every build it picks serves the users within the targets."""

from __future__ import annotations

import json

import pytest

from advisor.plan import plan
from catalog.catalog import load_catalog
from rigfit.cli import main
from sizing.capacity import ServeSettings, load_at, within_targets
from sizing.request import parse_request
from sizing.speculative import default_speculation

WORKLOAD = {"model": "llama-3.1-8b", "prompt_tokens": 512, "new_tokens": 512}
USERS = 20
SERVICE = ServeSettings(users=USERS, ttft_p95_s=2.0, itl_p95_ms=100.0)


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def served(cat, build) -> bool:
    request = parse_request({**WORKLOAD, "context_tokens": 8192, "gpu": build.gpu_id,
                             "gpu_count": build.gpu_count, "quant": build.quant,
                             "runtime": build.runtime, "split": build.split})
    return within_targets(load_at(request, SERVICE, cat), SERVICE)


@pytest.fixture(scope="module")
def plans(cat):
    request = parse_request(WORKLOAD)
    common = {"budget_usd": 4000, "users": USERS, "quant": "best"}
    return plan(request, cat, **common), plan(request, cat, service=SERVICE, **common)


def test_every_tier_of_a_service_plan_meets_the_service_level(cat, plans):
    _, sized = plans
    assert sized.service is not None and sized.service.users == USERS
    assert len(sized.tiers) == 3
    for tier in sized.tiers:
        assert tier.meets_workload and served(cat, tier), tier.tier


def test_the_per_user_speed_alone_picks_a_build_that_misses_it(cat, plans):
    """By speed alone a llama.cpp build with 4 slots passes; 20 users then queue for them."""
    by_speed, sized = plans
    missing = [t for t in by_speed.tiers if not served(cat, t)]
    assert missing, "every speed-sized build already meets the service level"
    assert {(t.gpu_id, t.runtime) for t in missing}.isdisjoint(
        {(t.gpu_id, t.runtime) for t in sized.tiers})


def test_speculation_the_advisor_may_use(cat):
    assert default_speculation(cat.model("glm-4.5-air"), cat).method == "mtp"
    assert default_speculation(cat.model("llama-3.1-70b"), cat).draft_model == "llama-3.2-1b"
    assert default_speculation(cat.model("qwen3-32b"), cat).draft_model == "qwen3-0.6b"
    assert default_speculation(cat.model("mistral-7b-v0.3"), cat) is None


def test_plan_cli_sizes_by_the_service_level(capsys):
    argv = ["plan", "--model", "llama-3.1-8b", "--users", "20", "--budget-usd", "4000",
            "--ttft-p95-s", "2", "--itl-p95-ms", "100", "--speculative", "allow"]
    assert main([*argv, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["service"]["ttft_p95_s"] == 2 and out["service"]["itl_p95_ms"] == 100
    assert out["service"]["users"] == 20 and out["speculative_allowed"] is True
    assert main(["plan", "--model", "llama-3.1-8b", "--budget-usd", "4000",
                 "--itl-p95-ms", "-5"]) == 2
    assert "itl_p95_ms" in capsys.readouterr().err


def test_cloud_table_names_the_service_level(capsys):
    assert main(["cloud", "--model", "llama-3.1-8b", "--users", "30", "--ttft-p95-s", "1",
                 "--itl-p95-ms", "50"]) == 0
    text = capsys.readouterr().out
    assert "service level: p95 time to first token <= 1 s, p95 inter-token latency <= 50 ms " \
           "for 30 users" in text
