"""Plain text for a terminal: aligned columns, standard JSON, and the numbers flags take."""

from __future__ import annotations

import argparse
import json
import math
import unicodedata
from collections.abc import Sequence
from typing import Any

from catalog.errors import echo
from report.formats import pattern_text
from report.text import translate

ERROR_MAX_CHARS = 1000  # one error line; each value it echoes is cut far shorter


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as standard JSON: a NaN or infinity is a bug here, never ``NaN`` in the output."""
    return json.dumps(data, indent=indent, allow_nan=False)


def finite_float(text: str) -> float:
    """A flag's number: finite, so ``inf`` or ``nan`` never reaches the engine."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{echo(text)}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{echo(text)}' is not a finite number")
    return value


def given_text(text: str) -> str:
    """A flag's text: not empty or blank (an unset shell variable), which a command
    would otherwise take as the flag left out."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the value is empty")
    return text


def whole_int(text: str) -> int:
    """A flag's whole number (a count or a length)."""
    try:
        return int(text)
    except ValueError:  # not a whole number, or past Python's 4,300 digits
        raise argparse.ArgumentTypeError(f"'{echo(text)}' is not a whole number") from None


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Plain aligned columns for a terminal."""
    if not rows:
        return "(none)"
    columns = list(rows[0])
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(text_width(c), *(text_width(row[i]) for row in cells))
              for i, c in enumerate(columns)]
    lines = ["  ".join(padded(c, w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(padded(v, w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):  # four significant digits, never in e-notation
        return pattern_text(value, "{:,.4g}" if abs(value) < 1e4 else "{:,.0f}")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def cli_text(key: str, lang: str, /, **values: object) -> str:
    """A command line's table text ``cli.<key>`` in ``lang``, its fields filled."""
    return translate(f"cli.{key}", lang, **values)


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def padded(text: str, width: int) -> str:
    """``text`` filled with spaces to ``width`` terminal columns."""
    return text + " " * (width - text_width(text))
