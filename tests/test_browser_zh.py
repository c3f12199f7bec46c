"""Every page and the PDF report in Chinese: no English word left over.

Debian's Chromium opens each page with ``?lang=zh`` and reads every text node
of the page (collapsed expanders included, icon ligatures excluded); the
Chinese PDF is read back with pdftotext, and every Chinese string of the
catalog is read as it is. A Latin-letter word between Chinese characters is
English left over unless it is a name (of a GPU, model, runtime, format,
instance, from the catalog, or a tool), an id, a unit, an acronym, a glossary
term or a command (:mod:`tests.english_runs`).
"""

from __future__ import annotations

import re
import subprocess
import urllib.parse

import pytest

from benchmarks.serving import serving
from catalog.catalog import load_catalog
from report.content import PlanInputs, report_content
from report.pdf import render_pdf
from report.text import strings
from sizing.estimate import estimate
from sizing.request import parse_request
from tests.english_runs import ALLOWED_WORDS, english_runs, name_words

SCENARIO = {"model": "llama-3.1-70b", "gpu": "rtx-4090", "quant": "q4_k_m", "runtime": "llama.cpp",
            "context_tokens": 8192, "budget_usd": 3000, "users": 1, "lang": "zh"}
# Each page, and the Configurator with a machine no one can build (an engine error).
PAGES = (("", {}, "运行于"), ("compare", {}, "显卡对比"), ("builds", {}, "经济型"),
         ("cloud", {}, "云端"), ("reports", {}, "下载报告"), ("method", {}, "从未用于拟合"),
         ("", {"gpu": "apple-m4-max-40c", "gpu_count": 2}, "是一台自带一块 GPU 的整机"))
TIMEOUT_MS = 60_000

VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || skip.has(el.tagName)
        || el.closest('[data-testid="stIconMaterial"], [data-testid="stAlertDynamicIcon"], '
                      + '[role="img"], code, pre')
        || el.closest('a[href^="#"]')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  return out.join('\\n');
}"""


@pytest.fixture(scope="module")
def base_url(browser):
    with serving() as url:
        yield url


def test_english_runs_finds_a_sentence_and_passes_names_and_units():
    assert english_runs("无法估算此组合：runtime 'transformers' cannot run quant 'q4_k_m'") == [
        "runtime 'transformers' cannot run quant 'q4_k_m'"]
    assert english_runs("Llama 3.1 70B 运行于 NVIDIA GeForce RTX 4090：13.0 GiB，42 tok/s。") == []
    assert english_runs("Written by a script; do not edit by hand.") != []
    assert english_runs("显存不够时 reduce 上下文") == ["reduce"]  # one stray word is enough
    assert english_runs("推测生成（speculative）") == ["speculative"]
    assert english_runs("运行 rigfit plan，用 tokens/s 计，写入 config.json 的 head_dim。") == []


def test_every_chinese_string_has_no_english_word():
    """The catalog's Chinese strings, placeholders left out: most of what a page can show."""
    found = {key: runs for key, text in strings("zh").items()
             if (runs := english_runs(re.sub(r"\{[^{}]*\}", " ", text)))}
    assert found == {}


@pytest.mark.parametrize(("path", "change", "shown"), PAGES)
def test_every_page_in_chinese_has_no_english_sentence(browser, base_url, path, change, shown):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    query = urllib.parse.urlencode({**SCENARIO, **change})
    page.goto(f"{base_url}/{path}?{query}", wait_until="networkidle")
    page.get_by_test_id("stSidebarNav").get_by_text("配置器", exact=True).wait_for(
        timeout=TIMEOUT_MS)
    page.get_by_test_id("stMain").get_by_text(shown).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=TIMEOUT_MS)
    text = page.evaluate(VISIBLE_TEXT_JS)
    page.close()
    assert shown in text
    runs = english_runs(text)
    assert not runs, "\n".join(runs)


def test_the_chinese_pdf_has_no_english_sentence(pdftotext_installed, tmp_path):
    cat = load_catalog()
    request = parse_request({key: value for key, value in SCENARIO.items()
                             if key not in ("budget_usd", "users", "lang")})
    content = report_content(estimate(request, cat), lang="zh", catalog=cat, request=request,
                             inputs=PlanInputs(budget_usd=3000, users=1, hours_per_day=8))
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(content, charts_enabled=False))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    assert "显存" in text
    runs = english_runs(text, ALLOWED_WORDS | name_words())
    assert not runs, "\n".join(runs)
