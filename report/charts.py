"""Plotly figures for the reports, and their PNG export through kaleido.

Figures are built with an explicit ``template="plotly_white"``: importing
Streamlit switches Plotly's default template to one whose colours are
placeholders that only the browser fills in, so kaleido would draw them black.
Export runs kaleido on the system's headless Chromium (``/usr/bin/chromium`` on
Debian); when none is found, or kaleido fails, :func:`figure_pngs` says why and
the PDF shows tables instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from report.content import GpuChart, MemoryChart, ReportContent
from report import plan_charts
from report.plan_charts import LEGEND_BESIDE

TEMPLATE = "plotly_white"
# Chinese glyphs need a CJK font; browsers and kaleido fall through the list.
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
DEFAULT_BROWSER = "/usr/bin/chromium"
WIDTH_PX = 900
SCALE = 2  # PNG pixels per CSS pixel: sharp when printed at 180 mm
USABLE_COLOUR = "#E45756"
CHOSEN_COLOUR = "#4C78A8"
OTHER_COLOUR = "#9DB4CF"

_lock = threading.Lock()
_server_started = False


class ChartExportError(RuntimeError):
    """Static charts cannot be drawn: ``kind`` is "no_browser" or "export_failed"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# Above the plot, under the title, for a chart whose right edge carries a second y axis.
LEGEND_ABOVE = {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}


def _layout(fig: go.Figure, *, title: str, height: int,
            legend: dict | None = None) -> go.Figure:
    """Title, font, size, margins and the legend (beside the plot unless ``legend``)."""
    above = legend is LEGEND_ABOVE
    fig.update_layout(title={"text": title, "x": 0.01, "y": 0.98, "yref": "container",
                             "yanchor": "top"}, font={"family": FONT, "size": 13},
                      height=height, width=WIDTH_PX,
                      margin={"l": 10, "r": 20, "t": 90 if above else 60, "b": 10},
                      legend=legend or LEGEND_BESIDE)
    return fig


def memory_figure(chart: MemoryChart) -> go.Figure:
    """Stacked bar of memory parts against the usable capacity. [GiB]"""
    fig = go.Figure(layout={"template": TEMPLATE})
    for part in chart.parts:
        fig.add_bar(y=[chart.bar_label], x=[part.gib], name=part.label, orientation="h",
                    marker_color=part.colour, hovertemplate="%{x:.2f} GiB<extra>%{fullData.name}</extra>")
    fig.add_vline(x=chart.usable_gib, line_dash="dash", line_color=USABLE_COLOUR, line_width=2,
                  annotation_text=chart.usable_label, annotation_position="top")
    total = sum(p.gib for p in chart.parts)
    fig.update_layout(barmode="stack", xaxis_title=chart.axis, legend_traceorder="normal",
                      xaxis_range=[0, max(total, chart.usable_gib) * 1.08])
    return _layout(fig, title=chart.title, height=260)


def gpu_figure(chart: GpuChart) -> go.Figure:
    """Decode speed (with its band) and memory needed/usable for each GPU."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        column_widths=[0.55, 0.45])
    fig.update_layout(template=TEMPLATE)
    bars = list(reversed(chart.bars))  # the chosen GPU on top
    labels = [b.label for b in bars]
    speed = [b.decode_tokens_per_s or 0.0 for b in bars]
    fig.add_bar(y=labels, x=speed, orientation="h", name=chart.speed_axis, row=1, col=1,
                marker_color=[CHOSEN_COLOUR if b.chosen else OTHER_COLOUR for b in bars],
                error_x={"type": "data", "symmetric": False, "color": "#444",
                         "array": [max((b.decode_high_tokens_per_s or 0) - s, 0)
                                   for b, s in zip(bars, speed)],
                         "arrayminus": [max(s - (b.decode_low_tokens_per_s or s), 0)
                                        for b, s in zip(bars, speed)]},
                text=[f"{s:,.0f}" if s else "—" for s in speed], textposition="inside",
                insidetextanchor="start", hovertemplate="%{x:.1f} tokens/s<extra></extra>",
                showlegend=False)
    fig.add_bar(y=labels, x=[b.usable_gib for b in bars], orientation="h",
                name=chart.usable_label, marker_color="#D9D9D9", row=1, col=2,
                hovertemplate="%{x:.1f} GiB<extra></extra>")
    fig.add_scatter(y=labels, x=[b.needed_gib for b in bars], mode="markers",
                    name=chart.needed_label, row=1, col=2,
                    marker={"symbol": "line-ns", "size": 22, "line": {"width": 3,
                                                                      "color": USABLE_COLOUR}},
                    hovertemplate="%{x:.1f} GiB<extra></extra>")
    fig.update_xaxes(title_text=chart.speed_axis, row=1, col=1)
    fig.update_xaxes(title_text=chart.memory_axis, row=1, col=2)
    fig.update_yaxes(automargin=True)
    return _layout(fig, title=chart.title, height=140 + 42 * len(bars))


def power_limit_figure(points: list, *, sweet_spot_w: float | None, title: str,
                       speed_label: str, power_label: str, cap_label: str,
                       prefill_speed_label: str | None = None) -> go.Figure:
    """Decode speed (share of uncapped) and GPU draw against the power cap.

    ``points`` have ``cap_w``, ``speed_frac`` and ``power_w`` (the engine's
    curve); with ``prefill_speed_label`` their ``prefill_speed_frac`` is drawn too.
    """
    fig = go.Figure(layout={"template": TEMPLATE})
    caps = [p.cap_w for p in points]
    fig.add_trace(go.Scatter(x=caps, y=[100 * p.speed_frac for p in points], name=speed_label,
                             mode="lines", line={"color": CHOSEN_COLOUR, "width": 3},
                             hovertemplate="%{x:.0f} W: %{y:.0f} %<extra></extra>"))
    if prefill_speed_label:
        fig.add_trace(go.Scatter(x=caps, y=[100 * p.prefill_speed_frac for p in points],
                                 name=prefill_speed_label, mode="lines",
                                 line={"color": CHOSEN_COLOUR, "width": 2, "dash": "dash"},
                                 hovertemplate="%{x:.0f} W: %{y:.0f} %<extra></extra>"))
    fig.add_trace(go.Scatter(x=caps, y=[p.power_w for p in points], name=power_label, yaxis="y2",
                             mode="lines", line={"color": USABLE_COLOUR, "dash": "dot"},
                             hovertemplate="%{x:.0f} W: %{y:.0f} W<extra></extra>"))
    if sweet_spot_w:
        fig.add_vline(x=sweet_spot_w, line={"color": "#54A24B", "dash": "dash"},
                      annotation_text=f"{sweet_spot_w:.0f} W", annotation_position="top left")
    fig.update_layout(xaxis={"title": cap_label}, yaxis={"title": speed_label, "range": [0, 105]},
                      yaxis2={"title": power_label, "overlaying": "y", "side": "right",
                              "rangemode": "tozero"})
    return _layout(fig, title=title, height=340, legend=LEGEND_ABOVE)


def report_figures(content: ReportContent) -> dict[str, go.Figure]:
    """Every figure ``content`` shows, keyed as its sections' ``chart``.

    The plan figures come from :mod:`report.plan_charts`. The price-vs-speed
    figure is left out when the plan has fewer than two distinct builds.
    """
    wanted = {s.chart for s in content.sections if s.chart}
    figures: dict[str, go.Figure] = {}
    if "memory" in wanted:
        figures["memory"] = memory_figure(content.memory_chart)
    if "gpus" in wanted:
        figures["gpus"] = gpu_figure(content.gpu_chart)
    plan = content.plan
    if plan is None:
        return figures
    labels = content.plan_chart_labels
    if "value" in wanted:
        value = plan_charts.value_figure(plan, labels=labels)
        if value is not None:
            figures["value"] = value
    if "break_even" in wanted:
        figures["break_even"] = plan_charts.break_even_figure(
            plan.cloud, currency=plan.currency, units_per_usd=plan.units_per_usd, labels=labels)
    return figures


# --- static export --------------------------------------------------------------------


def browser_path() -> str | None:
    """The Chromium kaleido will use (``BROWSER_PATH`` first), or None when missing."""
    wanted = os.environ.get("BROWSER_PATH")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    if Path(DEFAULT_BROWSER).is_file():
        return DEFAULT_BROWSER
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _wanted_browser() -> str:
    return os.environ.get("BROWSER_PATH") or DEFAULT_BROWSER


def start_exporter() -> None:
    """Start kaleido's browser once per process: later images take ~0.15 s, not ~3 s."""
    global _server_started
    with _lock:
        if _server_started:
            return
        if browser_path() is None:
            raise ChartExportError("no_browser", _wanted_browser())
        import kaleido
        try:
            kaleido.start_sync_server(silence_warnings=True)
        except Exception as exc:  # kaleido raises browser-specific errors
            raise ChartExportError("export_failed", str(exc) or type(exc).__name__) from exc
        _server_started = True


def figure_pngs(figures: list[go.Figure]) -> list[bytes]:
    """PNG bytes of each figure; raises ChartExportError saying why not."""
    if browser_path() is None:
        raise ChartExportError("no_browser", _wanted_browser())
    start_exporter()
    import kaleido
    try:
        return [kaleido.calc_fig_sync(fig.to_dict(), opts={
            "format": "png", "width": fig.layout.width or WIDTH_PX,
            "height": fig.layout.height or 400, "scale": SCALE}) for fig in figures]
    except Exception as exc:  # kaleido/choreographer raise many kinds; all mean "no chart"
        raise ChartExportError("export_failed", str(exc) or type(exc).__name__) from exc
