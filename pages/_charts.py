"""Figures for the pages: their style, plain-dict figures, and the Configurator's memory bar.

Plotly checks every property it is given against its schema, which costs
about 10 ms per chart (``go.Figure``, ``add_bar``, ``update_layout``), more than
the engine's work on a rerun. The pages' own charts are therefore written as
plain dicts in plotly's canonical form and sent by :func:`figure` without
that check; ``tests/test_charts.py`` builds each of them with the check on
and requires the same figure, so a misspelt property still fails a test.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import plotly.graph_objects as go

from pages._text import t
from report.chart_spec import template
from report.text import group_strings
from sizing.estimate import Estimate
from sizing.units import bytes_to_gib

# Chinese glyphs need a CJK font in charts; browsers fall through the list.
CHART_FONT = "Source Sans Pro, Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
GROUP_COLOURS = {"group.consumer": "#4C78A8", "group.professional": "#F58518",
                 "group.apple": "#54A24B", "group.nvidia_unified": "#72B7B2",
                 "group.amd_unified": "#B279A2", "group.intel_unified": "#9D755D"}
NEEDED_COLOUR = "#E45756"
MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}
LEGEND_BELOW = {"orientation": "h", "y": -0.2}


def style(fig: go.Figure, *, height: int = 360) -> go.Figure:
    """The pages' font, height, margins and legend, on a figure built with plotly's API."""
    fig.update_layout(font={"family": CHART_FONT}, height=height, margin=MARGIN,
                      legend=LEGEND_BELOW)
    return fig


def layout(*, height: int = 360, title: str | None = None,
           title_place: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A layout dict in the pages' style (:func:`style`); ``title_place`` holds the
    title's position keys, ``extra`` layout keys that replace the style's own."""
    spec: dict[str, Any] = {"font": {"family": CHART_FONT}, "height": height,
                            "margin": dict(MARGIN), "legend": dict(LEGEND_BELOW)}
    if title is not None:
        spec["title"] = {"text": title} | (title_place or {})
    return spec | extra


def axis_title(text: str, **extra: Any) -> dict[str, Any]:
    """An axis dict with a title, in plotly's canonical form."""
    return {"title": {"text": text}} | extra


class Figure(go.Figure):
    """A figure held as the dicts it was written as, for ``st.plotly_chart``.

    Streamlit takes a plotly figure's ``to_dict()`` as sent, but checks a plain
    dict by building a ``go.Figure`` from it; building one, checked or not,
    costs 1.5 to 10 ms per chart, the dicts themselves a few microseconds. This
    subclass skips plotly's constructor and answers ``to_dict()`` with the
    dicts and plotly's default template, as ``go.Figure(spec).to_dict()`` would.
    Only ``to_dict`` is meant to be called on it.
    """

    def __init__(self, spec: dict[str, Any]) -> None:  # no super().__init__(): that is the cost
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        spec_layout = self._spec.get("layout", {})
        return {"data": self._spec.get("data", []),
                "layout": spec_layout if "template" in spec_layout
                else spec_layout | {"template": default_template()}}


@functools.cache
def default_template() -> dict[str, Any]:
    """Plotly's default template as a figure's ``to_dict()`` carries it (built once)."""
    return go.Figure().to_dict()["layout"]["template"]


@functools.cache
def chart_labels(prefix: str, language: str) -> Mapping[str, str]:
    """A chart's strings in ``language`` (:func:`report.text.group_strings`), gathered once:
    gathering scans every string of the catalog, which does not change while the server runs."""
    return MappingProxyType(group_strings(prefix, language))


def figure(data: list[dict[str, Any]], spec: dict[str, Any]) -> go.Figure:
    """A figure from trace dicts (each with its ``type``) and a layout dict, unchecked.

    The dicts must already be plotly's canonical form (``{"title": {"text": …}}``,
    nested ``marker`` dicts, no ``marker_color`` shorthand): they are sent as written.
    """
    return Figure({"data": data, "layout": spec})


def spec_figure(spec: dict[str, Any]) -> go.Figure:
    """A report chart's spec (:mod:`report.chart_spec`) as an unchecked figure, its
    named template filled in from Plotly's own file as the check would fill it."""
    chart_layout = spec["layout"]
    if isinstance(chart_layout.get("template"), str):
        chart_layout = chart_layout | {"template": template(chart_layout["template"])}
    return figure(spec["data"], chart_layout)


def memory_figure(result: Estimate) -> go.Figure:
    """Stacked bar of the memory parts against the usable capacity."""
    mem = result.memory
    parts = [("chart.weights", mem.weights_bytes, "#4C78A8"),
             ("chart.kv_cache", mem.kv_cache_bytes, "#F58518"),
             ("chart.activations", mem.activations_bytes, "#54A24B"),
             ("chart.overhead", mem.overhead_bytes, "#B279A2")]
    needed = t("chart.needed")
    bars = [{"type": "bar", "y": [needed], "x": [bytes_to_gib(value)], "name": t(key),
             "orientation": "h", "marker": {"color": colour}, "hovertemplate": "%{x:.2f} GiB"}
            for key, value, colour in parts]
    usable = bytes_to_gib(mem.usable_bytes)
    # The dashed line at the usable capacity, as plotly's add_vline draws it.
    line = {"type": "line", "x0": usable, "x1": usable, "xref": "x", "y0": 0, "y1": 1,
            "yref": "y domain", "line": {"color": NEEDED_COLOUR, "dash": "dash"}}
    note = {"text": t("chart.usable", gib=f"{usable:.1f}"), "showarrow": False, "x": usable,
            "xref": "x", "xanchor": "center", "y": 1, "yref": "y domain", "yanchor": "bottom"}
    return figure(bars, layout(height=260, title=t("chart.memory_title"), barmode="stack",
                               xaxis=axis_title(t("chart.gib_axis")), shapes=[line],
                               annotations=[note]))
