"""Builds, Cloud and Report pages in a real browser, opened from shared links.

Debian's Chromium driven by Playwright against ``streamlit run app.py`` (the
server fixture follows tests/test_browser.py). Expected numbers come from the
engine with the same scenario the link describes, so a catalog price change
does not break the test.

Streamlit also auto-discovers the ``pages/`` folder that ``st.navigation``
uses, so on a fresh server a link to /builds first runs pages/builds.py alone;
the page then runs the app frame, which routes back to it. The server here is
fresh: the first link each worker opens is such a deep link.
"""

from __future__ import annotations

import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from benchmarks.serving import serving

ROOT = Path(__file__).resolve().parent.parent

from playwright.sync_api import expect  # noqa: E402

from advisor.plan import plan  # noqa: E402
from catalog.catalog import load_catalog  # noqa: E402
from report.formats import money_text  # noqa: E402
from report.plan_charts import break_even_figure, build_key  # noqa: E402
from report.text import group_strings  # noqa: E402
from sizing.estimate import estimate  # noqa: E402
from sizing.request import parse_request  # noqa: E402

# The shared link: every scenario field the pages read, so the engine below
# sees the same request. One user keeps all three tiers (two distinct builds).
SCENARIO = {"model": "llama-3.1-70b", "gpu": "h100-sxm", "quant": "q4_k_m",
            "runtime": "llama.cpp", "kv_cache": "f16", "prompt_tokens": 512,
            "new_tokens": 512, "context_tokens": 8192, "batch": 1}
PLAN = {"budget_usd": 3000, "users": 1, "hours_per_day": 8, "currency": "USD"}
MODEL_NAME = "Llama 3.1 70B"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def base_url(browser):
    with serving() as url:
        yield url


@pytest.fixture(scope="module")
def expected():
    """The engine's plan and estimate for the shared scenario."""
    catalog = load_catalog()
    request = parse_request(SCENARIO)
    return {"plan": plan(request, catalog, budget_usd=PLAN["budget_usd"], users=PLAN["users"],
                         hours_per_day=PLAN["hours_per_day"], currency=PLAN["currency"],
                         quant="best"),  # the pages search runtimes and precisions
            "estimate": estimate(request, catalog)}


def test_deep_link_on_a_fresh_server_runs_inside_the_frame(browser):
    with serving() as url:
        page = open_page(browser, f"{url}/cloud?lang=zh&model=qwen2.5-14b")
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("装机方案", exact=True).wait_for(timeout=TIMEOUT_MS)  # frame: navigation
        assert "does not seem to exist" not in page.inner_text("body")
        assert "lang=zh" in page.url and "/cloud" in page.url


def link(base_url: str, path: str, **extra: str) -> str:
    return f"{base_url}/{path}?" + urllib.parse.urlencode({**SCENARIO, **PLAN, **extra})


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="networkidle")
    return page


def wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=TIMEOUT_MS)


def test_builds_link_shows_three_tier_cards_with_totals_and_parts(browser, base_url, expected):
    result = expected["plan"]
    assert [b.tier for b in result.tiers] == ["budget", "balanced", "workstation"]
    page = open_page(browser, link(base_url, "builds"))
    totals = page.get_by_test_id("stMetric").filter(has_text="Total")
    totals.nth(2).wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    seen: set[tuple] = set()
    for b in result.tiers:
        heading = page.get_by_role("heading", name=b.tier.capitalize(), exact=True)
        # The innermost column holding the tier's heading is its card.
        card = page.get_by_test_id("stColumn").filter(has=heading).last
        total = card.get_by_test_id("stMetric").filter(has_text="Total")
        expect(total.get_by_test_id("stMetricValue")).to_have_text(
            money_text(b.total_usd, result.currency))
        # The parts are a Markdown table (part, price) that wraps inside the card.
        tables = card.locator("table")
        if build_key(b) in seen:  # the page says "same build as" instead of repeating parts
            expect(card.get_by_text("Same build as")).to_have_count(1)
            expect(tables).to_have_count(0)
        else:
            expect(tables).to_have_count(1, timeout=TIMEOUT_MS)
            expect(tables.locator("th").first).to_have_text("Parts")
            expect(card.get_by_text(b.gpu_name).first).to_be_visible()
        seen.add(build_key(b))
    page.close()


def test_cloud_link_shows_the_table_and_the_break_even_chart(browser, base_url, expected):
    page = open_page(browser, link(base_url, "cloud"))
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=TIMEOUT_MS)
    chart = page.locator(".js-plotly-plot").filter(has_text="Cumulative cost: buy vs rent")
    chart.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    expect(page.get_by_text("Instances that hold the workload")).to_have_count(1)
    # Tier lines, the three cheapest instances and the break-even marks, as built.
    result = expected["plan"]
    figure = break_even_figure(result.cloud, currency=result.currency,
                               units_per_usd=result.units_per_usd)
    expect(chart.locator(".scatterlayer .trace")).to_have_count(len(figure.data))
    expect(chart.get_by_text("Break-even").first).to_be_visible()
    page.close()


def download(page, label: str, path: Path) -> bytes:
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        button.click()
    info.value.save_as(path)
    return path.read_bytes()


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True)
    return " ".join(done.stdout.decode("utf-8").split())


@pytest.mark.parametrize("lang, nav", [("en", "Report"), ("zh", "报告")])
def test_report_downloads_carry_the_scenario(browser, base_url, expected, tmp_path, lang, nav,
                                             pdftotext_installed):
    page = open_page(browser, link(base_url, "reports", lang=lang))
    page.get_by_test_id("stSidebarNav").get_by_text(nav, exact=True).wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("stDownloadButton").filter(has_text="PDF").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    doc = group_strings("doc.", lang)
    level = expected["estimate"].memory.verdict
    word = doc[f"verdict.word_{level}"]
    if lang == "en":
        html = download(page, "HTML", tmp_path / "report.html").decode("utf-8")
        assert MODEL_NAME in html and f'<span class="word">{word}</span>' in html
        # Text is escaped ("runtime's" in the assumptions), charts are live: all four.
        assert "runtime&#x27;s fixed overhead" in html and "runtime's fixed" not in html
        assert html.count("Plotly.newPlot(") == 4
    data = download(page, "PDF", tmp_path / "report.pdf")
    assert data.startswith(b"%PDF")
    text = pdf_text(tmp_path / "report.pdf")
    assert f"{doc['section.verdict']}: {word}" in text
    assert MODEL_NAME in text and doc["section.cloud"] in text
    page.close()
