"""The command line's tables in both languages: Chinese with no English sentence left
over (names, ids and units aside), English worded as before."""

from __future__ import annotations

import re

import pytest

from rigfit.cli import main
from rigfit.terminal import padded, text_width
from tests.english_runs import english_runs

# (command line, a Chinese word it must show, English lines it must show as regexes)
TABLES = {
    "estimate-offload": (
        ["estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-4090", "--context-tokens", "8192"],
        "需卸载到内存才能运行",
        [r"verdict +fits-with-offload", r"decode +\d+\.\d tokens/s",
         r"offloaded +[\d.]+ GiB \(\d+ of 80 layers on GPU\)",
         r"electricity +\$\d+\.\d\d per 1M tokens", r"what would make it fit \(least given up first\):",
         r"  1\. .+ Decode about [\d.]+ tokens/s\."]),
    "estimate-fits": (
        ["estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-3090", "--quant", "q4_k_m"],
        "装得下",
        [r"verdict +fits", r"context +1,024 tokens x 1 sequence",
         r"model shape +32 layers, 32 heads, 8 KV heads of 128, max context 131,072",
         r"throttle risk +(low|medium|high)", r"energy +[\d.]+ Wh per 1k tokens"]),
}


def _table(capsys, lang: str, argv: list[str]) -> str:
    assert main(["--lang", lang, *argv, "--format", "table"]) == 0
    out, err = capsys.readouterr()
    return out + err


@pytest.mark.parametrize("name", TABLES)
def test_the_chinese_table_has_no_english_sentence(capsys, name):
    argv, word, _ = TABLES[name]
    text = _table(capsys, "zh", argv)
    assert word in text
    runs = english_runs(text)
    assert not runs, "\n".join(runs)


@pytest.mark.parametrize("name", TABLES)
def test_the_english_table_keeps_its_words(capsys, name):
    argv, word, lines = TABLES[name]
    text = _table(capsys, "en", argv)
    assert word not in text
    for pattern in lines:
        assert re.search(f"^{pattern}$", text, re.MULTILINE), pattern


def test_chinese_labels_line_up_by_terminal_columns():
    assert text_width("生成（低）") == 10
    assert padded("生成", 6) == "生成  "
    assert padded("decode", 8) == "decode  "
