"""The PDF's fonts cut to the report's own characters, and the full faces when a text needs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from catalog.catalog import load_catalog
from catalog.loader import CACHE_DIR_ENV
from report.content import PlanInputs, report_content
from report.pdf import font_file, render_pdf
from report.pdf_fonts import cut_font, known_chars
from report.text import strings
from sizing.architecture import parse_hf_config_text
from sizing.estimate import estimate
from sizing.request import parse_request
from tests.model_configs import LLAMA3_8B

KOREAN = "한국어 모델"  # Hangul: in Noto Sans CJK, in no string or catalog file


def test_the_cut_face_has_every_character_of_both_languages_and_is_made_once(tmp_path):
    path, index = font_file("")
    cut, number = cut_font(path, index, cache=tmp_path)
    assert Path(cut).parent == tmp_path and number == 0
    cmap = TTFont(cut).getBestCmap()
    wanted = {ch for lang in ("en", "zh") for text in strings(lang).values() for ch in text
              if ch.isprintable()}
    assert {ch for ch in wanted if ord(ch) not in cmap} == set()
    assert ord(KOREAN[0]) not in cmap and ord(KOREAN[0]) in TTFont(path, fontNumber=index).getBestCmap()
    made = Path(cut).stat().st_mtime_ns
    assert cut_font(path, index, cache=tmp_path) == (cut, 0)
    assert Path(cut).stat().st_mtime_ns == made


def test_without_a_cache_folder_the_full_face_is_used(monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, "")
    path, index = font_file("B")
    assert cut_font(path, index) == (path, index)


def test_known_characters_cover_the_catalog_names():
    names = {ch for gpu in load_catalog().gpus for ch in gpu.name}
    assert names <= known_chars()


@pytest.mark.usefixtures("pdftotext_installed")
def test_a_name_outside_the_cut_is_drawn_with_the_full_faces(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    catalog = load_catalog()
    arch = parse_hf_config_text(json.dumps(LLAMA3_8B).encode(), name=KOREAN)
    result = estimate(parse_request({"hf_config": "config.json", "gpu": "rtx-3090"}), catalog,
                      arch=arch)
    content = report_content(result, lang="zh", arch=arch, inputs=PlanInputs(), catalog=catalog)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(content, charts_enabled=False))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    assert KOREAN in text and "显存" in text
