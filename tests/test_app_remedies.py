"""AppTest: the Configurator says which formats it chose among and what would make it fit."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_scenario_that_does_not_fit_lists_what_would_make_it_fit():
    at = open_app(model="qwen2.5-14b", gpu="rtx-3060-12gb", context_tokens="32768")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Best precision that fits"] == "none"
    text = markdown(at)
    assert "What would make it fit" in text
    first = next(line for line in text.splitlines() if line.startswith("1. "))
    assert "q4\\_0" in first and "q3\\_k\\_m" in first  # Markdown-escaped ids
    assert "decode about" in first
    assert "F16/BF16 (unquantized), GGUF" in captions(at)


def test_a_scenario_that_fits_shows_no_remedies():
    at = open_app(model="llama-3.1-8b", gpu="rtx-4090")
    assert not at.exception
    assert "What would make it fit" not in markdown(at)


def test_remedies_in_chinese():
    at = open_app(model="qwen2.5-14b", gpu="rtx-3060-12gb", context_tokens="32768", lang="zh")
    assert not at.exception
    text = markdown(at)
    assert "怎样才能放得下" in text and "将 KV 缓存量化为" in text
