"""Find English left in Chinese text.

A Latin-letter word between Chinese characters is English left over unless it
is a name (of a GPU, model, runtime, format, instance, from the catalog, or a
tool, library or publication), an id, a field or file name, a unit, an acronym,
a glossary term, a command or a literal value. One such word is enough to fail.
Used on the app's pages, the PDF report, the command line's tables and the
Chinese string catalog.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

from catalog.catalog import load_catalog
from catalog.market import PROVIDER_NAMES
from catalog.quality import load_quality

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
x x16 x8 x4 x1 ok max pro ultra sxm nvl ddp fsdp
mib kib wh px mt/s btu/h t/s dn pn flops pin logits
llama-bench gpuhunt lora qlora dora unsloth adamw zero-offload torchtune liger chromium
deepseek spark ti gpt-oss soc lmarena enterprise
adrenalin zai-org ggml gated-delta
true false null main device bench shape metadata
""".split())
# Leaderboards and indexes named in prose, beside the catalog's own leaderboard names.
PUBLICATIONS = ("Open LLM Leaderboard", "Artificial Analysis Intelligence Index")
# The language switch names itself in both languages ("Language · 语言"), and each
# language in its own words (the option "English").
LANGUAGE_SWITCH = "Language"
LANGUAGE_NAMES = ("English",)
# A command quoted for the user to run: the program and its subcommand.
COMMAND = re.compile(r"\b(?:rigfit|ollama|llama-bench|nvidia-smi)\s+[a-z][\w-]*")
# Links and command-line options (a command quoted for the user to run).
URL = re.compile(r"https?://\S+|(?<!\w)--?[\w-]+(?:=\S+)?")
GLOSSARY = ROOT / "report" / "locales" / "glossary.yaml"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'/-]*[A-Za-z0-9]|[A-Za-z]")


@functools.cache
def catalog_names() -> tuple[str, ...]:
    """Names a page may show as they are, longest first (so a name wins over its words)."""
    cat = load_catalog()
    parts = (cat.market.cpus, cat.market.motherboards, cat.market.ram_kits, cat.market.storage,
             cat.market.psus, cat.market.cases, cat.market.cpu_coolers)
    names = {r.name for kind in (cat.gpus, cat.models, cat.quants, cat.runtimes, *parts)
             for r in kind}
    names |= {r.id for kind in (cat.gpus, cat.models, cat.quants, cat.runtimes, cat.market.regions)
              for r in kind}
    # The catalog's own kinds, shown as ids in the command line's tables: GPU
    # architectures ("ampere"), model families ("llama"), weight formats ("gguf").
    names |= ({g.architecture for g in cat.gpus} | {m.family for m in cat.models}
              | {q.format for q in cat.quants})
    names |= set(PROVIDER_NAMES.values())
    names |= {r.example for kind in parts for r in kind if getattr(r, "example", None)}
    names |= {board.name for board in load_quality().leaderboards}  # "LMArena text arena"
    names |= set(PUBLICATIONS)
    # The Method page's temperature checks name each review: its publication and the card
    # it tested ("Legit Reviews, EVGA RTX 3060 XC Black").
    accuracy = json.loads((ROOT / "docs" / "accuracy.json").read_text(encoding="utf-8"))
    names |= {part for row in accuracy.get("temperatures", []) if row.get("review")
              for part in row["review"].split(", ")}
    return tuple(sorted(names, key=len, reverse=True))


@functools.cache
def glossary_words() -> frozenset[str]:
    """The words of every Chinese glossary term and short form kept in Latin letters ("tokens/s")."""
    terms = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))["terms"]
    return frozenset(word.lower() for entry in terms.values()
                     for form in (entry["zh"], entry.get("short", "")) for word in form.split())


def _stray(word: str, allowed: frozenset[str]) -> bool:
    """Whether ``word`` is English left over: not allowed, an acronym, a number, an id or a file."""
    return (word.lower() not in allowed and word.lower() not in glossary_words()
            and not word.isupper() and not any(ch.isdigit() or ch in "_." for ch in word))


@functools.cache
def name_words() -> frozenset[str]:
    """Every word of a catalog name, for a PDF table cell that wraps a name over two lines."""
    return frozenset(word.lower() for name in catalog_names() for word in name.split())


def english_runs(text: str, allowed: frozenset[str] = ALLOWED_WORDS) -> list[str]:
    """Stretches of text between Chinese characters with an English word in them.

    >>> english_runs("显存：13.0 GiB。Fits, with 2.0 GiB to spare.")
    ['Fits, with 2.0 GiB to spare.']
    >>> english_runs("显存不够时 reduce 上下文")
    ['reduce']
    """
    found = []
    for line in text.splitlines():
        if line.strip().startswith(LANGUAGE_SWITCH + " ") or line.strip() in LANGUAGE_NAMES:
            line = line.replace(LANGUAGE_SWITCH, " ", 1) if LANGUAGE_SWITCH in line else ""
        for run in CJK.split(line):
            stripped = COMMAND.sub(" ", URL.sub(" ", run))
            for name in catalog_names():
                if name in stripped:  # as a whole word: "float" is not taken out of "bfloat16"
                    stripped = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", stripped)
            if any(_stray(word, allowed) for word in WORD.findall(stripped)):
                found.append(run.strip())
    return found
