"""Figure styling for the pages, and the Configurator's memory bar."""

from __future__ import annotations

import plotly.graph_objects as go

from pages._text import t
from sizing.estimate import Estimate
from sizing.units import bytes_to_gib

# Chinese glyphs need a CJK font in charts; browsers fall through the list.
CHART_FONT = "Source Sans Pro, Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
GROUP_COLOURS = {"group.consumer": "#4C78A8", "group.professional": "#F58518",
                 "group.apple": "#54A24B", "group.nvidia_unified": "#72B7B2",
                 "group.amd_unified": "#B279A2", "group.intel_unified": "#9D755D"}
NEEDED_COLOUR = "#E45756"


def style(fig: go.Figure, *, height: int = 360) -> go.Figure:
    """The pages' font, height, margins and legend."""
    fig.update_layout(font={"family": CHART_FONT}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def memory_figure(result: Estimate) -> go.Figure:
    """Stacked bar of the memory parts against the usable capacity."""
    mem = result.memory
    parts = [("chart.weights", mem.weights_bytes, "#4C78A8"),
             ("chart.kv_cache", mem.kv_cache_bytes, "#F58518"),
             ("chart.activations", mem.activations_bytes, "#54A24B"),
             ("chart.overhead", mem.overhead_bytes, "#B279A2")]
    fig = go.Figure()
    for key, value, colour in parts:
        fig.add_bar(y=[t("chart.needed")], x=[bytes_to_gib(value)], name=t(key), orientation="h",
                    marker_color=colour, hovertemplate="%{x:.2f} GiB")
    usable = bytes_to_gib(mem.usable_bytes)
    fig.add_vline(x=usable, line_dash="dash", line_color=NEEDED_COLOUR,
                  annotation_text=t("chart.usable", gib=f"{usable:.1f}"),
                  annotation_position="top")
    fig.update_layout(barmode="stack", title=t("chart.memory_title"),
                      xaxis_title=t("chart.gib_axis"))
    return style(fig, height=260)
