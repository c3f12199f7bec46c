"""Text a user reads: no emoji, no "(s)" plurals, in the string catalog and in the code.

Emoji need an emoji font; without one (Debian's Chromium, most PDF fonts) they
draw as empty boxes. Marks use Material icons or words instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from report.text import LANGUAGES, strings, translate

ROOT = Path(__file__).resolve().parent.parent
# Pictographs, dingbats (✅ ❌ ✓), miscellaneous symbols (⚠ ♻), arrows-and-stars (⭐) and
# the emoji presentation selector.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
CODE_DIRS = ("pages", "report", "advisor", "sizing", "rigfit")


def code_strings() -> list[tuple[str, str]]:
    """(file:line, text) of every string literal in the app, report, engine and CLI."""
    files = [ROOT / "app.py", *(p for d in CODE_DIRS for p in sorted((ROOT / d).glob("*.py")))]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_catalog_string_holds_an_emoji(lang):
    assert {k: v for k, v in strings(lang).items() if EMOJI.search(v)} == {}


def test_no_string_in_the_code_holds_an_emoji():
    assert [where for where, text in code_strings() if EMOJI.search(text)] == []


def test_the_pattern_catches_the_marks_once_used():
    assert all(EMOJI.search(mark) for mark in ("✅", "❌", "⚠️", "♻", "✓", "🧮"))
    assert not EMOJI.search("× → ° – ≈ · GiB 显卡")


def test_english_says_one_or_many_without_parentheses():
    # "user(s)", not "Think time (s)" (seconds).
    assert {k: v for k, v in strings("en").items() if re.search(r"\w\(s\)", v)} == {}
    assert translate("builds.meets", "en", count=1, model="M", need="10",
                     budget="$1").startswith("1 distinct build runs M")
    assert translate("builds.meets", "en", count=3, model="M", need="10",
                     budget="$1").startswith("3 distinct builds run M")


def test_no_string_in_the_code_says_one_or_many_with_parentheses():
    # The command line's tables and notes count with sizing.notices.count_text.
    # Doc-strings (a bare string statement) are prose for developers and are skipped.
    plural = re.compile(r"\b(?:user|row|slot|sequence|token|layer|request|build)\(s\)")
    docstrings = {f"{path.relative_to(ROOT)}:{node.value.lineno}"
                  for path in [ROOT / "app.py", *(p for d in CODE_DIRS
                                                  for p in sorted((ROOT / d).glob("*.py")))]
                  for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    assert [where for where, text in code_strings()
            if plural.search(text) and where not in docstrings] == []
