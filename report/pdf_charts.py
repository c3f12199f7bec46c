"""The report's charts drawn into the PDF with fpdf2's own lines, rectangles and text.

Each chart is the same Plotly JSON spec the HTML report hands to plotly.js
(:mod:`report.chart_spec`); this module draws the part of that format the
report's charts use: horizontal bars (stacked, with error bars and text inside),
lines and markers (with error bars), panels side by side on one shared category
axis, dashed lines across the plot with their labels, a title, axes with ticks
and titles, and a legend under the plot. Text is set in the report's font (Noto
Sans CJK covers both languages), so no browser is needed.

:func:`draw_chart` returns what it drew, one :class:`Mark` per bar, point and
line, with the data value and its place on the page, so tests can check the
geometry against the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF

from report.chart_spec import Spec
from report.formats import number_text

PX_MM = 0.2  # a chart WIDTH_PX = 900 px wide fills the 180 mm body
TITLE_PT = 9.5
TICK_PT = 6.5
AXIS_TITLE_PT = 7.0
LEGEND_PT = 7.0
TEXT_PT = 6.5
PT_MM = 0.3528  # one typographic point [mm]
TICKS_WANTED = 6
AXIS_INK = (68, 68, 68)
GRID = (226, 230, 235)
MAX_CATEGORY_FRAC = 0.3  # category labels take at most this share of the chart's width
LEGEND_SWATCH_MM = 5.0


@dataclass(frozen=True)
class Mark:
    """One drawn bar, point or line: its trace, data value and place on the page. [mm]"""

    kind: str  # "bar", "marker", "line", "shape"
    name: str  # the trace's legend name, or the shape's label
    value: float  # the bar's length, the point's y, the shape's position [data units]
    x_mm: float
    y_mm: float
    w_mm: float = 0.0
    h_mm: float = 0.0


def _rgb(colour: str | None, default: tuple[int, int, int] = (136, 136, 136)) -> tuple[int, int, int]:
    if not colour or not colour.startswith("#"):
        return default
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _dark(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def nice_ticks(low: float, high: float, wanted: int = TICKS_WANTED) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) from ``low`` to ``high``."""
    if not high > low:
        return [low]
    raw = (high - low) / max(wanted - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    # The round step whose number of intervals comes closest to the wanted one.
    step = min((m * power for m in (1, 2, 2.5, 5, 10)),
               key=lambda candidate: abs((high - low) / candidate - (wanted - 1)))
    first = math.ceil(low / step - 1e-9) * step
    count = int(math.floor((high - first) / step + 1e-9)) + 1
    return [first + i * step for i in range(count)]


def tick_text(value: float, ticks: Sequence[float]) -> str:
    """A tick's number with as many decimals as the ticks' spacing needs."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    digits = min(3, len(f"{step:.6f}".rstrip("0").partition(".")[2]))  # 0.25 → 2
    return number_text(0.0 if abs(value) < step * 1e-9 else value, digits)


@dataclass
class _Axis:
    """One axis: its data range and the page span it is drawn over. [mm]"""

    low: float
    high: float
    start_mm: float
    end_mm: float
    categories: tuple[str, ...] = ()

    def at(self, value: float | str) -> float:
        if self.categories:
            value = self.categories.index(value) if isinstance(value, str) else value
        frac = (float(value) - self.low) / (self.high - self.low or 1.0)
        return self.start_mm + frac * (self.end_mm - self.start_mm)


def _axis_key(ref: str) -> str:
    """"x2" → "xaxis2", "y" → "yaxis"."""
    return f"{ref[0]}axis{ref[1:]}"


def _traces_on(spec: Spec, ref: str) -> list[dict[str, Any]]:
    return [t for t in spec["data"] if t.get(f"{ref[0]}axis", ref[0]) == ref]


def _values_on(spec: Spec, ref: str) -> tuple[list[float], tuple[str, ...]]:
    """Numbers the traces on axis ``ref`` reach (stacked bars summed, error bars
    included), and its categories when the traces place text along it."""
    letter = ref[0]
    numbers: list[float] = []
    categories: list[str] = []
    stacked: dict[Any, float] = {}
    stack = spec["layout"].get("barmode") == "stack"
    for trace in _traces_on(spec, ref):
        values = trace.get(letter, [])
        other = trace.get("y" if letter == "x" else "x", [])
        if any(isinstance(v, str) for v in values):
            categories += [v for v in values if v not in categories]
            continue
        error = trace.get(f"error_{letter}") or {}
        plus, minus = error.get("array", []), error.get("arrayminus", error.get("array", []))
        for i, v in enumerate(values):
            if v is None:
                continue
            if trace.get("type") == "bar" and stack:
                stacked[other[i]] = stacked.get(other[i], 0.0) + v
                numbers.append(stacked[other[i]])
            else:
                numbers.append(v)
            numbers.append(v + (plus[i] if i < len(plus) else 0.0))
            numbers.append(v - (minus[i] if i < len(minus) else 0.0))
        if trace.get("type") == "bar":
            numbers.append(0.0)
    for shape in spec["layout"].get("shapes", []):
        if shape.get(f"{letter}ref") == ref:
            numbers += [shape[f"{letter}0"], shape[f"{letter}1"]]
    return numbers, tuple(categories)


def _range(spec: Spec, ref: str) -> tuple[float, float, tuple[str, ...]]:
    layout = spec["layout"].get(_axis_key(ref), {})
    matches = layout.get("matches")
    if matches:
        return _range(spec, matches)
    numbers, categories = _values_on(spec, ref)
    if categories:
        return -0.5, len(categories) - 0.5, categories
    if "range" in layout:
        low, high = layout["range"]
        return float(low), float(high), ()
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if layout.get("rangemode") == "tozero":
        low, high = min(low, 0.0), max(high, 0.0)
    pad = (high - low) * 0.05 or abs(high) * 0.1 or 1.0
    return (low if low == 0 else low - pad), high + pad, ()


class _Chart:
    """Draws one spec into a box of the page."""

    def __init__(self, pdf: FPDF, spec: Spec, font: str, x_mm: float, y_mm: float, w_mm: float):
        self.pdf, self.spec, self.font = pdf, spec, font
        self.layout = spec["layout"]
        self.x0, self.y0, self.w = x_mm, y_mm, w_mm
        self.marks: list[Mark] = []
        self.axes: dict[str, _Axis] = {}
        self._stacked: dict[Any, float] = {}  # where the next stacked bar starts, by category

    # --- text and lines ---------------------------------------------------------------
    def _text(self, x: float, y: float, text: str, *, size: float, anchor: str = "left",
              valign: str = "middle", colour=AXIS_INK, style: str = "") -> float:
        pdf = self.pdf
        pdf.set_font(self.font, style, size)
        pdf.set_text_color(*colour)
        width = pdf.get_string_width(text)
        dx = {"left": 0.0, "center": -width / 2, "right": -width}[anchor]
        height = size * PT_MM
        baseline = {"top": height * 0.8, "middle": height * 0.35, "bottom": -height * 0.2}[valign]
        pdf.text(x + dx, y + baseline, text)
        return width

    def _width(self, text: str, size: float, style: str = "") -> float:
        self.pdf.set_font(self.font, style, size)
        return self.pdf.get_string_width(text)

    def _line(self, x1: float, y1: float, x2: float, y2: float, *, colour=AXIS_INK,
              width_mm: float = 0.2, dash: str | None = None) -> None:
        self._polyline([(x1, y1), (x2, y2)], colour=colour, width_mm=width_mm, dash=dash)

    def _polyline(self, points: list[tuple[float, float]], *, colour=AXIS_INK,
                  width_mm: float = 0.2, dash: str | None = None) -> None:
        """One stroked path through ``points`` (a dash pattern runs on along it)."""
        pdf = self.pdf
        pdf.set_draw_color(*colour)
        pdf.set_line_width(width_mm)
        if dash == "dash":
            pdf.set_dash_pattern(dash=1.6, gap=1.0)
        elif dash == "dot":
            pdf.set_dash_pattern(dash=0.4, gap=0.8)
        if len(points) == 2:
            (x1, y1), (x2, y2) = points
            pdf.line(x1, y1, x2, y2)
        else:
            pdf.polyline(points, style="D")
        if dash:
            pdf.set_dash_pattern()

    def _marker(self, x: float, y: float, marker: dict[str, Any],
                fallback: tuple[int, int, int]) -> None:
        pdf = self.pdf
        colour = _rgb(marker.get("color") if isinstance(marker.get("color"), str) else None,
                      fallback)
        size = marker.get("size", 8) * PX_MM
        symbol = marker.get("symbol", "circle")
        if symbol == "line-ns":
            line = marker.get("line", {})
            self._line(x, y - size / 2, x, y + size / 2, colour=_rgb(line.get("color"), colour),
                       width_mm=line.get("width", 2) * PX_MM)
        elif symbol == "x":
            half = size / 2.6
            self._line(x - half, y - half, x + half, y + half, colour=colour, width_mm=0.45)
            self._line(x - half, y + half, x + half, y - half, colour=colour, width_mm=0.45)
        elif symbol == "diamond":
            pdf.set_fill_color(*colour)
            half = size / 2
            pdf.polygon([(x, y - half), (x + half, y), (x, y + half), (x - half, y)], style="F")
        else:
            pdf.set_fill_color(*colour)
            pdf.circle(x=x, y=y, radius=size / 2, style="F")

    # --- layout -------------------------------------------------------------------------
    def _legend_entries(self) -> list[dict[str, Any]]:
        return [t for t in self.spec["data"] if t.get("showlegend", True) and t.get("name")]

    def _legend_rows(self) -> list[list[tuple[dict[str, Any], float]]]:
        """Legend entries flowed into rows under the plot, each with its width. [mm]"""
        rows: list[list[tuple[dict[str, Any], float]]] = [[]]
        used = 0.0
        for trace in self._legend_entries():
            width = LEGEND_SWATCH_MM + 1.5 + self._width(trace["name"], LEGEND_PT) + 5.0
            if rows[-1] and used + width > self.w:
                rows.append([])
                used = 0.0
            rows[-1].append((trace, width))
            used += width
        return [r for r in rows if r]

    def _category_width(self) -> float:
        labels = [c for ref in ("y", "y2") for c in _range(self.spec, ref)[2]
                  if self.layout.get(_axis_key(ref), {}).get("showticklabels") is not False]
        if not labels:
            return 0.0
        widest = max(self._width(c, TICK_PT) for c in labels)
        return min(widest + 2.0, self.w * MAX_CATEGORY_FRAC)

    def draw(self) -> tuple[float, list[Mark]]:
        layout = self.layout
        height = layout.get("height", 400) * PX_MM
        title = (layout.get("title") or {}).get("text")
        top = self.y0 + (7.0 if title else 2.0)
        if title:
            self._text(self.x0, self.y0 + 1.0, title, size=TITLE_PT, style="B", valign="top",
                       colour=(31, 41, 51))
        y_refs = sorted({t.get("yaxis", "y") for t in self.spec["data"]} | {"y"})
        x_refs = sorted({t.get("xaxis", "x") for t in self.spec["data"]} | {"x"})
        y_title = self._axis_title("yaxis")
        right_titled = any(self.layout.get(_axis_key(r), {}).get("side") == "right"
                           for r in y_refs)
        left = self.x0 + (5.0 if y_title else 0.0)
        numeric_y = not _range(self.spec, "y")[2]
        tick_w = self._category_width() or (self._numeric_tick_width("y") if numeric_y else 0)
        plot_left = left + tick_w + 1.5
        plot_right = self.x0 + self.w - (self._numeric_tick_width("y2") + 7.0 if right_titled
                                         else 2.0)
        x_titled = any(self._axis_title(_axis_key(r)) for r in x_refs)
        plot_bottom = self.y0 + height - (9.0 if x_titled else 5.0)
        for ref in y_refs:
            low, high, cats = _range(self.spec, ref)
            self.axes[ref] = _Axis(low, high, plot_bottom, top, cats)
        for ref in x_refs:
            low, high, cats = _range(self.spec, ref)
            d0, d1 = self.layout.get(_axis_key(ref), {}).get("domain", [0.0, 1.0])
            span = plot_right - plot_left
            self.axes[ref] = _Axis(low, high, plot_left + d0 * span, plot_left + d1 * span, cats)
        for ref in x_refs:
            self._x_axis(ref, plot_bottom, top)
        for ref in y_refs:
            self._y_axis(ref, plot_left, plot_right, left)
        for trace in self.spec["data"]:
            self._trace(trace)
        for i, shape in enumerate(layout.get("shapes", [])):
            self._shape(shape, layout.get("annotations", []), i, top, plot_bottom)
        bottom = self.y0 + height
        bottom = self._legend(bottom)
        return bottom - self.y0, self.marks

    def _axis_title(self, key: str) -> str | None:
        return ((self.layout.get(key) or {}).get("title") or {}).get("text")

    def _numeric_tick_width(self, ref: str) -> float:
        if ref not in {t.get("yaxis", "y") for t in self.spec["data"]}:
            return 0.0
        low, high, cats = _range(self.spec, ref)
        if cats:
            return 0.0
        ticks = nice_ticks(low, high)
        return max(self._width(tick_text(v, ticks), TICK_PT) for v in ticks) + 1.0

    def _x_axis(self, ref: str, bottom: float, top: float) -> None:
        axis = self.axes[ref]
        self._line(axis.start_mm, bottom, axis.end_mm, bottom, colour=AXIS_INK, width_mm=0.25)
        if not axis.categories:
            ticks = nice_ticks(axis.low, axis.high)
            for v in ticks:
                x = axis.at(v)
                self._line(x, top, x, bottom, colour=GRID, width_mm=0.15)
                self._line(x, bottom, x, bottom + 0.8, colour=AXIS_INK, width_mm=0.2)
                self._text(x, bottom + 1.2, tick_text(v, ticks), size=TICK_PT, anchor="center",
                           valign="top")
        title = self._axis_title(_axis_key(ref))
        if title:
            self._text((axis.start_mm + axis.end_mm) / 2, bottom + 4.6, title, size=AXIS_TITLE_PT,
                       anchor="center", valign="top")

    def _y_axis(self, ref: str, plot_left: float, plot_right: float, title_left: float) -> None:
        axis = self.axes[ref]
        settings = self.layout.get(_axis_key(ref), {})
        right = settings.get("side") == "right"
        edge = plot_right if right else plot_left
        if settings.get("showticklabels") is False:
            return
        if axis.categories:
            for i, label in enumerate(axis.categories):
                text = label
                while len(text) > 4 and self._width(text, TICK_PT) > plot_left - title_left - 2:
                    text = text[:-2] + "…"
                self._text(edge - 1.2, axis.at(i), text, size=TICK_PT, anchor="right")
        else:
            ticks = nice_ticks(axis.low, axis.high)
            for v in ticks:
                y = axis.at(v)
                if not right:
                    self._line(plot_left, y, plot_right, y, colour=GRID, width_mm=0.15)
                self._text(edge + (1.2 if right else -1.2), y, tick_text(v, ticks), size=TICK_PT,
                           anchor="left" if right else "right")
        title = self._axis_title(_axis_key(ref))
        if title:
            x = self.x0 + self.w - 1.0 if right else title_left - 2.5
            y = (axis.start_mm + axis.end_mm) / 2
            with self.pdf.rotation(90, x=x, y=y):
                self._text(x, y, title, size=AXIS_TITLE_PT, anchor="center",
                           valign="top" if not right else "bottom")

    # --- traces -------------------------------------------------------------------------
    def _colours(self, trace: dict[str, Any], count: int) -> list[tuple[int, int, int]]:
        colour = (trace.get("marker") or {}).get("color") or (trace.get("line") or {}).get("color")
        if isinstance(colour, list):
            return [_rgb(c) for c in colour]
        return [_rgb(colour)] * count

    def _trace(self, trace: dict[str, Any]) -> None:
        if trace.get("type") == "bar":
            self._bars(trace)
        else:
            self._scatter(trace)

    def _bars(self, trace: dict[str, Any]) -> None:
        """Horizontal bars (the report's only kind), stacked when the layout says so."""
        pdf = self.pdf
        xa, ya = self.axes[trace.get("xaxis", "x")], self.axes[trace.get("yaxis", "y")]
        stack = self.layout.get("barmode") == "stack"
        base = self._stacked if stack else {}
        colours = self._colours(trace, len(trace["x"]))
        error = trace.get("error_x") or {}
        texts = trace.get("text") or []
        slot = abs(ya.at(0) - ya.at(1)) if ya.categories else 6.0
        thick = slot * 0.7
        for i, (value, category) in enumerate(zip(trace["x"], trace["y"])):
            start = base.get(category, 0.0)
            x1, x2 = xa.at(start), xa.at(start + value)
            y = ya.at(category)
            pdf.set_fill_color(*colours[i])
            pdf.rect(x1, y - thick / 2, max(x2 - x1, 0.0), thick, style="F")
            self.marks.append(Mark("bar", trace.get("name", ""), value, x1, y - thick / 2,
                                   x2 - x1, thick))
            if stack:
                base[category] = start + value
            if error:
                self._error(x2, y, xa, value, error, i, horizontal=True, size=thick * 0.5)
            if i < len(texts) and texts[i]:
                self._text(x1 + 1.0, y, texts[i], size=TEXT_PT,
                           colour=(255, 255, 255) if _dark(colours[i]) else (31, 41, 51))

    def _error(self, at: float, across: float, axis: _Axis, value: float, error: dict[str, Any],
               i: int, *, horizontal: bool, size: float) -> None:
        plus = error.get("array", [0.0])[i]
        minus = error.get("arrayminus", error.get("array", [0.0]))[i]
        low, high = axis.at(value - minus), axis.at(value + plus)
        colour = _rgb(error.get("color"), AXIS_INK)
        if horizontal:
            self._line(low, across, high, across, colour=colour, width_mm=0.3)
            for end in (low, high):
                self._line(end, across - size / 2, end, across + size / 2, colour=colour,
                           width_mm=0.3)
        else:
            self._line(across, low, across, high, colour=colour, width_mm=0.3)
            for end in (low, high):
                self._line(across - size / 2, end, across + size / 2, end, colour=colour,
                           width_mm=0.3)

    def _scatter(self, trace: dict[str, Any]) -> None:
        xa, ya = self.axes[trace.get("xaxis", "x")], self.axes[trace.get("yaxis", "y")]
        mode = trace.get("mode", "lines+markers")
        line = trace.get("line") or {}
        colour = line.get("color") or (trace.get("marker") or {}).get("color") or "#444444"
        points = [(xa.at(x), ya.at(y), y) for x, y in zip(trace["x"], trace["y"])
                  if x is not None and y is not None]
        if "lines" in mode and len(points) > 1:
            self._polyline([(x, y) for x, y, _ in points], colour=_rgb(colour),
                           width_mm=line.get("width", 2) * PX_MM, dash=line.get("dash"))
            if points:
                self.marks.append(Mark("line", trace.get("name", ""), points[-1][2],
                                       points[-1][0], points[-1][1]))
        if "markers" in mode:
            error = trace.get("error_y") or {}
            for i, (x, y, value) in enumerate(points):
                if error:
                    self._error(y, x, ya, value, error, i, horizontal=False, size=2.0)
                self._marker(x, y, trace.get("marker") or {}, _rgb(colour))
                self.marks.append(Mark("marker", trace.get("name", ""), value, x, y))

    def _shape(self, shape: dict[str, Any], annotations: list[dict[str, Any]], index: int,
               top: float, bottom: float) -> None:
        """A line across the plot (data position on one axis, the whole domain on the other)
        and the annotation Plotly placed with it."""
        line = shape.get("line") or {}
        colour = _rgb(line.get("color"), AXIS_INK)
        width = line.get("width", 2) * PX_MM
        vertical = shape.get("x0") == shape.get("x1") and shape.get("xref", "").startswith("x") \
            and "domain" not in shape.get("xref", "")
        if vertical:
            axis = self.axes[shape["xref"]]
            x = axis.at(shape["x0"])
            self._line(x, top, x, bottom, colour=colour, width_mm=width, dash=line.get("dash"))
            self.marks.append(Mark("shape", "", shape["x0"], x, top, 0.0, bottom - top))
        else:
            axis = self.axes[shape["yref"]]
            x_axis = self.axes[shape["xref"].split(" ")[0]]
            y = axis.at(shape["y0"])
            self._line(x_axis.start_mm, y, x_axis.end_mm, y, colour=colour, width_mm=width,
                       dash=line.get("dash"))
            self.marks.append(Mark("shape", "", shape["y0"], x_axis.start_mm, y,
                                   x_axis.end_mm - x_axis.start_mm, 0.0))
        for note in annotations:
            if vertical and note.get("xref") == shape.get("xref") and note.get("x") == shape["x0"]:
                self._text(x + (0 if note.get("xanchor") == "center" else -0.8), top - 0.5,
                           note["text"], size=TEXT_PT, colour=colour, valign="bottom",
                           anchor=note.get("xanchor", "center"))
            elif not vertical and note.get("yref") == shape.get("yref") \
                    and note.get("y") == shape["y0"]:
                below = note.get("yanchor") == "top"
                self._text(x_axis.end_mm - 0.8, y + (0.6 if below else -0.6), note["text"],
                           size=TEXT_PT, colour=colour, anchor="right",
                           valign="top" if below else "bottom")

    def _legend(self, y: float) -> float:
        """Swatch and name of every trace shown in the legend, in rows under the plot."""
        pdf = self.pdf
        for row in self._legend_rows():
            x = self.x0
            mid = y + 2.2
            for trace, width in row:
                colours = self._colours(trace, 1)
                colour = colours[-1] if trace.get("type") == "bar" else colours[0]
                if trace.get("type") == "bar":
                    pdf.set_fill_color(*colour)
                    pdf.rect(x, mid - 1.4, LEGEND_SWATCH_MM * 0.6, 2.8, style="F")
                else:
                    mode = trace.get("mode", "lines")
                    line = trace.get("line") or {}
                    if "lines" in mode:
                        self._line(x, mid, x + LEGEND_SWATCH_MM, mid, colour=colour,
                                   width_mm=line.get("width", 2) * PX_MM, dash=line.get("dash"))
                    if "markers" in mode:
                        marker = dict(trace.get("marker") or {})
                        marker["size"] = min(marker.get("size", 8), 11)
                        self._marker(x + LEGEND_SWATCH_MM / 2, mid, marker, colour)
                self._text(x + LEGEND_SWATCH_MM + 1.5, mid, trace["name"], size=LEGEND_PT)
                x += width
            y += 4.4
        return y + 1.0


def draw_chart(pdf: FPDF, spec: Spec, *, font: str, x_mm: float, y_mm: float,
               width_mm: float) -> tuple[float, list[Mark]]:
    """Draw ``spec`` with its top-left corner at (``x_mm``, ``y_mm``), ``width_mm`` wide;
    returns the height it took [mm] and what it drew."""
    return _Chart(pdf, spec, font, x_mm, y_mm, width_mm).draw()


def chart_height_mm(pdf: FPDF, spec: Spec, *, font: str, width_mm: float) -> float:
    """The height :func:`draw_chart` will take for ``spec``. [mm]"""
    chart = _Chart(pdf, spec, font, 0.0, 0.0, width_mm)
    return spec["layout"].get("height", 400) * PX_MM + len(chart._legend_rows()) * 4.4 + 1.0
