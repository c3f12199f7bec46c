"""Plotly figure for a fine-tuning run (:func:`advisor.finetune.finetune_plan`).

A pure function, result in and figure out: the memory of one GPU split into
its parts, stacked against the GPU's memory. Text comes in through ``labels``
(the string catalog's ``finetune_chart.`` group, translated); the default is
English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from advisor.finetune import FinetuneResult
from report.chart_spec import TEMPLATE
from report.plan_charts import FONT
from report.text import group_strings
from sizing.units import bytes_to_gib

if TYPE_CHECKING:
    import plotly.graph_objects as go

EN_LABELS: dict[str, str] = group_strings("finetune_chart.", "en")
# (label key, memory field, colour), in the order the parts are stacked.
PARTS = (("weights", "weights_bytes", "#4C78A8"),
         ("gradients", "gradients_bytes", "#F58518"),
         ("master_weights", "master_weights_bytes", "#EECA3B"),
         ("optimizer", "optimizer_bytes", "#E45756"),
         ("activations", "activations_bytes", "#54A24B"),
         ("overhead", "overhead_bytes", "#B279A2"))
LIMIT_COLOUR = "#222222"


def _label(labels: Mapping[str, str] | None, key: str, **values: object) -> str:
    text = (labels or {}).get(key) or EN_LABELS[key]
    return text.format(**values) if values else text


def memory_breakdown_figure(result: FinetuneResult, *,
                            labels: Mapping[str, str] | None = None) -> go.Figure:
    """One GPU's memory [GiB] by part, stacked, with the GPU's memory marked."""
    import plotly.graph_objects as go  # the report's section reads PARTS without Plotly

    memory = result.memory
    row = _label(labels, "per_gpu")
    fig = go.Figure(layout={"template": TEMPLATE})
    for key, field, colour in PARTS:
        gib = bytes_to_gib(getattr(memory, field))
        fig.add_bar(y=[row], x=[gib], name=_label(labels, key), orientation="h",
                    marker_color=colour, hovertemplate=f"{_label(labels, key)}: %{{x:.2f}} GiB"
                                                       "<extra></extra>")
    usable = bytes_to_gib(memory.usable_bytes)
    fig.add_vline(x=usable, line_dash="dash", line_color=LIMIT_COLOUR,
                  annotation_text=_label(labels, "usable", gib=f"{usable:.1f}"),
                  annotation_position="top")
    fig.update_layout(barmode="stack", title={"text": _label(labels, "title"), "x": 0.01},
                      font={"family": FONT, "size": 13}, height=280,
                      margin={"l": 10, "r": 20, "t": 60, "b": 10},
                      legend={"orientation": "h", "y": -0.35, "x": 0, "traceorder": "normal"},
                      xaxis_title=_label(labels, "gib_axis"))
    return fig


__all__ = ["memory_breakdown_figure", "PARTS"]
