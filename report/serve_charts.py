"""Plotly figures for serving a team (:func:`sizing.capacity.serve`).

Pure functions, result in and figure out: throughput against the requests in
flight with the knee marked, and the p95 latencies against the same axis with
the targets. Text comes in through ``labels`` (the string catalog's
``serve_chart.`` group, translated); the default is English.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from report.chart_spec import TEMPLATE
from report.plan_charts import FONT
from report.text import group_strings
from sizing.capacity import ServeResult

EN_LABELS: dict[str, str] = group_strings("serve_chart.", "en")
THROUGHPUT_COLOUR = "#4C78A8"
ITL_COLOUR = "#F58518"
TTFT_COLOUR = "#54A24B"
MARK_COLOUR = "#E45756"


def _label(labels: Mapping[str, str] | None, key: str, **values: object) -> str:
    text = (labels or {}).get(key) or EN_LABELS[key]
    return text.format(**values) if values else text


def _figure(title: str, height: int = 340) -> go.Figure:
    fig = go.Figure(layout={"template": TEMPLATE})
    fig.update_layout(title={"text": title, "x": 0.01}, font={"family": FONT, "size": 13},
                      height=height, margin={"l": 10, "r": 20, "t": 60, "b": 10},
                      legend={"orientation": "h", "y": -0.25, "x": 0})
    fig.update_xaxes(type="log", dtick=0.30102999566, title=_label(None, "concurrency_axis"))
    return fig


def throughput_figure(result: ServeResult, *, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Generated tokens/s against requests in flight, the knee and the chosen users marked."""
    xs = [p.concurrency for p in result.curve]
    ys = [p.throughput_tokens_per_s for p in result.curve]
    fig = _figure(_label(labels, "throughput_title"))
    fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=_label(labels, "throughput"),
                    line={"color": THROUGHPUT_COLOUR}, hovertemplate="%{x}: %{y:,.0f} tokens/s")
    knee = dict(zip(xs, ys))[result.knee_concurrency]
    fig.add_scatter(x=[result.knee_concurrency], y=[knee], mode="markers+text",
                    name=_label(labels, "knee"), marker={"color": MARK_COLOUR, "size": 12},
                    text=[_label(labels, "knee")], textposition="top left")
    fig.update_xaxes(title=_label(labels, "concurrency_axis"))
    fig.update_yaxes(title=_label(labels, "tokens_axis"), rangemode="tozero")
    return fig


def latency_figure(result: ServeResult, *, labels: Mapping[str, str] | None = None) -> go.Figure:
    """p95 inter-token latency [ms] and time to first token [s] against requests in flight."""
    xs = [p.concurrency for p in result.curve]
    fig = _figure(_label(labels, "latency_title"))
    fig.add_scatter(x=xs, y=[p.itl_p95_ms for p in result.curve], mode="lines+markers",
                    name=_label(labels, "itl"), line={"color": ITL_COLOUR})
    fig.add_scatter(x=xs, y=[p.ttft_p95_s for p in result.curve], mode="lines+markers",
                    name=_label(labels, "ttft"), line={"color": TTFT_COLOUR}, yaxis="y2")
    fig.add_hline(y=result.target_itl_p95_ms, line_dash="dash", line_color=ITL_COLOUR,
                  annotation_text=_label(labels, "itl_target", ms=f"{result.target_itl_p95_ms:g}"))
    fig.update_xaxes(title=_label(labels, "concurrency_axis"))
    fig.update_layout(yaxis={"title": _label(labels, "ms_axis"), "rangemode": "tozero"},
                      yaxis2={"title": _label(labels, "s_axis"), "overlaying": "y", "side": "right",
                              "type": "log"})
    return fig
