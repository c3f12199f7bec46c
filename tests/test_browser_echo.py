"""Echoed link values in a real browser: shown as text, never as a link.

GitHub-flavoured Markdown (which Streamlit renders) turns ``www.`` domains,
``scheme://`` addresses and e-mail addresses into links without any link
syntax, and a ``www.`` link runs on over the Chinese text that follows it.
The notices that repeat a refused link value must show the characters alone.
"""

from __future__ import annotations

import urllib.parse

import pytest

from benchmarks.serving import serving

pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 30_000


def test_refused_link_values_are_shown_as_text_in_chinese(browser):
    query = urllib.parse.urlencode({"lang": "zh", "model": "www.example.com",
                                    "https://evil.example/x": "1", "me@example.com": "1"})
    with serving() as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?{query}", wait_until="networkidle")
        alerts = page.get_by_test_id("stAlertContentWarning")
        alerts.first.wait_for(timeout=TIMEOUT_MS)
        texts = [alerts.nth(i).inner_text() for i in range(alerts.count())]
        links = [alerts.nth(i).locator("a").count() for i in range(alerts.count())]
    model = next(t for t in texts if "www.example.com" in t)
    assert "“model=www.example.com”：不是已知的 id。已改用默认值。" in model
    assert any("https://evil.example/x" in t for t in texts), texts
    assert any("me@example.com" in t for t in texts), texts
    assert links == [0] * len(texts), texts
