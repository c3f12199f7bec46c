"""The report as a PDF: fpdf2, Noto Sans CJK, charts drawn with fpdf2 itself.

Text is set in Noto Sans CJK SC from Debian's ``fonts-noto-cjk`` (it covers
Latin and Chinese), found with ``fc-match``. The charts are the HTML report's
Plotly specs (:func:`report.charts.report_specs`) drawn with fpdf2's lines,
rectangles and text (:mod:`report.pdf_charts`): no browser, no images.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos

from catalog.printable import printable_fields
from catalog.schema import ModelArch
from report.chart_spec import Spec
from report.charts import report_specs
from report.content import Fact, ReportContent, Section, Table, report_content
from report.pdf_charts import chart_height_mm, draw_chart
from report.pdf_fonts import cut_font
from sizing.estimate import Estimate
from sizing.request import EstimateRequest

FONT = "NotoSansCJK"
FONT_QUERY = "Noto Sans CJK SC"
# Debian fonts-noto-cjk: face 2 of the collection is Simplified Chinese.
DEBIAN_FONTS = {"": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
                  "B": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2)}
PAGE_W_MM = 210.0
MARGIN_MM = 15.0
BODY_W_MM = PAGE_W_MM - 2 * MARGIN_MM
INK = (31, 41, 51)
MUTED = (82, 96, 109)
LINE = (217, 222, 227)
HEAD_FILL = (245, 247, 250)
SECTION_HEAD_MM = 24.0  # a heading and a two-line intro, above a chart
VERDICT_FILL = {"fits": (240, 255, 244), "fits-with-offload": (255, 250, 240),
                "does-not-fit": (255, 245, 245)}
VERDICT_BAR = {"fits": (47, 133, 90), "fits-with-offload": (183, 121, 31),
               "does-not-fit": (197, 48, 48)}


class FontMissingError(RuntimeError):
    """Noto Sans CJK is not installed (Debian: apt install fonts-noto-cjk)."""


@functools.cache
def font_file(style: str = "") -> tuple[str, int]:
    """(path, collection index) of Noto Sans CJK SC in ``style`` ("" or "B"): Debian's
    file when it is there (no process to start), else where ``fc-match`` finds it."""
    path, index = DEBIAN_FONTS[style]
    if Path(path).is_file():
        return path, index
    pattern = FONT_QUERY + (":bold" if style == "B" else "")
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}|%{index}", pattern],
                               capture_output=True, text=True, timeout=10, check=False).stdout
        path, _, index = found.partition("|")
        if path and "NotoSansCJK" in Path(path).name and Path(path).is_file():
            return path, int(index or 0)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    raise FontMissingError(f"{FONT_QUERY} not found; install Debian's fonts-noto-cjk")


class _Doc(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text.format(page=self.page_no()), align="R")


class _Writer:
    """Lays out a ReportContent on A4 pages."""

    def __init__(self, content: ReportContent, specs: dict[str, Spec], *, cut_fonts: bool = True):
        self.c = content
        self.specs = specs
        pdf = _Doc(format="A4", unit="mm")
        pdf.footer_text = f"{content.labels['tagline']}  ·  {content.labels['footer']}"
        pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        pdf.set_auto_page_break(True, margin=16)
        for style in ("", "B"):
            path, index = font_file(style)
            if cut_fonts:
                path, index = cut_font(path, index)
            pdf.add_font(FONT, style, path, collection_font_number=index)
        # A subset keeps its source face's bounding box, which holds every glyph: fontTools
        # would recompute it by running the outline program of each glyph a report uses
        # (about 0.3 s of CPU for a Chinese report) for a box no reader needs tighter.
        for font in pdf.fonts.values():
            font.ttfont.recalcBBoxes = False
        pdf.set_title(content.title)
        pdf.set_creator("RigFit")
        pdf.set_lang("zh-CN" if content.lang == "zh" else "en")
        self.pdf = pdf

    # --- primitives -----------------------------------------------------------------
    def text(self, text: str, *, size: float = 9.5, style: str = "", colour=INK,
             height: float | None = None) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(MARGIN_MM)
        pdf.multi_cell(BODY_W_MM, height or size * 0.5, text, align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.ln(3)
        self.text(text, size=13, style="B", height=7)
        pdf.set_draw_color(*LINE)
        pdf.line(MARGIN_MM, pdf.get_y(), PAGE_W_MM - MARGIN_MM, pdf.get_y())
        pdf.ln(2)

    def facts(self, facts: tuple[Fact, ...], columns: int = 2) -> None:
        """Label/value pairs in ``columns`` columns."""
        pdf = self.pdf
        col_w = BODY_W_MM / columns
        label_w = col_w * 0.45
        line = 4.4

        def lines(text: str, width: float, style: str) -> int:
            pdf.set_font(FONT, style, 8.5)
            return len(pdf.multi_cell(width, line, text, align="L", dry_run=True,
                                      output="LINES"))

        for start in range(0, len(facts), columns):
            row = facts[start:start + columns]
            height = line * max(max(lines(f.label, label_w - 1, ""),
                                    lines(f.value, col_w - label_w - 2, "B")) for f in row)
            if pdf.get_y() + height > pdf.h - 18:
                pdf.add_page()
            y = pdf.get_y()
            for i, fact in enumerate(row):
                x = MARGIN_MM + i * col_w
                pdf.set_xy(x, y)
                pdf.set_font(FONT, "", 8.5)
                pdf.set_text_color(*MUTED)
                pdf.multi_cell(label_w - 1, line, fact.label, align="L")
                pdf.set_xy(x + label_w, y)
                pdf.set_font(FONT, "B", 8.5)
                pdf.set_text_color(*INK)
                pdf.multi_cell(col_w - label_w - 2, line, fact.value, align="L")
            pdf.set_xy(MARGIN_MM, y + height + 0.8)

    def table(self, table: Table) -> None:
        pdf = self.pdf
        if table.heading:
            if pdf.get_y() > pdf.h - 40:
                pdf.add_page()
            self.text(table.heading, size=10, style="B", height=6)
        widths = _column_widths(table, pdf)
        pdf.set_font(FONT, "", 8)
        pdf.set_draw_color(*LINE)
        pdf.set_fill_color(255, 255, 255)
        heading_style = {"fill_color": HEAD_FILL, "emphasis": "BOLD", "color": INK}
        with pdf.table(col_widths=widths, width=BODY_W_MM, line_height=4.4,
                       text_align=tuple("RIGHT" if n else "LEFT" for n in table.numeric),
                       headings_style=_font_face(**heading_style), borders_layout="HORIZONTAL_LINES",
                       cell_fill_mode=TableCellFillMode.NONE, padding=(0.8, 1.2), markdown=False,
                       first_row_as_headings=True) as t:
            t.row(table.columns)
            for r, values in enumerate(table.rows):
                style = _font_face(emphasis="BOLD") if r in table.highlight else None
                t.row(values, style=style)
        pdf.ln(2)

    def notes(self, notes: tuple[str, ...]) -> None:
        for note in notes:
            self.pdf.set_x(MARGIN_MM)
            self.text(f"•  {note}", size=8.8, height=4.6)
            self.pdf.ln(0.8)

    def chart(self, spec: Spec) -> None:
        pdf = self.pdf
        if pdf.get_y() + chart_height_mm(pdf, spec, font=FONT, width_mm=BODY_W_MM) > pdf.h - 18:
            pdf.add_page()
        height, _ = draw_chart(pdf, spec, font=FONT, x_mm=MARGIN_MM, y_mm=pdf.get_y(),
                               width_mm=BODY_W_MM)
        pdf.set_xy(MARGIN_MM, pdf.get_y() + height + 1)

    # --- blocks ------------------------------------------------------------------------
    def header(self) -> None:
        c, pdf = self.c, self.pdf
        pdf.add_page()
        self.text(c.title, size=17, style="B", height=8.5)
        self.text(c.subtitle, size=9.5, colour=MUTED, height=5)
        pdf.ln(1)
        dates = " · ".join(f"{f.label}: {f.value}" for f in c.as_of)
        self.text(f"{c.generated}  ·  {c.labels['as_of']}: {dates}", size=8.5, colour=MUTED,
                  height=4.5)
        self.text(c.as_of_note, size=8.5, colour=MUTED, height=4.5)
        pdf.ln(3)

    def verdict(self) -> None:
        v, pdf = self.c.verdict, self.pdf
        y = pdf.get_y()
        pdf.set_font(FONT, "", 10)
        lines = sum(len(pdf.multi_cell(BODY_W_MM - 8, 5.5, text, align="L", dry_run=True,
                                       output="LINES")) for text in (v.headline, v.speed))
        box_h = 2.5 + 6 + 5.5 * lines + 2.5
        pdf.set_fill_color(*VERDICT_FILL.get(v.level, HEAD_FILL))
        pdf.rect(MARGIN_MM, y, BODY_W_MM, box_h, style="F")
        pdf.set_fill_color(*VERDICT_BAR.get(v.level, MUTED))
        pdf.rect(MARGIN_MM, y, 1.8, box_h, style="F")
        pdf.set_xy(MARGIN_MM + 4, y + 2.5)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(*VERDICT_BAR.get(v.level, INK))
        pdf.cell(BODY_W_MM - 8, 6, f"{self.c.labels['verdict']}: {v.word}",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for text in (v.headline, v.speed):
            pdf.set_x(MARGIN_MM + 4)
            pdf.set_font(FONT, "", 10)
            pdf.set_text_color(*INK)
            pdf.multi_cell(BODY_W_MM - 8, 5.5, text, align="L", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
        pdf.set_y(y + box_h + 3)
        self.facts(self.c.key_figures)

    def section(self, s: Section) -> None:
        spec = self.specs.get(s.chart) if s.chart else None
        if spec is not None and (self.pdf.get_y() + SECTION_HEAD_MM
                                 + chart_height_mm(self.pdf, spec, font=FONT, width_mm=BODY_W_MM)
                                 > self.pdf.h - 18):
            self.pdf.add_page()  # keep the heading and intro with their chart
        self.heading(s.heading)
        if s.intro:
            self.text(s.intro, size=8.8, colour=MUTED, height=4.6)
            self.pdf.ln(1)
        if s.facts:
            self.facts(s.facts)
        if spec is not None:
            self.chart(spec)
        for t in s.tables:
            self.table(t)
        if s.notes:
            self.notes(s.notes)
        for i, src in enumerate(s.sources, start=1):
            self.text(f"{i}. {src.label}: {src.url}", size=8, height=4.2)

    def lay_out(self) -> bool:
        """Every block on its pages; False when a character had no glyph in the fonts."""
        self.header()
        if self.c.verdict_first:  # other reports carry the verdict as a section
            self.verdict()
        for s in self.c.sections:
            self.section(s)
        return not any(getattr(font, "missing_glyphs", None) for font in self.pdf.fonts.values())


def _font_face(**kwargs: Any):
    from fpdf.fonts import FontFace
    return FontFace(**kwargs)


# What a table cell may not break inside: a run of non-space, non-CJK characters
# ("USD/month", "g5.12xlarge"). Chinese breaks between any two characters.
_UNBREAKABLE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+")
CELL_PAD_MM = 3.0  # the cell's padding on both sides, and a little air
MAX_COLUMN_MM = 90.0


def _column_widths(table: Table, pdf: FPDF) -> tuple[float, ...]:
    """Widths [mm] that fill the body: every column at least as wide as its longest word
    (so no word breaks in the middle), the space left shared out by how much longer
    each column's longest line is."""
    floors, wants = [], []
    for i, column in enumerate(table.columns):
        texts = [("B", str(column)), *(("", str(row[i])) for row in table.rows)]
        longest_word = longest_line = 0.0
        for style, text in texts:
            pdf.set_font(FONT, style, 8)
            longest_line = max(longest_line, pdf.get_string_width(text))
            longest_word = max([longest_word, *(pdf.get_string_width(w)
                                                for w in _UNBREAKABLE.findall(text))])
        floors.append(max(longest_word + CELL_PAD_MM, 12.0))
        wants.append(max(min(longest_line + CELL_PAD_MM, MAX_COLUMN_MM), floors[-1]))
    pdf.set_font(FONT, "", 8)
    spare, extra = BODY_W_MM - sum(floors), [w - f for w, f in zip(wants, floors)]
    if spare <= 0 or sum(extra) <= spare:
        return tuple(wants)  # the table scales these to the body's width
    return tuple(f + e * spare / sum(extra) for f, e in zip(floors, extra))


def render_pdf(content: ReportContent, *, charts_enabled: bool = True) -> bytes:
    """PDF bytes for ``content``, with its charts unless ``charts_enabled`` is off.

    Invisible control characters in any text are shown escaped, as in the HTML.
    """
    content = printable_fields(content)
    specs = report_specs(content) if charts_enabled else {}
    writer = _Writer(content, specs)
    if not writer.lay_out():  # a character outside the cut fonts: the full ones have it
        writer = _Writer(content, specs, cut_fonts=False)
        writer.lay_out()
    return bytes(writer.pdf.output())


def build_pdf(result: Estimate, *, lang: str = "en", query: Mapping[str, Any] | None = None,
              arch: ModelArch | None = None, request: EstimateRequest | None = None,
              **content_options: Any) -> bytes:
    """The PDF report for ``result`` (see :func:`report.content.report_content`)."""
    content = report_content(result, lang=lang, query=query, arch=arch, request=request,
                             **content_options)
    return render_pdf(content)
