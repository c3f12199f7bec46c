"""The range an input may take, defined once and read by the engine and every front end.

A :class:`Limit` is the engine's own bound on one input (a count of users, a
budget, a number of tokens). The engine refuses a value outside it; the app's
link parser and widgets read the same object, so a link can never carry a value
the engine would refuse, and the message names which end was crossed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

Problem = Literal["number", "whole", "low", "high"]


@dataclass(frozen=True)
class Limit:
    """Values from ``low`` to ``high``; ``low`` itself is refused when ``low_open``."""

    low: float
    high: float
    low_open: bool = False  # "above 0": a budget or a speed of 0 means nothing
    whole: bool = False  # a count: whole numbers only

    def problem(self, value: float) -> Problem | None:
        """Why ``value`` is refused, or None: "number" (not finite), "whole", "low" or "high".

        >>> Limit(0, 10, low_open=True).problem(0)
        'low'
        >>> Limit(1, 256, whole=True).problem(2.5)
        'whole'
        """
        try:
            if not math.isfinite(value):
                return "number"
        except OverflowError:  # a whole number past any float: far out of range
            return "high" if value > 0 else "low"
        if self.whole and value != int(value):
            return "whole"
        if value < self.low or (self.low_open and value == self.low):
            return "low"
        if value > self.high:
            return "high"
        return None

    def contains(self, value: float) -> bool:
        """Whether the engine takes ``value``."""
        return self.problem(value) is None


def field_limit(model: type[BaseModel], name: str, *, high: float | None = None) -> Limit:
    """The bounds pydantic checks on ``model``'s field ``name`` (its ge/gt and le/lt).

    ``high`` stands in for a field with no upper bound of its own. Integer
    fields give whole-number limits.
    """
    field = model.model_fields[name]
    low, low_open, top = -math.inf, False, math.inf
    for bound in field.metadata:
        if isinstance(bound, Ge):
            low = float(bound.ge)
        elif isinstance(bound, Gt):
            low, low_open = float(bound.gt), True
        elif isinstance(bound, Le):
            top = float(bound.le)
        elif isinstance(bound, Lt):
            top = math.nextafter(float(bound.lt), -math.inf)
    if high is not None and not math.isfinite(top):
        top = high
    whole = field.annotation is int or field.annotation == (int | None)
    return Limit(low, top, low_open=low_open, whole=whole)


__all__ = ["Limit", "Problem", "field_limit"]


def largest_passing(ok: Callable[[int], bool], *, high: int) -> int:
    """The largest n in 1..``high`` with ``ok(n)``, for an ``ok`` that only turns false
    as n grows (0 when even 1 fails).

    Doubles from 1 until ``ok`` fails, then bisects: the checks stay near the
    answer, where a large n would cost more to check than the answer itself.

    >>> largest_passing(lambda n: n <= 37, high=1000), largest_passing(lambda n: n < 1, high=9)
    (37, 0)
    >>> largest_passing(lambda n: True, high=64)
    64
    """
    if high < 1 or not ok(1):
        return 0
    low, step = 1, 2
    while step < high and ok(step):
        low, step = step, step * 2
    top = min(step, high)
    if top == high and ok(high):
        return high
    while top - low > 1:
        mid = (low + top) // 2
        if ok(mid):
            low = mid
        else:
            top = mid
    return low


# Line steps :func:`largest_within` takes before it bisects what is left: one per
# kink of a piecewise-linear total (a sliding window, a prompt or micro-batch cap)
# and one or two for rounding, with room to spare.
LINE_STEPS = 6


def largest_within(total: Callable[[int], float], budget: float, *, high: int) -> int:
    """The largest n in 1..``high`` with ``total(n) <= budget``, for a ``total`` that
    never falls as n grows (0 when even 1 is over).

    The answer of ``largest_passing(lambda n: total(n) <= budget, high=high)``
    in fewer calls when ``total`` is piecewise linear, as memory is in context:
    each step reads a pair of neighbours n, n + 1 (the answer when the first is
    within and the second over), and the line through them gives the next n
    where it meets ``budget`` (a flat pair: the middle of the range left). On a
    straight stretch that is the answer; the pairs only ever narrow the range
    the answer lies in, so the result is the search's whatever the guesses, and
    after ``LINE_STEPS`` pairs the rest is bisected.

    >>> largest_within(lambda n: 3.0 * n + 10.0, 1000.0, high=10_000)
    330
    >>> largest_within(lambda n: 5.0 * min(n, 40) + n, 300.0, high=10_000)
    100
    >>> largest_within(lambda n: n, 0.5, high=9), largest_within(lambda n: n, 64.0, high=64)
    (0, 64)
    """
    if high < 1:
        return 0
    seen: dict[int, float] = {}

    def at(n: int) -> float:
        if n not in seen:
            seen[n] = total(n)
        return seen[n]

    if at(high) <= budget:
        return high
    low, top = 0, high  # at(low) <= budget < at(top); low 0: none is within
    n = high - 1  # the first pair is the slope at the top
    for _ in range(LINE_STEPS):
        if top - low <= 1:
            return low
        n = min(max(n, low, 1), top - 1)
        below = at(n)
        # "Within" is total <= budget, as in the bisection: a total of NaN is over.
        if not below <= budget and n == low + 1:
            return low  # no need of the pair's slope
        above = at(n + 1)
        if not below <= budget:
            top = n
        elif above <= budget:
            low = n + 1
        else:
            return n
        slope = above - below
        # Where the line meets the budget; a flat pair has no line: halve the range.
        n = n + math.floor((budget - below) / slope) if slope > 0 else (low + top) // 2
    while top - low > 1:
        mid = (low + top) // 2
        if at(mid) <= budget:
            low = mid
        else:
            top = mid
    return low
