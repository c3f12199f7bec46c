"""Translated user-visible strings, one YAML file per language in ``locales/``.

Pure Python (no Streamlit): the app, reports and tests share one lookup.
Nested YAML keys are flattened with dots (``config.verdict.fits``).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@functools.lru_cache(maxsize=None)
def strings(lang: str) -> dict[str, str]:
    """Every string of one language, keyed by dotted name."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    path = LOCALES_DIR / f"{lang}.yaml"
    with path.open(encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle) or {})


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` fields a string expects."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def translate(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (English, then the key itself, as fallbacks)."""
    text = strings(lang).get(key) or strings(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**values) if values else text


def language_from(query_value: str | None, locale: str | None) -> str:
    """The language to show: ``?lang=`` first, then the browser locale, else English."""
    if query_value in LANGUAGES:
        return query_value
    if locale and locale.lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE


__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "strings", "translate", "language_from", "placeholders"]
