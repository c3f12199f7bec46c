"""Every page and the PDF report in Chinese: no English sentence left over.

Debian's Chromium opens each page with ``?lang=zh`` and reads every text node
of the page (collapsed expanders included, icon ligatures excluded); the
Chinese PDF is read back with pdftotext. A run of Latin-letter words between
Chinese characters is an English sentence unless its words are names (of GPUs,
models, runtimes, formats, instances, from the catalog), ids or units.
"""

from __future__ import annotations

import functools
import re
import subprocess
import urllib.parse

import pytest

from benchmarks.serving import serving
from catalog.catalog import load_catalog
from catalog.market import PROVIDER_NAMES
from report.content import PlanInputs, report_content
from report.pdf import render_pdf
from sizing.estimate import estimate
from sizing.request import parse_request

SCENARIO = {"model": "llama-3.1-70b", "gpu": "rtx-4090", "quant": "q4_k_m", "runtime": "llama.cpp",
            "context_tokens": 8192, "budget_usd": 3000, "users": 1, "lang": "zh"}
# Each page, and the Configurator with a machine no one can build (an engine error).
PAGES = (("", {}, "运行于"), ("compare", {}, "显卡对比"), ("builds", {}, "经济型"),
         ("cloud", {}, "云端"), ("reports", {}, "下载报告"), ("method", {}, "从未用于拟合"),
         ("", {"gpu": "apple-m4-max-40c", "gpu_count": 2}, "是一台自带一块 GPU 的整机"))
TIMEOUT_MS = 60_000

# Words that stay in Latin letters in Chinese text: units, acronyms, product,
# file-format and API names (lowercase; matched word by word).
ALLOWED_WORDS = frozenset("""
gib gb gb/s mb tb tok token tokens s w kw kwh v a k c mm hz ghz rpm usd cny eur gbp jpy
gpu gpus cpu ram vram kv moe gqa mla rope pcie nvlink nvme sata ssd hdd ecc tdp psu atx eps
fp16 fp8 bf16 fp32 int8 int4 nf4 q8_0 q4_0 gguf safetensors mlx awq gptq exl2 mxfp4 bitsandbytes
cuda rocm metal vulkan sycl ipex oneapi mps api cli json html pdf png csv yaml url id ids
llama.cpp ollama vllm sglang transformers exllamav2 pytorch hugging face hub config.json mmproj
flash attention nvidia-smi rocm-smi amd nvidia intel apple geforce radeon rtx arc m1 m2 m3 m4
aws gcp azure lambda runpod rigfit open-autoglm autoglm prefill decode roofline cv p90 llm
x x16 x8 x4 x1 ok max pro ultra sxm nvl
""".split())
# Links and command-line options (a command quoted for the user to run).
URL = re.compile(r"https?://\S+|(?<!\w)--?[\w-]+(?:=\S+)?")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'/-]*[A-Za-z0-9]|[A-Za-z]")


@functools.cache
def catalog_names() -> tuple[str, ...]:
    """Names a page may show as they are, longest first (so a name wins over its words)."""
    cat = load_catalog()
    parts = (cat.market.cpus, cat.market.motherboards, cat.market.ram_kits, cat.market.storage,
             cat.market.psus, cat.market.cases, cat.market.cpu_coolers)
    names = {r.name for kind in (cat.gpus, cat.models, cat.quants, *parts) for r in kind}
    names |= {r.id for kind in (cat.gpus, cat.models, cat.quants, cat.runtimes) for r in kind}
    names |= set(PROVIDER_NAMES.values())
    return tuple(sorted(names, key=len, reverse=True))


@functools.cache
def name_words() -> frozenset[str]:
    """Every word of a catalog name, for a PDF table cell that wraps a name over two lines."""
    return frozenset(word.lower() for name in catalog_names() for word in name.split())


def english_runs(text: str, allowed: frozenset[str] = ALLOWED_WORDS) -> list[str]:
    """Stretches of text between Chinese characters with two or more English words in them.

    >>> english_runs("显存：13.0 GiB。Fits, with 2.0 GiB to spare.")
    ['Fits, with 2.0 GiB to spare.']
    """
    found = []
    for line in text.splitlines():
        for run in CJK.split(line):
            stripped = URL.sub(" ", run)
            for name in catalog_names():
                if name in stripped:
                    stripped = stripped.replace(name, " ")
            words = [w for w in WORD.findall(stripped) if w.lower() not in allowed
                     and not any(ch.isdigit() for ch in w) and not w.isupper()]
            if len(words) >= 2:
                found.append(run.strip())
    return found


VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || skip.has(el.tagName) || el.closest('[data-testid="stIconMaterial"], code, pre')
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
