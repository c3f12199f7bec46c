"""Charts for a purchase plan (:func:`advisor.plan.plan`).

Pure functions, plan in and chart out, shared by the app pages and the
HTML/PDF reports: ``*_spec`` gives the chart as a Plotly JSON spec (a plain
dict, :mod:`report.chart_spec`), ``*_figure`` the same as a Plotly figure.
Charts name ``template="plotly_white"`` and a CJK-capable font (importing
Streamlit swaps Plotly's default template for one with placeholder colours).
Text on the
figures comes in through ``labels`` (already translated, from the string
catalog's ``plan_chart.`` group); the default is that group in English.

Money on the figures is in the plan's currency: US dollars from the engine
times ``units_per_usd``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.results import CloudOption, PlanResult, TierBuild
from report.chart_spec import Spec, axis_title, figure, hline, vline
from report.formats import money_text
from report.text import group_strings

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, sans-serif"
TIER_COLOURS = {"budget": "#54A24B", "balanced": "#4C78A8", "workstation": "#B279A2",
                "within_budget": "#9D755D", "consumer": "#F58518", "professional": "#72B7B2"}
CLOUD_COLOURS = ("#E45756", "#FF9DA6", "#EECA3B")
CROSSING_COLOUR = "#222222"
# Break-even chart span: at least a year, at most ten, past the last crossing.
MIN_HORIZON_MONTHS = 12
MAX_HORIZON_MONTHS = 120
HORIZON_MARGIN_FRAC = 0.25
DEFAULT_HORIZON_MONTHS = 36

EN_LABELS: dict[str, str] = group_strings("plan_chart.", "en")


def _label(labels: Mapping[str, str] | None, key: str, **values: object) -> str:
    text = (labels or {}).get(key) or EN_LABELS[key]
    return text.format(**values) if values else text


# The legend to the right of the plot, top-aligned: below the plot it sat a fixed share
# of the plot's height down and ran into the x-axis title of short or tall charts;
# beside it, Plotly widens the right margin to fit it and nothing else is there.
LEGEND_BESIDE = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top"}


def _figure(*, title: str, height: int) -> Spec:
    return figure(title={"text": title, "x": 0.01}, font={"family": FONT, "size": 13},
                  height=height, margin={"l": 10, "r": 20, "t": 60, "b": 10},
                  legend={**LEGEND_BESIDE})


def _plotly(spec: Spec | None) -> go.Figure | None:
    if spec is None:
        return None
    import plotly.graph_objects as go  # only the app's pages pay for Plotly

    return go.Figure(spec)


# --------------------------------------------------------------------------- builds


def build_key(b: TierBuild) -> tuple:
    """What makes two builds the same machine."""
    return (b.gpu_id, b.gpu_count, b.gpu_used, b.quant, b.runtime, round(b.total_usd, 2))


@dataclass(frozen=True)
class ValuePoint:
    """One distinct build on the price-vs-speed chart."""

    roles: tuple[str, ...]  # "budget", "balanced", "workstation", "within_budget", ...
    build: TierBuild
    price: float  # in the plan's currency
    tokens_per_s_per_user: float  # an encoder: input tokens embedded per second (prefill)
    low_tokens_per_s_per_user: float | None
    high_tokens_per_s_per_user: float | None


def per_user_band(b: TierBuild) -> tuple[float | None, float | None]:
    """Decode speed band per user. [tokens/s]

    The engine's band is for the aggregate; with several users it is scaled by
    the per-user share.
    """
    per_user, total = b.decode_tokens_per_s_per_user, b.decode_tokens_per_s
    if not per_user or not total or b.decode_tokens_per_s_low is None \
            or b.decode_tokens_per_s_high is None:
        return None, None
    share = per_user / total
    return b.decode_tokens_per_s_low * share, b.decode_tokens_per_s_high * share


def value_points(result: PlanResult) -> list[ValuePoint]:
    """The distinct builds a plan evaluated and reports, with their roles."""
    found: dict[tuple, tuple[list[str], TierBuild]] = {}
    named: list[tuple[str, TierBuild | None]] = [(t.tier, t) for t in result.tiers]
    named += [("within_budget", result.within_budget_best),
              ("consumer", result.consumer_vs_pro.consumer),
              ("professional", result.consumer_vs_pro.professional)]
    def speed(b: TierBuild) -> float | None:  # an encoder generates nothing: its prefill
        return b.decode_tokens_per_s_per_user if b.task == "generate" else b.prefill_tokens_per_s

    for role, b in named:
        if b is None or not speed(b):
            continue
        roles, _ = found.setdefault(build_key(b), ([], b))
        roles.append(role)
    points = []
    for roles, b in found.values():
        low, high = per_user_band(b)
        points.append(ValuePoint(roles=tuple(roles), build=b,
                                 price=b.total_usd * result.units_per_usd,
                                 tokens_per_s_per_user=speed(b) or 0.0,
                                 low_tokens_per_s_per_user=low,
                                 high_tokens_per_s_per_user=high))
    return points


def roles_text(roles: Sequence[str], labels: Mapping[str, str] | None = None) -> str:
    """"Budget = Balanced" for a build that fills two roles."""
    return " = ".join(_label(labels, r) for r in roles)


def value_spec(result: PlanResult, *, labels: Mapping[str, str] | None = None,
               min_points: int = 2) -> Spec | None:
    """Price against decode speed per user for each distinct build, with the
    budget and the speed target as lines; None with fewer than ``min_points``
    builds. [currency], [tokens/s]"""
    points = value_points(result)
    if len(points) < min_points:
        return None
    currency = result.currency
    encoder = result.task != "generate"  # by the input tokens it embeds, with no speed target
    suffix = "_encoder" if encoder else ""
    spec = _figure(title=_label(labels, "value_title" + suffix), height=380)
    for p in points:
        b = p.build
        desc = f"{b.gpu_count} × {b.gpu_name}{' (used)' if b.gpu_used else ''}, {b.quant}"
        trace = {
            "type": "scatter", "x": [p.price], "y": [p.tokens_per_s_per_user], "mode": "markers",
            "name": roles_text(p.roles, labels),
            "marker": {"size": 13, "color": TIER_COLOURS.get(p.roles[0], "#888"),
                       "symbol": "diamond" if getattr(b, "stretch", False) else "circle"},
            "customdata": [[desc, money_text(p.price, currency)]],
            "hovertemplate": "%{customdata[0]}<br>%{customdata[1]}<br>%{y:.1f} tokens/s"
                             "<extra>%{fullData.name}</extra>"}
        if p.low_tokens_per_s_per_user is not None and p.high_tokens_per_s_per_user is not None:
            trace["error_y"] = {
                "type": "data", "symmetric": False, "color": "#888",
                "array": [max(p.high_tokens_per_s_per_user - p.tokens_per_s_per_user, 0.0)],
                "arrayminus": [max(p.tokens_per_s_per_user - p.low_tokens_per_s_per_user, 0.0)]}
        spec["data"].append(trace)
    if result.budget_in_currency is not None:
        vline(spec, result.budget_in_currency, line={"color": "#E45756", "dash": "dash"},
              text=_label(labels, "budget_line"))
    if not encoder:
        hline(spec, result.min_tokens_per_s, line={"color": "#888", "dash": "dot"},
              text=_label(labels, "target_line"), position="bottom right")
    spec["layout"].update(xaxis={"title": axis_title(_label(labels, "price_axis",
                                                            currency=currency))},
                          yaxis={"title": axis_title(_label(labels, "speed_axis" + suffix)),
                                 "rangemode": "tozero"})
    return spec


def value_figure(result: PlanResult, *, labels: Mapping[str, str] | None = None,
                 min_points: int = 2) -> go.Figure | None:
    """:func:`value_spec` as a Plotly figure."""
    return _plotly(value_spec(result, labels=labels, min_points=min_points))


# --------------------------------------------------------------------------- break-even


@dataclass(frozen=True)
class LocalLine:
    """A tier's cumulative cost: purchase up front, electricity every month. [USD]"""

    tiers: tuple[str, ...]  # tiers with this same cost line
    build_usd: float
    electricity_usd_per_month: float


@dataclass(frozen=True)
class Crossing:
    """Where renting has cost as much as buying one tier."""

    tiers: tuple[str, ...]
    instance_id: str
    months: float  # [month]
    cost_usd: float  # cumulative cost at that month [USD]


def local_lines(options: Sequence[CloudOption]) -> list[LocalLine]:
    """Each distinct tier cost line, from the break-even rows the engine priced."""
    if not options:
        return []
    lines: dict[tuple[float, float], list[str]] = {}
    for row in options[0].break_even:
        key = (round(row.build_usd, 2), round(row.local_electricity_usd_per_month, 4))
        lines.setdefault(key, []).append(row.tier)
    by_key = {(round(r.build_usd, 2), round(r.local_electricity_usd_per_month, 4)): r
              for r in options[0].break_even}
    return [LocalLine(tiers=tuple(tiers), build_usd=by_key[key].build_usd,
                      electricity_usd_per_month=by_key[key].local_electricity_usd_per_month)
            for key, tiers in lines.items()]


def cheapest_cloud(options: Sequence[CloudOption], count: int = 3) -> list[CloudOption]:
    """The ``count`` instances that cost least per month among those meeting the
    workload (among all when none does)."""
    meeting = [o for o in options if o.meets_workload] or list(options)
    return sorted(meeting, key=lambda o: (o.cloud_usd_per_month, o.usd_per_1m_tokens))[:count]


def crossings(options: Sequence[CloudOption]) -> list[Crossing]:
    """Break-even points of each distinct tier line against each instance."""
    out = []
    lines = local_lines(options)
    for option in options:
        months = option.break_even_months
        for line in lines:
            m = months.get(line.tiers[0])
            if m is None or not math.isfinite(m):
                continue
            out.append(Crossing(tiers=line.tiers, instance_id=option.instance_id, months=m,
                                cost_usd=option.cloud_usd_per_month * m))
    return out


def horizon_months(points: Sequence[Crossing]) -> int:
    """Months the break-even chart spans: past the last crossing, within 1 to 10 years."""
    if not points:
        return DEFAULT_HORIZON_MONTHS
    last = max(p.months for p in points) * (1 + HORIZON_MARGIN_FRAC)
    return int(min(max(math.ceil(last), MIN_HORIZON_MONTHS), MAX_HORIZON_MONTHS))


def cloud_name(option: CloudOption) -> str:
    """The instance as a reader sees it: "RunPod 2 × NVIDIA RTX 6000 Ada", "AWS g5.xlarge (...)".

    Built once by the catalog (:meth:`catalog.market.CloudInstance.display_name`):
    providers whose instance type is an API key are named by their GPUs.
    """
    return option.name


def break_even_spec(options: Sequence[CloudOption], *, currency: str, units_per_usd: float,
                    labels: Mapping[str, str] | None = None, count: int = 3,
                    months: int | None = None) -> Spec:
    """Cumulative cost over months of use for each local tier (purchase plus
    electricity) against the ``count`` cheapest cloud instances, with the
    crossing points marked. ``options`` are the plan's cloud options; money in
    ``currency``. [month], [currency]"""
    chosen = cheapest_cloud(options, count)
    lines = local_lines(options)
    points = crossings(chosen)
    span = months or horizon_months(points)
    x = list(range(span + 1))
    spec = _figure(title=_label(labels, "break_even_title"), height=420)
    hover = "%{x} mo: %{y:,.0f} " + currency + "<extra>%{fullData.name}</extra>"
    for line in lines:
        tier_text = roles_text(line.tiers, labels)
        spec["data"].append({
            "type": "scatter", "x": x,
            "y": [(line.build_usd + line.electricity_usd_per_month * m) * units_per_usd for m in x],
            "mode": "lines", "name": _label(labels, "local_line", tiers=tier_text),
            "line": {"color": TIER_COLOURS.get(line.tiers[0], "#888"), "width": 3},
            "hovertemplate": hover})
    for i, option in enumerate(chosen):
        spec["data"].append({
            "type": "scatter", "x": x, "y": [option.cloud_usd_per_month * m * units_per_usd
                                             for m in x],
            "mode": "lines", "name": cloud_name(option),
            "line": {"color": CLOUD_COLOURS[i % len(CLOUD_COLOURS)], "dash": "dash", "width": 2},
            "hovertemplate": hover})
    shown = [p for p in points if p.months <= span]
    if shown:
        names = {o.instance_id: cloud_name(o) for o in chosen}
        spec["data"].append({
            "type": "scatter", "x": [p.months for p in shown],
            "y": [p.cost_usd * units_per_usd for p in shown],
            "mode": "markers", "name": _label(labels, "crossing"),
            "marker": {"size": 11, "color": CROSSING_COLOUR, "symbol": "x"},
            "customdata": [[roles_text(p.tiers, labels), names[p.instance_id]] for p in shown],
            "hovertemplate": "%{customdata[0]} / %{customdata[1]}<br>%{x:.1f} mo, %{y:,.0f} "
                             + currency + "<extra></extra>"})
    spec["layout"].update(xaxis={"title": axis_title(_label(labels, "months_axis")),
                                 "range": [0, span]},
                          yaxis={"title": axis_title(_label(labels, "cost_axis",
                                                            currency=currency)),
                                 "rangemode": "tozero"})
    return spec


def break_even_figure(options: Sequence[CloudOption], *, currency: str, units_per_usd: float,
                      labels: Mapping[str, str] | None = None, count: int = 3,
                      months: int | None = None) -> go.Figure:
    """:func:`break_even_spec` as a Plotly figure."""
    return _plotly(break_even_spec(options, currency=currency, units_per_usd=units_per_usd,
                                   labels=labels, count=count, months=months))
