"""The app frame around each page: which page runs, and deep links on a fresh server.

``app.py`` (the frame: navigation, language, URL sync) runs the chosen page
through :func:`run_in_frame`. Streamlit also discovers the ``pages/`` folder by
itself: on a fresh server, a shared link such as /builds runs the page file
directly, without the frame. A page that finds no frame runs ``app.py``
instead, which routes back to it.
"""

from __future__ import annotations

import gc
import runpy
import threading
from pathlib import Path
from typing import Any

import streamlit as st

from pages._state import memo, set_page

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"
# The last page with a question of its own; a report made next answers it first.
ORIGIN_KEY = "origin"  # in the session memo (pages._state.memo)
REPORT_LEADS = ("configurator", "builds", "compare", "cloud")
_FRAME = threading.local()
# Pages whose first complete run in this process is over (see settle_imports).
_SETTLED: set[str] = set()
_SETTLED_LOCK = threading.Lock()


def frame_active() -> bool:
    return getattr(_FRAME, "active", False)


def run_in_frame(page: Any) -> None:
    """Run a navigation page inside the app frame (called by app.py)."""
    _FRAME.active = True
    try:
        page.run()
    finally:
        _FRAME.active = False
    settle_imports(page.url_path)


def settle_imports(name: str) -> None:
    """After page ``name``'s first complete run in this process, keep what it imported
    out of the garbage collector's generations.

    Loading the catalog freezes what exists then (``pages._engine``); a page's first
    run imports more (pandas and pyarrow for its tables, its charts and report
    modules: some 40,000 objects), which every later full collection would walk,
    20 to 35 ms in the middle of someone's rerun. Garbage is collected first, so
    none is frozen; this runs once per page and process.
    """
    with _SETTLED_LOCK:
        if name in _SETTLED:
            return
        _SETTLED.add(name)
    gc.collect()
    gc.freeze()


def begin_page(name: str) -> None:
    """Mark which page is running (widget keys are per page).

    Outside the frame (a deep link on a fresh server) the frame runs first and
    routes back to this page; this direct run then stops.
    """
    if not frame_active():
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()
    set_page(name)
    if name in REPORT_LEADS:
        memo()[ORIGIN_KEY] = name
