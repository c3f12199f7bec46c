"""The app frame around each page (pages/_frame.py)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest

from pages import _frame


def test_a_pages_first_run_collects_then_freezes_once(monkeypatch):
    """What a page's first run imported is frozen after garbage is collected; later runs
    of the same page, and runs that stop early, freeze nothing more."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(_frame, "_SETTLED", set())
    builds = SimpleNamespace(url_path="builds", run=lambda: calls.append("builds"))
    cloud = SimpleNamespace(url_path="cloud", run=lambda: calls.append("cloud"))

    def stopped() -> None:
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        _frame.run_in_frame(SimpleNamespace(url_path="serve", run=stopped))
    for page in (builds, builds, cloud, builds):
        _frame.run_in_frame(page)
    assert calls == ["builds", "collect", "freeze", "builds", "cloud", "collect", "freeze",
                     "builds"]
    assert not _frame.frame_active()
