"""The quality table: every score sourced, on a known leaderboard, for a catalog model."""

from __future__ import annotations

import shutil

import pytest

from catalog.catalog import load_catalog
from catalog.loader import CATALOG_DIR, CatalogError
from catalog.quality import QUALITY_FILE, RANKING_LEADERBOARD, load_quality, load_quality_from


def test_every_score_names_its_model_page_and_the_snapshot_date():
    table = load_quality()
    board = table.leaderboard(RANKING_LEADERBOARD)
    assert board.as_of.isoformat() == "2026-08-28"
    assert board.snapshot.startswith("https://github.com/rasbt/llm-architecture-gallery/blob/")
    ids = {m.id for m in load_catalog().models}
    assert len(table.scores) >= 20
    for s in table.scores:
        assert s.model in ids and s.source.startswith("https://artificialanalysis.ai/models/")
        assert 0 <= s.score <= 100


def test_published_values_as_read(tmp_path):
    scores = load_quality().for_leaderboard(RANKING_LEADERBOARD)
    # Values of the snapshot (models.yml, aa_intelligence_index).
    assert scores["gpt-oss-120b"].score == 23.8
    assert scores["gpt-oss-20b"].score == 14.9
    assert scores["qwen3-8b"].score == 5.1
    assert "glm-4-9b" not in scores  # none published: unknown, never estimated


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


def test_two_scores_for_one_model_are_an_error(copied):
    path = copied / QUALITY_FILE
    path.write_text(path.read_text() + "  - model: phi-4\n    leaderboard: aa-intelligence-index\n"
                    "    score: 5.0\n    source: https://artificialanalysis.ai/models/phi-4\n")
    with pytest.raises(CatalogError, match="duplicate id 'phi-4'"):
        load_quality_from(copied, (m.id for m in load_catalog().models))
