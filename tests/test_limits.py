"""An input's range is defined once: the engine, the plan and the link parser agree on it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from advisor.errors import PlanError
from advisor.plan import BUDGET_USD, HOURS_PER_DAY, MIN_TOKENS_PER_S, USERS, plan
from catalog.catalog import load_catalog
from sizing.limits import Limit, field_limit, largest_passing, largest_within
from sizing.request import EstimateRequest, parse_request

NUMBER_FIELDS = ("prompt_tokens", "new_tokens", "context_tokens", "batch", "gpu_count", "images",
                 "image_width", "image_height", "memory_gib", "electricity_usd_per_kwh")


@pytest.mark.parametrize(("limit", "value", "problem"), [
    (Limit(0, 10), 0, None),
    (Limit(0, 10), 10, None),
    (Limit(0, 10), -0.001, "low"),
    (Limit(0, 10), 10.001, "high"),
    (Limit(0, 10, low_open=True), 0, "low"),
    (Limit(0, 10, low_open=True), 1e-9, None),
    (Limit(1, 256, whole=True), 2.5, "whole"),
    (Limit(1, 256, whole=True), 257, "high"),
    (Limit(0, 10), math.nan, "number"),
    (Limit(0, 10), math.inf, "number"),
    (Limit(0, 10), -math.inf, "number"),
])
def test_a_limit_names_which_end_a_value_crosses(limit, value, problem):
    assert limit.problem(value) == problem
    assert limit.contains(value) is (problem is None)


@pytest.mark.parametrize("name", NUMBER_FIELDS)
@settings(deadline=None)  # timing varies on a shared machine
@given(value=st.one_of(st.integers(-10, 20_000_000), st.floats(allow_nan=True)))
def test_a_request_fields_limit_is_what_the_request_accepts(name, value):
    limit = field_limit(EstimateRequest, name, high=math.inf)
    if limit.whole and isinstance(value, float) and math.isfinite(value):
        value = round(value)  # the request's integer fields are given whole numbers
    try:
        EstimateRequest(model="llama-3.1-8b", gpu="rtx-4090", **{name: value})
        refused = False
    except ValidationError as exc:  # the field's own bounds, not a rule across fields
        refused = any(err["loc"] == (name,) for err in exc.errors())
    assert refused is not limit.contains(value), (name, value, limit)


def test_request_limits_are_read_from_the_fields():
    assert field_limit(EstimateRequest, "batch") == Limit(1, 4096, whole=True)
    assert field_limit(EstimateRequest, "memory_gib", high=4096) == Limit(0, 4096, low_open=True)


@pytest.mark.parametrize(("options", "limit"), [
    ({"budget_usd": 0.0}, BUDGET_USD),
    ({"budget_usd": BUDGET_USD.high * 1.01}, BUDGET_USD),
    ({"users": 0}, USERS),
    ({"users": USERS.high + 1}, USERS),
    ({"min_tokens_per_s": 0.0}, MIN_TOKENS_PER_S),
    ({"hours_per_day": HOURS_PER_DAY.high + 0.5}, HOURS_PER_DAY),
    ({"hours_per_day": math.nan}, HOURS_PER_DAY),
])
def test_the_plan_refuses_exactly_what_its_limits_leave_out(options, limit):
    value = next(iter(options.values()))
    assert not limit.contains(value)
    with pytest.raises(PlanError):
        plan(parse_request({"model": "llama-3.1-8b"}), load_catalog(),
             **{"budget_usd": 2000.0, **options})


@settings(deadline=None, max_examples=300)  # timing varies on a shared machine
@given(kinks=st.lists(st.tuples(st.integers(0, 5_000), st.floats(0.0, 1e6)), max_size=4),
       slope=st.floats(0.0, 1e6), step=st.sampled_from((0.0, 1e4, 3e7)),
       budget=st.floats(-1e6, 1e10), high=st.integers(-2, 100_000))
def test_the_line_search_answers_as_the_bisection(kinks, slope, step, budget, high):
    # A nondecreasing total, piecewise linear with kinks where terms stop growing
    # (a window, a cap), plus an optional jump: a line search may guess anything.
    def total(n: int) -> float:
        return (slope * n + sum(rate * min(n, at) for at, rate in kinks)
                + (step if n > high // 3 else 0.0))

    expected = largest_passing(lambda n: total(n) <= budget, high=high)
    assert largest_within(total, budget, high=high) == expected


@pytest.mark.parametrize("over_from", [1, 2, 37, 1_000])
def test_a_total_of_nan_counts_as_over_budget(over_from):
    def total(n: int) -> float:
        return float(n) if n < over_from else math.nan

    expected = largest_passing(lambda n: total(n) <= 1e9, high=1_000)
    assert expected == over_from - 1
    assert largest_within(total, 1e9, high=1_000) == expected
