"""The plan's screen (advisor/candidates.py) decides as the full estimate of every rung would.

The screen sizes a fitting configuration with the engine's memory and speed
alone and the uncapped decode draw; the full estimate runs only for the builds
a plan shows. Both tests below compare it with the exhaustive search (a full
estimate for every rung that fits, ``screen=False``): figure by figure, and
whole plans over models x budgets x users.
"""

from __future__ import annotations

import functools

import pytest

import advisor.plan as plan_module
from advisor.candidates import CandidateSearch, Figures, quant_ladder
from advisor.plan import plan
from advisor.workload import workload_request
from catalog.catalog import load_catalog
from catalog.errors import UserError
from sizing.request import EstimateRequest

CATALOG = load_catalog()
GPUS = ("rtx-3060-12gb", "rtx-4090", "rx-7900-xtx", "arc-b580", "rtx-pro-6000-blackwell",
        "apple-m4-max-40c", "h100-sxm")


def figures_row(figures: Figures) -> tuple:
    """Every number a choice and a build take from a candidate's figures."""
    s, m = figures.speed, figures.memory
    speed = (None if s is None else
             (s.decode_tokens_per_s, s.decode_tokens_per_s_low, s.decode_tokens_per_s_high,
              s.decode_tokens_per_s_per_sequence, s.prefill_tokens_per_s, s.ttft_s))
    return (speed, m.fits, m.total_bytes, m.usable_bytes, m.headroom_bytes, m.file_bytes,
            figures.gpu_power_w, figures.system_power_w)


@pytest.mark.parametrize(("model", "users", "min_tokens_per_s"), [
    ("llama-3.1-8b", 1, 10.0), ("qwen2.5-14b", 8, 30.0), ("llama-3.1-70b", 4, 10.0),
    ("qwen3-30b-a3b", 16, 20.0)])
def test_the_screen_gives_the_full_estimate_s_figures(model, users, min_tokens_per_s):
    base = workload_request(EstimateRequest(model=model), users, 8192)
    arch = CATALOG.model(model)
    ladder = quant_ladder("best", base.runtime, users, CATALOG)
    fast = CandidateSearch(CATALOG, arch, base, ladder=ladder, min_tokens_per_s=min_tokens_per_s)
    full = CandidateSearch(CATALOG, arch, base, ladder=ladder, min_tokens_per_s=min_tokens_per_s,
                           screen=False)
    compared = 0
    for gpu_id in GPUS:
        for count in (1,) if CATALOG.gpu(gpu_id).form_factor == "soc" else (1, 2, 4):
            screened, estimated = fast.best(gpu_id, count), full.best(gpu_id, count)
            assert (screened is None) == (estimated is None), (gpu_id, count)
            if screened is None:
                continue
            assert not screened.figures.explained and estimated.figures.explained
            assert (screened.quant, screened.runtime, screened.meets_workload) == (
                estimated.quant, estimated.runtime, estimated.meets_workload), (gpu_id, count)
            assert figures_row(screened.figures) == figures_row(estimated.figures), (gpu_id, count)
            # Explaining a screened candidate gives the exhaustive search's figures and warnings.
            assert fast.explained(screened).figures == estimated.figures
            compared += 1
    assert compared >= 8
    assert fast.runs == full.runs  # the same rungs were sized


def exhaustive(monkeypatch) -> None:
    monkeypatch.setattr(plan_module, "CandidateSearch",
                        functools.partial(CandidateSearch, screen=False))


def plan_or_error(model: str, budget_usd: float | None, users: int, min_tokens_per_s: float):
    try:
        return plan(EstimateRequest(model=model), CATALOG, budget_usd=budget_usd, users=users,
                    quant="best", context_tokens=8192, min_tokens_per_s=min_tokens_per_s)
    except UserError as exc:
        return exc.code, str(exc)


CASES = [(model, budget, users, tps)
         for model in ("llama-3.1-8b", "qwen2.5-14b", "qwen3-30b-a3b", "llama-3.1-70b")
         for budget, users, tps in ((900.0, 1, 10.0), (3000.0, 4, 25.0), (12000.0, 16, 15.0))]


def test_screened_plans_are_the_exhaustive_plans(monkeypatch):
    fast = [plan_or_error(*case) for case in CASES]
    exhaustive(monkeypatch)
    slow = [plan_or_error(*case) for case in CASES]
    tiers = 0
    for case, got, expected in zip(CASES, fast, slow):
        assert got == expected, case  # every field: tiers, their parts, figures, cloud, headline
        tiers += 0 if isinstance(got, tuple) else len(got.tiers)
    assert tiers >= 20  # most cases propose builds


def test_shown_builds_carry_the_full_estimate_s_warnings():
    result = plan(EstimateRequest(model="qwen2.5-14b"), CATALOG, budget_usd=5000.0, users=8,
                  quant="best", context_tokens=8192)
    # vLLM on AMD runs on priors, which only the full estimate says.
    warned = [t for t in result.tiers if any(w.code == "speed_priors" for w in t.warnings)]
    assert warned, [(t.gpu_id, t.runtime) for t in result.tiers]
