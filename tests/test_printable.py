"""Invisible characters in names are shown escaped; visible text is left as it is."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.printable import ESCAPED_CATEGORIES, printable, printable_fields

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize(("text", "shown"), [
    ("model\u202egnp.exe", "model\\u202egnp.exe"),  # right-to-left override
    ("\u2066evil\u2069", "\\u2066evil\\u2069"),  # left-to-right isolate and its end
    ("rtx\u200b-4090", "rtx\\u200b-4090"),  # zero-width space
    ("\ufeffLlama", "\\ufeffLlama"),  # byte-order mark
    ("a\x1b[31mred", "a\\x1b[31mred"),  # terminal colour escape
    ("one\u2028two", "one\\u2028two"),  # line separator
    ("lone \ud800 half", "lone \\ud800 half"),  # a surrogate UTF-8 cannot encode
    ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
    ("Qwen2.5 14B · 显卡 ✓ é", "Qwen2.5 14B · 显卡 ✓ é"),
    ("two\nlines\tand a tab", "two\nlines\tand a tab"),
    ("", ""),
])
def test_invisible_characters_are_escaped(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("ch", BIDI_CONTROLS)
def test_every_bidi_control_is_escaped(ch):
    assert printable(f"a{ch}b") == f"a\\u{ord(ch):04x}b"


@settings(deadline=None)  # timing varies on a shared machine
@given(st.text())
def test_what_is_shown_is_visible_and_reads_back(text):
    shown = printable(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) not in ESCAPED_CATEGORIES for ch in shown)
    shown.encode("utf-8")  # no lone surrogate is left
    assert printable(shown) == shown
    # Only escaped characters changed: undoing the escapes of the original's text gives it back.
    if "\\" not in text:
        assert shown.encode("ascii", "backslashreplace").decode("unicode_escape") == text


@dataclasses.dataclass(frozen=True)
class _Row:
    name: str
    values: tuple[str, ...]
    extra: dict[str, object]
    count: int = 3


def test_every_string_in_a_record_is_shown_escaped():
    row = _Row("a\u202eb", ("c\u200d", "d"), {"k\x1b": ["e\u2066"]}, 3)
    assert printable_fields(row) == _Row("a\\u202eb", ("c\\u200d", "d"),
                                         {"k\\x1b": ["e\\u2066"]}, 3)
    assert printable_fields(("x", 1.5, None)) == ("x", 1.5, None)
