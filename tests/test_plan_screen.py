"""advisor/plan.py with the screened search: the same plans as the exhaustive one.

The screen (advisor/candidates.py, compared figure by figure in
tests/test_candidates.py) sizes a fitting configuration with the engine's
memory and speed alone and the uncapped decode draw; the full estimate runs
only for the builds a plan shows. Here whole plans over models x budgets x
users are compared with the exhaustive search (a full estimate for every rung
that fits, ``screen=False``).
"""

from __future__ import annotations

import functools

import advisor.plan as plan_module
from advisor.candidates import CandidateSearch
from advisor.plan import plan
from catalog.catalog import load_catalog
from catalog.errors import UserError
from sizing.request import EstimateRequest

CATALOG = load_catalog()


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
