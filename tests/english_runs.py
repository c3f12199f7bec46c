"""Find English sentences left in Chinese text.

A run of Latin-letter words between Chinese characters is an English sentence
unless its words are names (of GPUs, models, runtimes, formats, instances,
from the catalog), ids or units. Used on the app's pages, the PDF report and
the command line's tables.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from catalog.catalog import load_catalog
from catalog.market import PROVIDER_NAMES

ROOT = Path(__file__).resolve().parent.parent

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
    # The Method page's temperature checks name each review: its publication and the card
    # it tested ("Legit Reviews, EVGA RTX 3060 XC Black").
    accuracy = json.loads((ROOT / "docs" / "accuracy.json").read_text(encoding="utf-8"))
    names |= {part for row in accuracy.get("temperatures", []) if row.get("review")
              for part in row["review"].split(", ")}
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
