"""The report as one self-contained HTML file with interactive Plotly charts.

Offline (the default) the file carries plotly.js once, in a single script tag
in the head, and no other outside reference: it opens from an e-mail
attachment on a machine without network. ``cdn=True`` loads plotly.js from
the Plotly CDN instead (about 25 KB instead of about 4.7 MB). The charts are
Plotly JSON specs (:func:`report.charts.report_specs`) handed to plotly.js, and
plotly.js is read from the installed Plotly package's file: Plotly's Python
package is never imported.

Every text from the content model passes through :func:`html.escape`; chart
JSON escapes ``<``, ``>`` and ``&`` (:func:`report.chart_spec.to_script_json`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, BinaryIO

from catalog.printable import printable_fields
from catalog.schema import ModelArch
from report.chart_spec import (Spec, copy_plotly_js, plotly_js_bytes, plotly_js_version, template,
                               to_script_json)
from report.charts import report_specs
from report.content import ReportContent, Section, Table, report_content
from sizing.estimate import Estimate
from sizing.request import EstimateRequest

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#d9dee3; --ok:#2f855a; --warn:#b7791f; --bad:#c53030; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC",
       "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--ink); margin: 0;
       line-height: 1.45; background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.muted { color: var(--muted); }
.verdict { border-left: 6px solid var(--ok); background: #f0fff4; padding: 12px 16px; margin: 16px 0; }
.verdict.fits-with-offload { border-color: var(--warn); background: #fffaf0; }
.verdict.does-not-fit { border-color: var(--bad); background: #fff5f5; }
.verdict .word { font-weight: 700; letter-spacing: .04em; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr));
         gap: 8px; margin: 8px 0; }
.facts div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.facts dt { font-size: .8rem; color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.hl td { font-weight: 600; background: #f8fafc; }
.chart { margin: 8px 0; }
ul.notes li { margin: 4px 0; }
.sources a { overflow-wrap: anywhere; }
footer { margin-top: 32px; font-size: .8rem; color: var(--muted); }
@media print { .chart { page-break-inside: avoid; } }
"""


# Where the inline plotly.js goes: a NUL, which no escaped text of a report holds.
_INLINE_SCRIPT = "\x00plotly.js\x00"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _facts(facts) -> str:
    items = "".join(f"<div><dt>{_e(f.label)}</dt><dd>{_e(f.value)}</dd></div>" for f in facts)
    return f'<dl class="facts">{items}</dl>'


def _table(table: Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if table.numeric[i] else ""

    head = "".join(f"<th{cls(i)}>{_e(c)}</th>" for i, c in enumerate(table.columns))
    body = "".join(
        f"<tr{' class=hl' if r in table.highlight else ''}>"
        + "".join(f"<td{cls(i)}>{_e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for r, row in enumerate(table.rows))
    title = f"<h3>{_e(table.heading)}</h3>" if table.heading else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(spec: Spec, div_id: str) -> str:
    """A div and the script that draws ``spec`` in it, as Plotly's own HTML export writes."""
    layout = {**spec["layout"], "template": template(spec["layout"]["template"])}
    height = f"{layout['height']}px" if layout.get("height") else "100%"
    width = f"{layout['width']}px" if layout.get("width") else "100%"
    return (f'<div class="chart"><div style="height:{height}; width:{width};">'
            f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;">'
            f'</div><script>window.PLOTLYENV=window.PLOTLYENV || {{}};'
            f'if (document.getElementById("{div_id}")) {{Plotly.newPlot("{div_id}", '
            f'{to_script_json(spec["data"])}, {to_script_json(layout)}, '
            f'{to_script_json(PLOTLY_CONFIG)})}};</script></div></div>')


def _section(section: Section, charts: Mapping[str, str]) -> str:
    parts = [f'<section id="{_e(section.key)}"><h2>{_e(section.heading)}</h2>']
    if section.intro:
        parts.append(f'<p class="muted">{_e(section.intro)}</p>')
    if section.facts:
        parts.append(_facts(section.facts))
    if section.chart in charts:
        parts.append(charts[section.chart])
    parts += [_table(t) for t in section.tables]
    if section.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in section.notes)
                     + "</ul>")
    if section.sources:
        parts.append('<ol class="sources">' + "".join(
            f'<li>{_e(s.label)}: <a href="{_e(s.url)}" rel="noopener noreferrer">{_e(s.url)}</a></li>'
            for s in section.sources) + "</ol>")
    parts.append("</section>")
    return "".join(parts)


def render_html(content: ReportContent, *, cdn: bool = False) -> bytes:
    """UTF-8 HTML for ``content``; plotly.js inlined once unless ``cdn``.

    Invisible control characters in any text (a model name's bidi override)
    are shown escaped (:func:`catalog.printable.printable`).
    """
    before, after = _page(content, cdn=cdn)
    return before if cdn else b"".join((before, plotly_js_bytes(), after))


def write_html(content: ReportContent, out: BinaryIO, *, cdn: bool = False) -> int:
    """Write :func:`render_html`'s bytes to the binary file ``out``; how many. [B]

    plotly.js goes from its file to ``out`` without passing through memory
    (:func:`report.chart_spec.copy_plotly_js`).
    """
    before, after = _page(content, cdn=cdn)
    size = out.write(before)
    if not cdn:
        size += copy_plotly_js(out) + out.write(after)
    return size


def _page(content: ReportContent, *, cdn: bool) -> tuple[bytes, bytes]:
    """The encoded page before and after the inline plotly.js (the whole page and
    nothing with ``cdn``)."""
    content = printable_fields(content)
    charts = {key: _chart(spec, f"chart-{key.replace('_', '-')}")
              for key, spec in report_specs(content).items()}
    # plotly.js goes in as the file's bytes, between the encoded text around it.
    plotly_tag = (f'<script charset="utf-8" src="https://cdn.plot.ly/plotly-'
                  f'{plotly_js_version()}.min.js"></script>') if cdn else _INLINE_SCRIPT
    v = content.verdict
    as_of = "".join(f"<li>{_e(f.label)}: {_e(f.value)}</li>" for f in content.as_of)
    body = "".join(_section(s, charts) for s in content.sections)
    # A Configurator report opens with the verdict; others carry it as a section of their own.
    verdict = (f'<section id="verdict" class="verdict {_e(v.level)}">'
               f'<h2>{_e(content.labels["verdict"])}: <span class="word">{_e(v.word)}</span></h2>'
               f"<p>{_e(v.headline)}</p><p>{_e(v.speed)}</p></section>"
               f"{_facts(content.key_figures)}") if content.verdict_first else ""
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if content.lang == 'zh' else 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(content.title)}</title>
<style>{CSS}</style>
{plotly_tag}
</head>
<body><main>
<header>
<h1>{_e(content.title)}</h1>
<p class="muted">{_e(content.subtitle)}</p>
<p class="muted">{_e(content.generated)} · {_e(content.labels["as_of"])}:</p>
<ul class="muted">{as_of}</ul>
<p class="muted">{_e(content.as_of_note)}</p>
</header>
{verdict}
{body}
<footer>{_e(content.labels["tagline"])}</footer>
</main></body>
</html>
"""
    if cdn:
        return page.encode("utf-8"), b""
    before, _, after = page.partition(_INLINE_SCRIPT)
    return (before.encode("utf-8") + b'<script type="text/javascript">',
            b"</script>" + after.encode("utf-8"))


def build_html(result: Estimate, *, lang: str = "en", query: Mapping[str, Any] | None = None,
               arch: ModelArch | None = None, request: EstimateRequest | None = None,
               cdn: bool = False, **content_options: Any) -> bytes:
    """The HTML report for ``result`` (see :func:`report.content.report_content`)."""
    content = report_content(result, lang=lang, query=query, arch=arch, request=request,
                             **content_options)
    return render_html(content, cdn=cdn)
