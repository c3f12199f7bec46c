"""Published quality scores of catalog models, one leaderboard snapshot per file entry.

``quality.yaml`` holds the leaderboards (name, scale, address, the date of the
snapshot) and the scores read from them, each with the model page it comes
from. A model without a score has no entry: the front ends show "unknown",
never an estimate. A model has at most one score per leaderboard. Scores of
different leaderboards are not comparable, so a ranking orders by one
leaderboard at a time (:data:`RANKING_LEADERBOARDS`): the models scored on
the first (:data:`RANKING_LEADERBOARD`, the one covering the most catalog
models) by it, then the models only the next one scores
(:data:`FALLBACK_LEADERBOARD`) by that one. :data:`SECOND_LEADERBOARD` is
shown beside them and never ranks.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from catalog.loader import CATALOG_DIR, CatalogError, check_references, load_records
from catalog.schema import Id, Record, Url

QUALITY_FILE = "quality.yaml"
RANKING_LEADERBOARD = "lmarena-text"
SECOND_LEADERBOARD = "aa-intelligence-index"
FALLBACK_LEADERBOARD = "open-llm-leaderboard-v2"
RANKING_LEADERBOARDS = (RANKING_LEADERBOARD, FALLBACK_LEADERBOARD)


class Leaderboard(Record):
    """A public leaderboard, as read on one date."""

    id: Id
    name: str
    scale: str  # what the score means, in words
    url: Url  # the leaderboard itself
    snapshot: Url  # where the scores below were read
    as_of: dt.date  # date of the snapshot
    source: Url
    notes: str | None = None


class QualityScore(Record):
    """One model's score on one leaderboard."""

    model: Id
    leaderboard: Id
    score: float = Field(ge=0)
    source: Url  # the model's own page on the leaderboard
    notes: str | None = None


@dataclass(frozen=True)
class QualityTable:
    leaderboards: tuple[Leaderboard, ...]
    scores: tuple[QualityScore, ...]

    def leaderboard(self, leaderboard_id: str) -> Leaderboard:
        return next(b for b in self.leaderboards if b.id == leaderboard_id)

    def for_leaderboard(self, leaderboard_id: str) -> dict[str, QualityScore]:
        """Scores of one leaderboard by model id."""
        return {s.model: s for s in self.scores if s.leaderboard == leaderboard_id}


def load_quality_from(directory: Path, model_ids: Iterable[str]) -> QualityTable:
    """Read and cross-check ``quality.yaml``: known leaderboards and models, one score each
    per leaderboard."""
    path = directory / QUALITY_FILE
    boards = load_records(path, "leaderboards", Leaderboard)
    scores = load_records(path, "scores", QualityScore, id_field="model", unique=False)
    board_ids, valid_models = {b.id for b in boards}, set(model_ids)
    seen: set[tuple[str, str]] = set()
    for s in scores:
        if (s.model, s.leaderboard) in seen:
            raise CatalogError(f"{QUALITY_FILE}: entry '{s.model}': a second score on "
                               f"'{s.leaderboard}'")
        seen.add((s.model, s.leaderboard))
        check_references(QUALITY_FILE, s.model, "leaderboard", [s.leaderboard], board_ids)
        check_references(QUALITY_FILE, s.model, "model", [s.model], valid_models)
    for needed in (*RANKING_LEADERBOARDS, SECOND_LEADERBOARD):
        if needed not in board_ids:
            raise CatalogError(f"{QUALITY_FILE}: the leaderboard '{needed}' is missing")
    return QualityTable(leaderboards=boards, scores=scores)


@functools.lru_cache(maxsize=1)
def load_quality() -> QualityTable:
    """The packaged quality table, loaded once per process."""
    from catalog.catalog import load_catalog
    return load_quality_from(CATALOG_DIR, (m.id for m in load_catalog().models))
