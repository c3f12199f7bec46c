"""A team lead's link to the Serve page, opened in a real browser.

Debian's Chromium driven by Playwright against ``streamlit run app.py`` (the
server fixture follows tests/test_browser.py). The expected figure comes from
the engine with the scenario the link describes.
"""

from __future__ import annotations

import urllib.parse

from playwright.sync_api import expect

from benchmarks.serving import serving
from catalog.catalog import load_catalog
from sizing.capacity import ServeSettings, serve
from sizing.request import parse_request

LINK = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm", "quant": "bf16",
        "workload": "chat", "users": "20", "ttft_p95_s": "2", "itl_p95_ms": "100"}
TIMEOUT_MS = 60_000


def test_team_lead_link_shows_the_users_at_target(browser):
    expected = serve(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "runtime": "vllm",
                                    "quant": "bf16", "workload": "chat"}),
                     ServeSettings(users=20, ttft_p95_s=2, itl_p95_ms=100), load_catalog())
    with serving() as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/serve?" + urllib.parse.urlencode(LINK), wait_until="networkidle")
        metric = page.get_by_test_id("stMetric").filter(has_text="Users at the target")
        metric.wait_for(timeout=TIMEOUT_MS)
        expect(metric.get_by_test_id("stMetricValue")).to_have_text(
            f"{expected.max_users_at_target:,}", timeout=TIMEOUT_MS)
        chart = page.locator(".js-plotly-plot").filter(has_text="Throughput against requests in flight")
        chart.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
        page.close()
