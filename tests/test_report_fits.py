"""The What can I run wording: per model, per size class, and the report section."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog
from catalog.quality import load_quality
from report.fits import class_lines, fits_section, model_answer, size_class
from rigfit.cli import main
from sizing.fits import fits, parse_fits_request, ranking_quality


@pytest.fixture(scope="module")
def table():
    return fits(parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 32,
                                    "runtimes": ("llama.cpp",)}), load_catalog(),
                quality=ranking_quality(load_quality()))


def test_size_classes_split_at_the_sizes_people_ask_about():
    assert [size_class(b) for b in (0.5, 4.0, 7.6, 9.4, 14.8, 24.0, 32.8, 70.6)] == [
        "tiny", "tiny", "small", "small", "medium", "large", "large", "huge"]


def test_each_class_says_where_it_runs(table):
    lines = {line.key: line for line in class_lines(table, "en")}
    assert lines["medium"].status == "gpu" and not lines["medium"].best.offload
    assert lines["large"].status == "offload" and lines["large"].best.offload
    assert lines["large"].text.startswith("20-35B: only with offload to system RAM. Best: ")
    zh = {line.key: line for line in class_lines(table, "zh")}
    assert zh["large"].text.startswith("20-35B：只能卸载到系统内存运行。")


def test_one_model_answer_and_a_model_that_does_not_run(table):
    row = next(r for r in table.rows if r.model == "qwen2.5-14b")
    text = model_answer(table, "qwen2.5-14b", "en")
    assert text.startswith(f"{row.model_name}: Q4_K_M on llama.cpp, ")
    assert (f"{row.max_context_tokens:,} tokens of context, on the GPU; "
            "quality 41.31 (Open LLM Leaderboard v2).") in text
    assert model_answer(table, "qwen3-14b", "en").endswith("on the GPU; quality unknown.")
    assert model_answer(table, "qwen2.5-14b", "zh").endswith("质量 41.31（Open LLM Leaderboard v2）。")
    assert model_answer(table, "deepseek-v3", "en") == (
        "deepseek-v3 does not run on this machine with this runtime.")


def test_report_section_lists_the_top_rows_with_their_sources(table):
    section = fits_section(table, "en", top=10)
    assert section.heading == "What can I run?"
    assert len(section.tables[0].rows) == 10
    assert section.tables[0].rows[0][0] == table.rows[0].model_name
    arena_csv = ("https://github.com/fboulnois/llm-leaderboard-csv/blob/"
                 "e964e252a171a83b8bf189675ca01406d86bc810/csv/lmarena_text.csv#L")
    assert any(s.url.startswith(arena_csv) for s in section.sources)
    assert section.notes[-1].startswith("Models that meet your speed and context floors come first.")


def test_a_use_with_images_says_a_text_only_model_is_not_ranked_rather_than_too_big():
    agent = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "runtimes": ("llama.cpp",),
                                     "ram_gib": 16, "use": "agent"}), load_catalog())
    assert model_answer(agent, "qwen2.5-7b", "en") == (
        "qwen2.5-7b is not ranked for Phone agent (screenshots): this use lists only "
        "vision-language models, which read images.")
    assert "只列出能读图片的视觉语言模型" in model_answer(agent, "qwen2.5-7b", "zh")
    assert model_answer(agent, "glm-4.5v", "en") == (
        "glm-4.5v does not run on this machine with this runtime.")


@pytest.mark.parametrize("use, english, chinese, tokens", [
    ("vision", "each request carries 1 image of 1024 × 1024 px", "1 张 1024 × 1024 像素的图片",
     "1,369"),
    ("agent", "each step sends 1 screenshot of 1080 × 2400 px", "1 张 1080 × 2400 像素的截图",
     "3,354"),
])
def test_a_section_with_images_states_them_and_lists_their_tokens(use, english, chinese, tokens):
    table = fits(parse_fits_request({"gpu": "rtx-4090", "runtimes": ("llama.cpp",), "use": use}),
                 load_catalog())
    for lang, words, column in (("en", english, "Image tokens"), ("zh", chinese, "图片 token")):
        section = fits_section(table, lang)
        assert words in section.notes[0]
        shown = section.tables[0]
        at = shown.columns.index(column)
        assert shown.numeric[at]
        qwen = next(r for r in shown.rows if r[0] == "Qwen2.5-VL 7B Instruct")
        assert qwen[at] == tokens


def test_report_command_adds_the_section(tmp_path, capsys):
    out = tmp_path / "report.html"
    code = main(["report", "--model", "glm-4-9b", "--gpu", "rtx-3060-12gb", "--fits",
                 "--ram-gib", "32", "--format", "html", "-o", str(out)])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert "What can I run?" in html and "20-35B: only with offload to system RAM." in html
