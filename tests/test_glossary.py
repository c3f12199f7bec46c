"""One word per idea in English too, and short forms only where the glossary allows them.

``report/locales/glossary.yaml`` names, for each term, the English variants to
avoid (``en_avoid``) and a ``short`` form that only a table's column title may
use. The strings of both languages and every string literal in the code a user
sees (pages, front ends, report, advisor, engine messages) are checked against it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from report.text import GLOSSARY, LANGUAGES, strings

ROOT = Path(__file__).resolve().parents[1]
RULES = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))
TERMS: dict[str, dict] = RULES["terms"]
CODE = ("app.py", "pages", "rigfit", "report", "advisor", "sizing", "catalog")


def _uses(text: str, variant: str) -> bool:
    """Whether ``variant`` stands in ``text`` as a word of its own ("tok/s" is not in "tokens/s")."""
    return re.search(rf"(?<![\w/]){re.escape(variant)}(?![\w/])", text) is not None


def _column_title(key: str) -> bool:
    return key.rsplit(".", 1)[-1].startswith(RULES["short_form_key_prefix"])


def _misused(key: str, text: str, variants: list[str], entry: dict) -> list[str]:
    """The variants ``text`` uses that its key does not allow (a column title may be short)."""
    return [v for v in variants if _uses(text, v)
            and not (v == entry.get("short") and _column_title(key))]


def test_the_checks_find_a_variant_and_allow_a_short_column_title():
    entry = TERMS["tokens/s"]
    assert entry["short"] == "tok/s" and "tok/s" in entry["en_avoid"]
    assert _misused("builds.decode_band", "Likely 3–5 tok/s per user.", entry["en_avoid"], entry)
    assert not _misused("compare.col_decode", "Decode tok/s", entry["en_avoid"], entry)
    assert _misused("compare.col_decode", "Decode tokens/sec", entry["en_avoid"], entry)
    assert not _uses("42 tokens/s", "tok/s") and not _uses("42 tokens/s", "token/s")


def test_english_uses_one_word_per_glossary_term():
    found = sorted((key, variant) for key, text in strings("en").items()
                   for entry in TERMS.values()
                   for variant in _misused(key, text, entry.get("en_avoid", []), entry))
    assert found == [], found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_short_form_appears_only_in_column_titles(lang):
    found = sorted((key, entry["short"]) for key, text in strings(lang).items()
                   for entry in TERMS.values() if entry.get("short")
                   for _ in _misused(key, text, [entry["short"]], entry))
    assert found == [], found


def _literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module but its docstrings, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def _value_pattern(text: str, variant: str, entry: dict) -> bool:
    """A metric tile's value pattern, a number's placeholder and the short unit alone."""
    return variant == entry.get("short") and re.fullmatch(
        rf"\{{[^{{}}]*\}} {re.escape(variant)}", text) is not None


def test_a_short_unit_is_allowed_only_alone_after_a_number_in_the_code():
    entry = TERMS["tokens/s"]
    assert _value_pattern("{:,.1f} tok/s", "tok/s", entry)
    assert not _value_pattern("{:,.1f} tok/s per user", "tok/s", entry)
    assert not _value_pattern("{:,.1f} tokens/sec", "tokens/sec", entry)


def test_the_code_a_user_sees_uses_no_avoided_variant():
    paths = [p for name in CODE for p in ([ROOT / name] if name.endswith(".py")
                                          else sorted((ROOT / name).rglob("*.py")))]
    found = sorted({f"{path.relative_to(ROOT)}:{line}: {variant}" for path in paths
                    for line, text in _literals(path) for entry in TERMS.values()
                    for variant in entry.get("en_avoid", []) + entry["avoid"]
                    if _uses(text, variant) and not _value_pattern(text, variant, entry)})
    assert found == [], found
