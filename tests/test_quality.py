"""The quality table: every score sourced, on a known leaderboard, for a catalog model."""

from __future__ import annotations

import shutil

import pytest

from catalog.catalog import load_catalog
from catalog.loader import CATALOG_DIR, CatalogError
from catalog.quality import (FALLBACK_LEADERBOARD, QUALITY_FILE, RANKING_LEADERBOARD,
                             SECOND_LEADERBOARD, load_quality, load_quality_from)

ARENA_CSV = ("https://github.com/fboulnois/llm-leaderboard-csv/blob/"
             "e964e252a171a83b8bf189675ca01406d86bc810/csv/lmarena_text.csv#L")
OPEN_LLM_CSV = ("https://github.com/fboulnois/llm-leaderboard-csv/blob/"
                "0f4e5c69c6fb6515afa31ae61f4d699649bc9503/csv/huggingface_v2.csv#L")


def test_every_score_names_its_source_and_the_snapshot_date():
    table = load_quality()
    arena, aa = table.leaderboard(RANKING_LEADERBOARD), table.leaderboard(SECOND_LEADERBOARD)
    assert arena.as_of.isoformat() == "2025-08-04" and aa.as_of.isoformat() == "2026-08-28"
    assert arena.snapshot == ARENA_CSV.removesuffix("#L")
    assert aa.snapshot.startswith("https://github.com/rasbt/llm-architecture-gallery/blob/")
    ids = {m.id for m in load_catalog().models}
    for s in table.for_leaderboard(RANKING_LEADERBOARD).values():
        assert s.model in ids and s.source.startswith(ARENA_CSV) and 800 <= s.score <= 1600
    for s in table.for_leaderboard(SECOND_LEADERBOARD).values():
        assert s.model in ids and s.source.startswith("https://artificialanalysis.ai/models/")
        assert 0 <= s.score <= 100
    open_llm = table.leaderboard(FALLBACK_LEADERBOARD)
    assert open_llm.as_of.isoformat() == "2025-03-21"
    assert open_llm.snapshot == OPEN_LLM_CSV.removesuffix("#L")
    for s in table.for_leaderboard(FALLBACK_LEADERBOARD).values():
        assert s.model in ids and s.source.startswith(OPEN_LLM_CSV) and 0 <= s.score <= 100
        # The run named is the catalog model's own repository.
        assert s.notes.split(",")[0].lower() in load_catalog().model(s.model).source.lower()


def test_the_leaderboards_cover_most_catalog_models():
    table = load_quality()
    arena = set(table.for_leaderboard(RANKING_LEADERBOARD))
    aa = set(table.for_leaderboard(SECOND_LEADERBOARD))
    open_llm = set(table.for_leaderboard(FALLBACK_LEADERBOARD))
    models = load_catalog().models
    assert len(arena) == 40 and len(aa) == 25 and len(open_llm) == 38
    assert len(arena | aa) == 50 and len(arena | aa | open_llm) == 68 and len(models) == 91
    generating = {m.id for m in models if m.task == "generate"}
    assert len(generating) == 86 and len((arena | aa | open_llm) & generating) == 68


def test_published_values_as_read():
    arena = load_quality().for_leaderboard(RANKING_LEADERBOARD)
    # lmarena_text.csv, version 2025-08-04: model, arena_score (line in the source).
    assert arena["llama-3.3-70b"].score == 1275  # Llama-3.3-70B-Instruct
    assert arena["llama-3.3-70b"].source == ARENA_CSV + "106"
    assert arena["gemma-3-27b"].score == 1357  # Gemma-3-27B-it
    assert arena["llama-2-7b"].score == 1060  # Llama-2-7B-chat: the base model's own release
    assert arena["mistral-small-3.2-24b"].score == 1335  # Mistral-Small-2506
    assert "gpt-oss-20b" not in arena and "glm-4-9b" not in arena
    aa = load_quality().for_leaderboard(SECOND_LEADERBOARD)
    # models.yml of the gallery, aa_intelligence_index.
    assert aa["gpt-oss-120b"].score == 23.8
    assert aa["gpt-oss-20b"].score == 14.9
    assert aa["qwen3-8b"].score == 5.1
    assert "glm-4-9b" not in aa
    open_llm = load_quality().for_leaderboard(FALLBACK_LEADERBOARD)
    # huggingface_v2.csv, version 2025-03-21: model_name, model_average_score (line).
    assert open_llm["glm-4-9b"].score == 10.97  # THUDM/glm-4-9b-chat, 10.9734772970452
    assert open_llm["glm-4-9b"].source == OPEN_LLM_CSV + "1812"
    assert open_llm["qwen2.5-7b"].score == 35.2  # Qwen/Qwen2.5-7B-Instruct, 35.200108659948
    # Run in bfloat16 and float16: the bfloat16 run (8.14064731927608), not 10.1075438507193.
    assert open_llm["qwen2.5-0.5b"].score == 8.14
    assert open_llm["qwen2.5-0.5b"].source == OPEN_LLM_CSV + "1530"
    assert open_llm["mistral-7b-v0.3"].score == 14.23  # the base repository's own run
    assert "autoglm-phone-9b" not in open_llm | aa | arena  # none published: unknown


@pytest.fixture
def copied(tmp_path):
    target = tmp_path / "catalog"
    target.mkdir()
    shutil.copy(CATALOG_DIR / QUALITY_FILE, target / QUALITY_FILE)
    return target


def test_a_score_for_a_model_not_in_the_catalog_is_an_error(copied):
    path = copied / QUALITY_FILE
    path.write_text(path.read_text().replace("model: phi-4\n", "model: phi-5\n"))
    with pytest.raises(CatalogError, match="quality.yaml: entry 'phi-5': field 'model': unknown id"):
        load_quality_from(copied, (m.id for m in load_catalog().models))


def test_a_score_without_a_source_is_an_error(copied):
    path = copied / QUALITY_FILE
    text = path.read_text()
    path.write_text(text.replace("    source: https://artificialanalysis.ai/models/phi-4\n", ""))
    with pytest.raises(CatalogError, match="entry 'phi-4': field 'source'"):
        load_quality_from(copied, (m.id for m in load_catalog().models))


def test_two_scores_for_one_model_on_one_leaderboard_are_an_error(copied):
    path = copied / QUALITY_FILE
    path.write_text(path.read_text() + "  - model: phi-4\n    leaderboard: aa-intelligence-index\n"
                    "    score: 5.0\n    source: https://artificialanalysis.ai/models/phi-4\n")
    with pytest.raises(CatalogError, match="entry 'phi-4': a second score on 'aa-intelligence-index'"):
        load_quality_from(copied, (m.id for m in load_catalog().models))


def test_a_missing_leaderboard_is_an_error(copied):
    path = copied / QUALITY_FILE
    path.write_text(path.read_text().replace("  - id: lmarena-text\n", "  - id: lmarena-old\n"))
    with pytest.raises(CatalogError, match="leaderboard"):
        load_quality_from(copied, (m.id for m in load_catalog().models))
