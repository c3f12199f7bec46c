"""The string catalog read once per change of its YAML files, then from the JSON kept
beside the catalog's."""

from __future__ import annotations

import shutil

import pytest

from catalog.catalog import Catalog, load_catalog_from
from catalog.loader import CACHE_DIR_ENV, CATALOG_DIR, load_cached
from report import text
from report.text import LANGUAGES, LOCALES_DIR, read_strings, strings


@pytest.fixture()
def fresh(monkeypatch, tmp_path):
    """The strings read again, with their cache in ``tmp_path / "cache"``."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    text._every_language.cache_clear()
    yield tmp_path / "cache"
    text._every_language.cache_clear()


def test_strings_from_the_cache_are_the_yaml_files_strings(fresh):
    first = {lang: strings(lang) for lang in LANGUAGES}
    (kept,) = fresh.glob("strings-*.json")
    text._every_language.cache_clear()
    kept.write_bytes(kept.read_bytes().replace("可以运行".encode(), b"CACHED"))
    again = {lang: strings(lang) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert first[lang] == read_strings(LOCALES_DIR / f"{lang}.yaml")
    assert any("CACHED" in value for value in again["zh"].values())  # read from the JSON


def test_a_changed_string_file_is_read_again(tmp_path):
    folder, cache = tmp_path / "locales", tmp_path / "cache"
    shutil.copytree(LOCALES_DIR, folder)
    kind = dict[str, dict[str, str]]
    before = load_cached(folder, text._read_locales, kind, cache=cache, name="strings")
    path = folder / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Fits", "Fits today", 1),
                    encoding="utf-8")
    after = load_cached(folder, text._read_locales, kind, cache=cache, name="strings")
    changed = {key for key, value in after["en"].items() if before["en"][key] != value}
    assert changed and all("Fits today" in after["en"][key] for key in changed)


def test_the_strings_and_the_catalog_keep_their_own_cache_files(tmp_path):
    cache = tmp_path / "cache"
    catalog_copy = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog_copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    load_cached(catalog_copy, load_catalog_from, Catalog, cache=cache)
    load_cached(LOCALES_DIR, text._read_locales, dict[str, dict[str, str]], cache=cache,
                name="strings")
    assert sorted(p.name.split("-")[0] for p in cache.glob("*.json")) == ["catalog", "strings"]


def test_fill_writes_count_words_and_plain_fields():
    """Strings with a count field and strings without one fill the same fields alike."""
    assert text.fill("{users:count:user:users} at {speed:,.1f} tokens/s", users=1,
                     speed=1234.56) == "1 user at 1,234.6 tokens/s"
    assert text.fill("{users:count:user:users}", users=1500) == "1,500 users"
    assert text.fill("{budget:,.0f} USD for {name!r}", budget=3000, name="x") == "3,000 USD for 'x'"
    with pytest.raises(KeyError):
        text.fill("{missing} GPUs", count=2)
