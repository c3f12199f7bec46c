"""``rigfit fits``: the JSON contract, the table and one-line errors."""

from __future__ import annotations

import json

import pytest

from catalog.catalog import load_catalog
from tests.test_cli import run
from tests.test_model_files import write_llama
from rigfit.fits_cli import JSON_KEYS
from sizing.fits import faithful as is_faithful


def test_json_rows_carry_exactly_the_contract_keys(capsys):
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-3060-12gb", "--ram-gib", "32",
                       "--runtime", "llama.cpp", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) > 40
    assert all(tuple(r) == JSON_KEYS for r in rows)
    assert JSON_KEYS == ("model", "quant", "runtime", "decode_tokens_per_s",
                         "prefill_tokens_per_s", "max_context_tokens", "offload", "quality",
                         "quality_source", "second_quality", "second_quality_source")
    by_model = {r["model"]: r for r in rows}
    assert by_model["qwen2.5-14b"]["quant"] == "q4_k_m" and by_model["qwen2.5-14b"]["offload"] is False
    assert by_model["qwen2.5-32b"]["offload"] is True
    # Not on the arena: ranked by the Open LLM Leaderboard v2 (huggingface_v2.csv 2025-03-21,
    # THUDM/glm-4-9b-chat, average 10.97); no Intelligence Index published.
    glm = by_model["glm-4-9b"]
    assert glm["quality"] == 10.97 and glm["second_quality"] is None
    assert glm["quality_source"] == ("Open LLM Leaderboard v2, 2025-03-21: https://github.com/"
                                     "fboulnois/llm-leaderboard-csv/blob/0f4e5c69c6fb6515afa31ae61f4d"
                                     "699649bc9503/csv/huggingface_v2.csv#L1812")
    assert by_model["autoglm-phone-9b"]["quality"] is None  # on no leaderboard
    # Ranked on the LMArena text arena (lmarena_text.csv 2025-08-04: Gemma-3-12B-it 1335);
    # the Intelligence Index stands beside it (gpt-oss-20b: 14.9, not on the arena).
    scored = by_model["gemma-3-12b"]
    assert scored["quality"] == 1335 and scored["second_quality"] is None
    assert scored["quality_source"].startswith("LMArena text arena, 2025-08-04: https://github.com/")
    aa_only = by_model["gpt-oss-20b"]
    assert aa_only["quality"] is None and aa_only["second_quality"] == pytest.approx(14.9)
    assert "artificialanalysis.ai/models/gpt-oss-20b" in aa_only["second_quality_source"]
    # Known quality ranks first among faithful formats; a sub-4-bit one ranks after them.
    cat = load_catalog()
    faithful = [r for r in rows if is_faithful(cat.quant(r["quant"]))]
    assert rows[:len(faithful)] == faithful
    first_unknown = next(i for i, r in enumerate(faithful) if r["quality"] is None)
    assert first_unknown >= 5 and all(r["quality"] is None for r in faithful[first_unknown:])
    # The two ranking leaderboards are never sorted together: every arena score first.
    boards = [r["quality_source"].split(",")[0] for r in faithful[:first_unknown]]
    assert boards == sorted(boards, key=lambda b: b != "LMArena text arena")
    assert set(boards) == {"LMArena text arena", "Open LLM Leaderboard v2"}
    for board in set(boards):
        scores = [r["quality"] for r, b in zip(faithful, boards) if b == board]
        assert scores == sorted(scores, reverse=True)


def test_several_runtimes_and_floors(capsys):
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-4090", "--runtime", "llama.cpp",
                       "--runtime", "vllm", "--min-decode-tokens-per-s", "50",
                       "--use", "code", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {r["runtime"] for r in rows} == {"llama.cpp", "vllm"}
    fast = [r for r in rows if r["decode_tokens_per_s"] and r["decode_tokens_per_s"] >= 50]
    assert rows[:len(fast)] == fast  # rows meeting the floor come first


def test_table_says_the_machine_and_what_does_not_run(capsys):
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-3060-12gb", "--runtime", "llama.cpp")
    assert code == 0
    assert out.splitlines()[0].startswith("1 x NVIDIA GeForce RTX 3060 12GB, 12 GiB; 32 GiB RAM")
    assert "glm-4-9b" in out and "unknown" in out
    assert "runs on none of the runtimes:" in out and "deepseek-v3" in out.splitlines()[-1]


def test_vision_table_states_the_image_and_counts_its_tokens(capsys):
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-4090", "--runtime", "llama.cpp",
                       "--use", "vision")
    lines = out.splitlines()
    assert code == 0 and lines[1].startswith("Vision: each request carries 1 image of 1024 × 1024 px")
    assert "image tokens" in lines[2]
    qwen = next(line for line in lines if line.startswith("qwen2.5-vl-7b "))
    assert " 1,369 " in f" {qwen} "
    code, out, _ = run(capsys, "--lang", "zh", "fits", "--gpu", "rtx-4090", "--runtime",
                       "llama.cpp", "--use", "vision")
    assert code == 0 and "1 张 1024 × 1024 像素的图片" in out and "图片 token" in out


def test_agent_table_states_the_screenshot_and_counts_its_tokens(capsys):
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-4090", "--runtime", "llama.cpp",
                       "--use", "agent")
    lines = out.splitlines()
    assert code == 0 and lines[1].startswith("Phone agent: each step sends 1 screenshot of "
                                             "1080 × 2400 px")
    assert "Only models that read images are listed" in lines[1] and "image tokens" in lines[2]
    qwen = next(line for line in lines if line.startswith("qwen2.5-vl-7b "))
    assert " 3,354 " in f" {qwen} "
    assert not any(line.startswith("qwen2.5-7b ") for line in lines)
    code, out, _ = run(capsys, "--lang", "zh", "fits", "--gpu", "rtx-4090", "--runtime",
                       "llama.cpp", "--use", "agent")
    assert code == 0 and "1 张 1080 × 2400 像素的截图" in out and "只列出能读图片的模型" in out


@pytest.mark.parametrize("argv, words", [
    (("--gpu", "rtx-3060-12gbx"), "unknown GPU"),
    (("--gpu", "rtx-3060-12gb", "--ram-gib", "-1"), "ram_gib"),
    (("--gpu", "rtx-3060-12gb", "--runtime", "mlx"), "does not run on"),
    (("--gpu", "rtx-3060-12gb", "--use", "poetry"), "invalid choice"),
    (("--gpu", "apple-m4-max-40c", "--gpu-count", "2"), "gpu_count must be 1"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run(capsys, "fits", *argv)
    assert code == 2 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_model_added_from_a_gguf_file_is_ranked_in_its_own_format(capsys, tmp_path):
    gguf = write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")
    code, out, _ = run(capsys, "fits", "--gpu", "rtx-3060-12gb", "--runtime", "llama.cpp",
                       "--gguf", str(gguf.path), "--format", "json")
    rows = [r for r in json.loads(out) if r["model"] == "tiny-llama-q4-k-m"]
    assert code == 0 and len(rows) == 1
    assert rows[0]["quant"] == "q4_k_m" and rows[0]["offload"] is False
    assert rows[0]["quality"] is None and rows[0]["decode_tokens_per_s"] > 100


def test_an_unreadable_added_file_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "fits", "--gpu", "rtx-3060-12gb", "--gguf",
                       str(tmp_path / "missing.gguf"))
    assert code == 2 and "missing.gguf" in err and len(err.strip().splitlines()) == 1
