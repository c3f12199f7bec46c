"""Both languages carry the same strings with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from report.text import LANGUAGES, language_from, placeholders, strings, translate

ROOT = Path(__file__).resolve().parent.parent


def test_both_locales_have_the_same_keys():
    english, chinese = strings("en"), strings("zh")
    assert set(english) == set(chinese)
    assert len(english) > 100


@pytest.mark.parametrize("key", sorted(strings("en")))
def test_placeholders_match(key):
    assert placeholders(strings("en")[key]) == placeholders(strings("zh")[key])


def test_no_empty_strings():
    for lang in LANGUAGES:
        assert all(value.strip() for value in strings(lang).values()), lang


def test_every_key_the_app_uses_exists():
    """Literal t("...") calls in app.py and pages/ name keys that exist."""
    known = set(strings("en"))
    used = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                used.add(node.args[0].value)
    assert used, "no t() calls found"
    assert used - known == set()


def test_translate_fills_fields_and_falls_back():
    assert translate("verdict.fits", "en", headroom="2.0 GiB") == "Fits, with 2.0 GiB to spare."
    assert "2.0 GiB" in translate("verdict.fits", "zh", headroom="2.0 GiB")
    assert translate("no.such.key", "zh") == "no.such.key"


@pytest.mark.parametrize(("query", "locale", "expected"), [
    ("zh", "en-US", "zh"), ("en", "zh-CN", "en"), (None, "zh-CN", "zh"), (None, "zh-TW", "zh"),
    (None, "de-DE", "en"), (None, None, "en"), ("<b>", "en-US", "en"),
])
def test_language_from(query, locale, expected):
    assert language_from(query, locale) == expected


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="en, zh"):
        strings("fr")
