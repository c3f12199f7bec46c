"""Text from users and files, shown as what it holds: invisible characters escaped.

A model name read from a config.json, a GGUF header, a file name or a link can
carry characters that are never drawn yet change what is drawn: the
bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reverse
the text after them, so ``"model\\u202egnp.exe"`` reads as "modelexe.png";
zero-width characters hide inside ids; terminal escapes recolour a console;
line and paragraph separators (U+2028, U+2029) break a line where none shows;
a lone surrogate cannot be written as UTF-8 at all. :func:`printable` shows
each such character as its Python escape (``\\u202e``, ``\\x1b``), so the text
reads as what it holds and can be copied back. Tabs and newlines stay.

Unicode's general categories decide: Cc (control), Cf (format: the bidi
controls, zero-width joiners, the byte-order mark, soft hyphens), Cs (lone
surrogates), Zl and Zp (line and paragraph separators);
https://www.unicode.org/reports/tr44/#General_Category_Values and, for the
bidi controls, https://www.unicode.org/reports/tr9/#Explicit_Directional_Embeddings.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any, TypeVar

# The general categories shown escaped.
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEPT = frozenset("\n\t")  # the whitespace that lays text out as intended
T = TypeVar("T")


def _shown(ch: str) -> str:
    if ch in _KEPT or unicodedata.category(ch) not in ESCAPED_CATEGORIES:
        return ch
    return ch.encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """``text`` with every control, format, surrogate and separator character escaped.

    >>> printable("model\\u202egnp.exe")
    'model\\\\u202egnp.exe'
    >>> printable("显卡 RTX 4090\\n")
    '显卡 RTX 4090\\n'
    """
    text = str(text)
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(_shown(ch) for ch in text)


def printable_fields(value: T) -> T:
    """``value`` with :func:`printable` applied to every string in it.

    Walks frozen dataclasses, tuples, lists and dicts (keys and values); any
    other object is returned as it is.
    """
    return _walk(value)


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _walk(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_walk(v) for v in value)
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, dict):
        return {_walk(k): _walk(v) for k, v in value.items()}
    return value


__all__ = ["ESCAPED_CATEGORIES", "printable", "printable_fields"]
