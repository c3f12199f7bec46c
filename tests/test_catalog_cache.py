"""The validated catalog kept between runs: used only for the very same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog.catalog import Catalog, load_catalog_from
from catalog.loader import (CACHE_DIR_ENV, CACHE_KEEP_FILES, CATALOG_DIR, cache_dir, catalog_key,
                            load_cached)


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A copy of the packaged catalog's YAML files."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


class Counting:
    """load_catalog_from, counting the times it really reads the files."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, directory: Path):
        self.calls += 1
        return load_catalog_from(directory)


def rename_first_gpu(folder: Path, name: str) -> None:
    path = folder / "gpus.yaml"
    text = path.read_text(encoding="utf-8")
    first = load_catalog_from(folder).gpus[0].name
    assert first in text
    path.write_text(text.replace(first, name, 1), encoding="utf-8")


def test_the_second_load_of_the_same_files_comes_from_the_cache(folder, tmp_path):
    build, cache = Counting(), tmp_path / "cache"
    first = load_cached(folder, build, Catalog, cache=cache)
    second = load_cached(folder, build, Catalog, cache=cache)
    assert build.calls == 1 and second == first
    assert [p.name for p in cache.iterdir()] == [f"catalog-{catalog_key(folder)[:32]}.json"]


def test_a_changed_file_is_read_again_never_answered_from_the_cache(folder, tmp_path):
    build, cache = Counting(), tmp_path / "cache"
    before = load_cached(folder, build, Catalog, cache=cache)
    rename_first_gpu(folder, "Renamed Test GPU")
    after = load_cached(folder, build, Catalog, cache=cache)
    assert build.calls == 2
    assert after.gpus[0].name == "Renamed Test GPU" != before.gpus[0].name
    assert len(list(cache.glob("catalog-*.json"))) == 2  # the earlier file is kept, unread


def test_only_the_newest_caches_are_kept(folder, tmp_path):
    build, cache = Counting(), tmp_path / "cache"
    keys = []
    for number in range(CACHE_KEEP_FILES + 2):
        rename_first_gpu(folder, f"Test GPU {number}")
        load_cached(folder, build, Catalog, cache=cache)
        keys.append(catalog_key(folder)[:32])
    kept = sorted(p.name for p in cache.glob("catalog-*.json"))
    assert kept == sorted(f"catalog-{key}.json" for key in keys[-CACHE_KEEP_FILES:])


def test_two_catalogs_sharing_a_cache_folder_each_keep_theirs(folder, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    rename_first_gpu(other, "Other Test GPU")
    build, cache = Counting(), tmp_path / "cache"
    for _ in range(2):
        load_cached(folder, build, Catalog, cache=cache)
        load_cached(other, build, Catalog, cache=cache)
    assert build.calls == 2  # once each, then both from the cache


def test_a_new_file_in_the_folder_changes_the_key(folder):
    key = catalog_key(folder)
    (folder / "extra.yaml").write_text("extra: []\n", encoding="utf-8")
    assert catalog_key(folder) != key


@pytest.mark.parametrize("data", [b"", b"\xff\xfe not text", b"not a key\n{}", "{key}\n{{}}",
                                  "{key}\n{{\"gpus\": [1, 2]}}", "{key}\n[truncated"])
def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten(folder, tmp_path, data):
    build, cache = Counting(), tmp_path / "cache"
    load_cached(folder, build, Catalog, cache=cache)
    (path,) = cache.glob("catalog-*.json")
    key = catalog_key(folder)
    path.write_bytes(data if isinstance(data, bytes) else data.format(key=key).encode())
    again = load_cached(folder, build, Catalog, cache=cache)
    assert build.calls == 2 and again == load_catalog_from(folder)
    assert path.read_bytes().startswith(key.encode() + b"\n{")


def test_a_catalog_with_an_error_is_not_kept(folder, tmp_path):
    (folder / "gpus.yaml").write_text("gpus: [{id: broken}]\n", encoding="utf-8")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="gpus.yaml"):
        load_cached(folder, load_catalog_from, Catalog, cache=cache)
    assert not list(cache.glob("catalog-*.json"))


def test_an_unwritable_cache_folder_still_loads(folder, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    build = Counting()
    assert load_cached(folder, build, Catalog, cache=blocked / "cache").gpus
    assert build.calls == 1


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here"
    monkeypatch.setenv(CACHE_DIR_ENV, "")
    assert cache_dir() is None
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "rigfit"


def test_lookup_tables_filled_while_loading_are_left_out(folder, tmp_path):
    def build(directory: Path) -> Catalog:
        catalog = load_catalog_from(directory)
        catalog.gpu(catalog.gpus[0].id)  # fills the id index with records
        catalog._index[("derived", "anything")] = {("a", 1): object()}  # not JSON
        return catalog

    cache = tmp_path / "cache"
    first = load_cached(folder, build, Catalog, cache=cache)
    again = load_cached(folder, build, Catalog, cache=cache)
    assert again == first and again._index == {}
    assert again.gpu(first.gpus[0].id) == first.gpus[0]


def test_a_catalog_read_back_from_its_cache_builds_no_record_validator(tmp_path):
    import os
    import subprocess
    import sys

    probe = ("from catalog.catalog import load_catalog; from catalog.schema import Record; "
             "kinds, seen = [Record], []\n"
             "while kinds:\n"
             "    kind = kinds.pop(); seen.append(kind); kinds += kind.__subclasses__()\n"
             "catalog = load_catalog()\n"
             "print(len(catalog.gpus), sorted(k.__name__ for k in seen if k.__pydantic_complete__))")
    env = {**os.environ, CACHE_DIR_ENV: str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                           cwd=Path(__file__).resolve().parents[1], timeout=120, check=True).stdout
            for _ in range(2)]
    gpus = len(load_catalog_from(CATALOG_DIR).gpus)
    assert runs[0].startswith(f"{gpus} [") and "'Gpu'" in runs[0]  # read from YAML: validated there
    # Read back: one validator for the whole catalog, and Price's, as a Mac's own validator
    # prices the memory size it is listed with (Gpu.memory_price).
    assert runs[1] == f"{gpus} ['Price']\n"
