"""A broken catalog at start: a message naming file, entry and field, and no numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._engine import CATALOG_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def broken_catalog(tmp_path, monkeypatch):
    """A copy of the catalog with one GPU's memory made negative."""
    copy = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    gpus = copy / "gpus.yaml"
    text = gpus.read_text(encoding="utf-8")
    start = text.index("  - id: rtx-4090\n")
    field = text.index("    memory_gib: 24\n", start)
    gpus.write_text(text[:field] + "    memory_gib: -24\n" + text[field + 19:], encoding="utf-8")
    monkeypatch.setenv(CATALOG_DIR_ENV, str(copy))
    return copy


def test_a_broken_catalog_names_file_entry_and_field_and_shows_no_numbers(broken_catalog):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "catalog is broken" in message
    assert "gpus.yaml" in message and "rtx\\-4090" in message and "memory\\_gib" in message
    assert not at.metric and not at.dataframe and not at.success and not at.title


def test_a_malformed_catalog_file_names_the_line(broken_catalog):
    shutil.copy(ROOT / "catalog" / "gpus.yaml", broken_catalog / "gpus.yaml")
    (broken_catalog / "quants.yaml").write_text("quants:\n  - id: [unclosed\n", encoding="utf-8")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert "目录文件有误" in at.error[0].value and "quants.yaml" in at.error[0].value
    assert "line" in at.error[0].value and not at.metric
