"""A model name's invisible characters are shown escaped in the HTML and the PDF report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from catalog.catalog import load_catalog
from report.content import report_content
from report.html import render_html
from report.pdf import render_pdf
from sizing.architecture import parse_hf_config_text
from sizing.estimate import estimate
from sizing.request import parse_request
from tests.model_configs import LLAMA3_8B

# (the hostile character, how the report shows it). A line separator is folded to a
# space and a lone surrogate refused when the name is read (sizing.architecture).
HOSTILE = [
    ("\u202e", "\\u202e"),  # right-to-left override: "exe.gnp" would read "png.exe"
    ("\u2067", "\\u2067"),  # right-to-left isolate
    ("\u200b", "\\u200b"),  # zero-width space
    ("\x1b", "\\x1b"),  # terminal escape
]
NAME = "evil" + "".join(char for char, _ in HOSTILE) + "gnp.exe 显卡"
SHOWN = "evil" + "".join(shown for _, shown in HOSTILE) + "gnp.exe 显卡"


@pytest.fixture(scope="module")
def contents():
    catalog = load_catalog()
    arch = parse_hf_config_text(json.dumps(LLAMA3_8B).encode(), name=NAME)
    request = parse_request({"hf_config": "config.json", "gpu": "rtx-3090"})
    result = estimate(request, catalog, arch=arch)
    return {lang: report_content(result, lang=lang, arch=arch, catalog=catalog)
            for lang in ("en", "zh")}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_shows_the_name_escaped(contents, lang):
    html = render_html(contents[lang], cdn=True).decode()
    assert SHOWN in html
    for char, _ in HOSTILE:
        assert char not in html


@pytest.mark.usefixtures("pdftotext_installed")
def test_pdf_shows_the_name_escaped(contents, tmp_path):
    path = Path(tmp_path / "r.pdf")
    path.write_bytes(render_pdf(contents["zh"], charts_enabled=False))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    assert SHOWN in text
    for char, _ in HOSTILE:
        assert char not in text
