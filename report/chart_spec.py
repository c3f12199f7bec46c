"""Charts as Plotly JSON: plain dicts, built without importing Plotly's Python package.

A chart is the mapping ``{"data": [trace, ...], "layout": {...}}`` that
plotly.js draws (``Plotly.newPlot(div, data, layout)``) and that
``plotly.graph_objects.Figure(spec)`` reads as it is. The HTML report writes
the specs into the page; the PDF report draws the same specs with fpdf2
(:mod:`report.pdf_charts`); the app's pages wrap them in a Plotly figure.

Lines across the plot (:func:`vline`, :func:`hline`) are written as the shape
and annotation Plotly's ``add_vline``/``add_hline`` add. The layout's
``template`` stays a name; :func:`template` reads the named template from the
installed Plotly package's data files, for pages that carry the spec to
plotly.js themselves.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

Spec = dict[str, Any]
TEMPLATE = "plotly_white"


def figure(*, template: str = TEMPLATE, **layout: Any) -> Spec:
    """An empty chart with ``layout``."""
    return {"data": [], "layout": {"template": template, **layout}}


def vline(spec: Spec, x: float, *, line: dict[str, Any], text: str | None = None,
          position: str = "top", xref: str = "x", yref: str = "y domain") -> None:
    """A vertical line at ``x`` across the plot, labelled ``text`` at its top (as
    Plotly's ``add_vline`` with ``annotation_position`` "top" or "top left")."""
    layout = spec["layout"]
    layout.setdefault("shapes", []).append({"type": "line", "x0": x, "x1": x, "xref": xref,
                                            "y0": 0, "y1": 1, "yref": yref, "line": line})
    if text:
        anchor = "right" if position == "top left" else "center"
        layout.setdefault("annotations", []).append({
            "showarrow": False, "text": text, "x": x, "xanchor": anchor, "xref": xref,
            "y": 1, "yanchor": "bottom" if position == "top" else "top", "yref": yref})


def hline(spec: Spec, y: float, *, line: dict[str, Any], text: str | None = None,
          position: str = "top right", yref: str = "y", xref: str = "x domain") -> None:
    """A horizontal line at ``y`` across the plot, labelled ``text`` at its right end (as
    Plotly's ``add_hline`` with ``annotation_position`` "top right" or "bottom right")."""
    layout = spec["layout"]
    layout.setdefault("shapes", []).append({"type": "line", "x0": 0, "x1": 1, "xref": xref,
                                            "y0": y, "y1": y, "yref": yref, "line": line})
    if text:
        layout.setdefault("annotations", []).append({
            "showarrow": False, "text": text, "x": 1, "xanchor": "right", "xref": xref,
            "y": y, "yanchor": "top" if position.startswith("bottom") else "bottom",
            "yref": yref})


def axis_title(text: str) -> dict[str, str]:
    return {"text": text}


# --- Plotly's bundled files, read as data ---------------------------------------------


def _plotly_data_dir() -> Path:
    """``plotly/package_data`` of the installed Plotly, found without importing it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


@functools.cache
def template(name: str = TEMPLATE) -> dict[str, Any]:
    """The named Plotly template (colours, grid, fonts) as plotly.js reads it."""
    return json.loads((_plotly_data_dir() / "templates" / f"{name}.json").read_bytes())


def plotly_js_bytes() -> bytes:
    """The minified plotly.js bundled with the installed Plotly package, as its UTF-8
    bytes (about 4.6 MB: a report copies them into its file without decoding them)."""
    return (_plotly_data_dir() / "plotly.min.js").read_bytes()


def copy_plotly_js(out: BinaryIO) -> int:
    """Copy the bundled plotly.js (:func:`plotly_js_bytes`) into the binary file ``out``
    at its position; the number of bytes copied. [B]

    Between two files the kernel copies it (``os.sendfile``), so its 4.6 MB are neither
    read into the process nor joined to the page around them (about 5 ms of CPU per
    report); into anything else (a file in memory, a file the kernel does not send to)
    it is copied in chunks.
    """
    with (_plotly_data_dir() / "plotly.min.js").open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        copied = _sent(source, out, size)
        if copied < size:
            source.seek(copied)
            shutil.copyfileobj(source, out)
            return source.tell()
        return copied


def _sent(source: BinaryIO, out: BinaryIO, size: int) -> int:
    """How many of the first ``size`` bytes of ``source`` the kernel copied to ``out``
    (``os.sendfile``): all of them, unless it stopped early or cannot (none)."""
    sendfile = getattr(os, "sendfile", None)
    try:
        target = out.fileno()
    except (AttributeError, OSError):  # io.BytesIO's fileno raises io.UnsupportedOperation
        return 0
    if sendfile is None:
        return 0
    out.flush()
    copied = 0
    try:
        while copied < size:
            sent = sendfile(target, source.fileno(), copied, size - copied)
            if sent == 0:
                break
            copied += sent
    except OSError:
        if copied:
            raise
        return 0  # an output the kernel does not send to (opened to append): copied in chunks
    if out.seekable():  # the file object's idea of its position, behind the kernel's
        out.seek(os.lseek(target, 0, os.SEEK_CUR))
    return copied


def plotly_js() -> str:
    """The minified plotly.js bundled with the installed Plotly package."""
    return plotly_js_bytes().decode("utf-8")


def plotly_js_version() -> str:
    """The version of that plotly.js, from its banner comment ("plotly.js v3.1.1")."""
    with (_plotly_data_dir() / "plotly.min.js").open(encoding="utf-8") as handle:
        head = handle.read(200)
    marker = "plotly.js v"
    start = head.index(marker) + len(marker)
    end = start
    while end < len(head) and (head[end].isdigit() or head[end] == "."):
        end += 1
    return head[start:end]


def to_script_json(value: Any) -> str:
    """JSON safe inside an HTML ``<script>``: ``<``, ``>`` and ``&`` written as escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
