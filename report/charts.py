"""The report's charts as Plotly JSON specs, and Plotly figures made from them.

:func:`report_specs` gives every chart a report shows as a plain dict
(:mod:`report.chart_spec`): the HTML report hands them to plotly.js and the PDF
draws them with fpdf2 (:mod:`report.pdf_charts`), so neither imports Plotly's
Python package. :func:`memory_figure` and :func:`gpu_figure` wrap the same
specs in a Plotly figure for the app. Charts name ``template="plotly_white"``:
importing Streamlit switches Plotly's default template to one whose colours
are placeholders only the browser fills in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from report import plan_charts
from report.chart_spec import Spec, axis_title, figure, vline
from report.content import GpuChart, MemoryChart, ReportContent
from report.plan_charts import LEGEND_BESIDE

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Chinese glyphs need a CJK font; browsers fall through the list.
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
WIDTH_PX = 900
USABLE_COLOUR = "#E45756"
CHOSEN_COLOUR = "#4C78A8"
OTHER_COLOUR = "#9DB4CF"
# The GPU chart's two panels side by side, sharing the GPU axis: speed, then memory.
GPU_PANEL_GAP_FRAC = 0.04
GPU_SPEED_WIDTH_FRAC = 0.55

# Above the plot, under the title, for a chart whose right edge carries a second y axis.
LEGEND_ABOVE = {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}


def _layout(spec: Spec, *, title: str, height: int, legend: dict | None = None) -> Spec:
    """Title, font, size, margins and the legend (beside the plot unless ``legend``)."""
    above = legend is LEGEND_ABOVE
    spec["layout"].update(title={"text": title, "x": 0.01, "y": 0.98, "yref": "container",
                                 "yanchor": "top"}, font={"family": FONT, "size": 13},
                          height=height, width=WIDTH_PX,
                          margin={"l": 10, "r": 20, "t": 90 if above else 60, "b": 10},
                          legend={**(legend or LEGEND_BESIDE)})
    return spec


def memory_spec(chart: MemoryChart) -> Spec:
    """Stacked bar of memory parts against the usable capacity. [GiB]"""
    total = sum(p.gib for p in chart.parts)
    spec = figure(barmode="stack", xaxis={"title": axis_title(chart.axis),
                                          "range": [0, max(total, chart.usable_gib) * 1.08]})
    spec["data"] = [{"type": "bar", "y": [chart.bar_label], "x": [part.gib], "name": part.label,
                     "orientation": "h", "marker": {"color": part.colour},
                     "hovertemplate": "%{x:.2f} GiB<extra>%{fullData.name}</extra>"}
                    for part in chart.parts]
    vline(spec, chart.usable_gib, line={"color": USABLE_COLOUR, "dash": "dash", "width": 2},
          text=chart.usable_label)
    _layout(spec, title=chart.title, height=260)
    spec["layout"]["legend"]["traceorder"] = "normal"
    return spec


def gpu_spec(chart: GpuChart) -> Spec:
    """Decode speed (with its band) and memory needed/usable for each GPU, in two panels
    that share the GPU axis."""
    bars = list(reversed(chart.bars))  # the chosen GPU on top
    labels = [b.label for b in bars]
    speed = [b.decode_tokens_per_s or 0.0 for b in bars]
    usable = 1 - GPU_PANEL_GAP_FRAC
    split = usable * GPU_SPEED_WIDTH_FRAC
    spec = figure(xaxis={"anchor": "y", "domain": [0.0, split],
                         "title": axis_title(chart.speed_axis)},
                  xaxis2={"anchor": "y2", "domain": [split + GPU_PANEL_GAP_FRAC, 1.0],
                          "title": axis_title(chart.memory_axis)},
                  yaxis={"anchor": "x", "automargin": True, "domain": [0.0, 1.0]},
                  yaxis2={"anchor": "x2", "automargin": True, "domain": [0.0, 1.0],
                          "matches": "y", "showticklabels": False})
    spec["data"] = [
        {"type": "bar", "y": labels, "x": speed, "orientation": "h", "name": chart.speed_axis,
         "xaxis": "x", "yaxis": "y",
         "marker": {"color": [CHOSEN_COLOUR if b.chosen else OTHER_COLOUR for b in bars]},
         "error_x": {"type": "data", "symmetric": False, "color": "#444",
                     "array": [max((b.decode_high_tokens_per_s or 0) - s, 0)
                               for b, s in zip(bars, speed)],
                     "arrayminus": [max(s - (b.decode_low_tokens_per_s or s), 0)
                                    for b, s in zip(bars, speed)]},
         "text": [f"{s:,.0f}" if s else "—" for s in speed], "textposition": "inside",
         "insidetextanchor": "start", "hovertemplate": "%{x:.1f} tokens/s<extra></extra>",
         "showlegend": False},
        {"type": "bar", "y": labels, "x": [b.usable_gib for b in bars], "orientation": "h",
         "name": chart.usable_label, "marker": {"color": "#D9D9D9"}, "xaxis": "x2",
         "yaxis": "y2", "hovertemplate": "%{x:.1f} GiB<extra></extra>"},
        {"type": "scatter", "y": labels, "x": [b.needed_gib for b in bars], "mode": "markers",
         "name": chart.needed_label, "xaxis": "x2", "yaxis": "y2",
         "marker": {"symbol": "line-ns", "size": 22,
                    "line": {"width": 3, "color": USABLE_COLOUR}},
         "hovertemplate": "%{x:.1f} GiB<extra></extra>"}]
    return _layout(spec, title=chart.title, height=140 + 42 * len(bars))


def plotly_figure(spec: Spec) -> go.Figure:
    """``spec`` as a Plotly figure (for the app's ``st.plotly_chart``)."""
    import plotly.graph_objects as go  # only pages that show a figure pay for Plotly

    return go.Figure(spec)


def memory_figure(chart: MemoryChart) -> go.Figure:
    """:func:`memory_spec` as a Plotly figure."""
    return plotly_figure(memory_spec(chart))


def gpu_figure(chart: GpuChart) -> go.Figure:
    """:func:`gpu_spec` as a Plotly figure."""
    return plotly_figure(gpu_spec(chart))


def power_limit_figure(points: list, **labels) -> go.Figure:
    """:func:`power_limit_spec` as a Plotly figure."""
    return plotly_figure(power_limit_spec(points, **labels))


def power_limit_spec(points: list, *, sweet_spot_w: float | None, title: str,
                     speed_label: str, power_label: str, cap_label: str,
                     prefill_speed_label: str | None = None) -> Spec:
    """Decode speed (share of uncapped) and GPU draw against the power cap.

    ``points`` have ``cap_w``, ``speed_frac`` and ``power_w`` (the engine's
    curve); with ``prefill_speed_label`` their ``prefill_speed_frac`` is drawn too.
    """
    caps = [p.cap_w for p in points]
    spec = figure(xaxis={"title": axis_title(cap_label)},
                  yaxis={"title": axis_title(speed_label), "range": [0, 105]},
                  yaxis2={"title": axis_title(power_label), "overlaying": "y", "side": "right",
                          "rangemode": "tozero"})
    spec["data"].append({"type": "scatter", "x": caps, "y": [100 * p.speed_frac for p in points],
                         "name": speed_label, "mode": "lines",
                         "line": {"color": CHOSEN_COLOUR, "width": 3},
                         "hovertemplate": "%{x:.0f} W: %{y:.0f} %<extra></extra>"})
    if prefill_speed_label:
        spec["data"].append({"type": "scatter", "x": caps,
                             "y": [100 * p.prefill_speed_frac for p in points],
                             "name": prefill_speed_label, "mode": "lines",
                             "line": {"color": CHOSEN_COLOUR, "width": 2, "dash": "dash"},
                             "hovertemplate": "%{x:.0f} W: %{y:.0f} %<extra></extra>"})
    spec["data"].append({"type": "scatter", "x": caps, "y": [p.power_w for p in points],
                         "name": power_label, "yaxis": "y2", "mode": "lines",
                         "line": {"color": USABLE_COLOUR, "dash": "dot"},
                         "hovertemplate": "%{x:.0f} W: %{y:.0f} W<extra></extra>"})
    if sweet_spot_w:
        vline(spec, sweet_spot_w, line={"color": "#54A24B", "dash": "dash"},
              text=f"{sweet_spot_w:.0f} W", position="top left")
    return _layout(spec, title=title, height=340, legend=LEGEND_ABOVE)


def report_specs(content: ReportContent) -> dict[str, Spec]:
    """Every chart ``content`` shows, keyed as its sections' ``chart``.

    The plan charts come from :mod:`report.plan_charts`. The price-vs-speed
    chart is left out when the plan has fewer than two distinct builds.
    """
    wanted = {s.chart for s in content.sections if s.chart}
    specs: dict[str, Spec] = {}
    if "memory" in wanted:
        specs["memory"] = memory_spec(content.memory_chart)
    if "gpus" in wanted:
        specs["gpus"] = gpu_spec(content.gpu_chart)
    plan = content.plan
    if plan is None:
        return specs
    labels = content.plan_chart_labels
    if "value" in wanted:
        value = plan_charts.value_spec(plan, labels=labels)
        if value is not None:
            specs["value"] = value
    if "break_even" in wanted:
        specs["break_even"] = plan_charts.break_even_spec(
            plan.cloud, currency=plan.currency, units_per_usd=plan.units_per_usd, labels=labels)
    return specs


def report_figures(content: ReportContent) -> dict[str, go.Figure]:
    """:func:`report_specs` as Plotly figures."""
    return {key: plotly_figure(spec) for key, spec in report_specs(content).items()}
