"""The team lead's link in a real browser: a 70B model for five users on 6,000 USD.

Builds opened from the link must show the tiers ``rigfit plan`` prints for the
same inputs: same names, same totals, same GPUs, same runtime and precision.
The expected tiers come from the command line run here (JSON), so a catalog
price change does not break the test. Chromium and the server follow
tests/test_browser_pages.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.parse

import pytest
from playwright.sync_api import expect

from advisor.results import TierBuild
from benchmarks.serving import serving
from report.formats import money_text
from report.plan_charts import build_key
from rigfit.cli import main

TEAM = {"model": "llama-3.1-70b", "users": "5", "budget_usd": "6000"}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def cli_plan():
    """`rigfit plan --model llama-3.1-70b --users 5 --budget-usd 6000 --format json`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["plan", "--model", TEAM["model"], "--users", TEAM["users"],
                     "--budget-usd", TEAM["budget_usd"], "--format", "json"])
    assert code == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def base_url(browser):
    with serving() as url:
        yield url


def test_team_link_shows_the_command_lines_tiers(browser, base_url, cli_plan):
    tiers = cli_plan["tiers"]
    assert [t["tier"] for t in tiers] == ["budget", "balanced", "workstation"]
    assert cli_plan["meets_workload_within_budget"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base_url}/builds?" + urllib.parse.urlencode(TEAM), wait_until="networkidle")
    totals = page.get_by_test_id("stMetric").filter(has_text="Total")
    totals.nth(2).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=TIMEOUT_MS)
    body = page.inner_text("body")
    assert "Nothing within" not in body and "Lead with cloud" not in body
    assert "each sending 512 prompt tokens" in body
    seen: set[tuple] = set()
    for t in tiers:
        heading = page.get_by_role("heading", name=t["tier"].capitalize(), exact=True)
        card = page.get_by_test_id("stColumn").filter(has=heading).last
        total = card.get_by_test_id("stMetric").filter(has_text="Total")
        expect(total.get_by_test_id("stMetricValue")).to_have_text(
            money_text(t["total_usd"], "USD"))
        key = build_key(TierBuild.model_validate(t))
        if key in seen:
            expect(card.get_by_text("Same build as")).to_have_count(1)
        else:
            used = " (used)" if t["gpu_used"] else ""
            line = f"{t['gpu_count']} × {t['gpu_name']}{used}, {t['quant']} on {t['runtime']}"
            expect(card.get_by_text(line, exact=True)).to_have_count(1)
            # The card's figures are "label: **value unit**" lines that wrap in a narrow card.
            expect(card.get_by_text("Generation per user:").first).to_contain_text(
                f"Generation per user: {t['decode_tokens_per_s_per_user']:,.1f} tokens/s")
        seen.add(key)
    page.close()
