"""The Compare page in a real browser: picking a GPU by typing, and charts that stay readable.

Debian's Chromium driven by Playwright against ``streamlit run app.py``.
"""

from __future__ import annotations

import pytest

from benchmarks.serving import serving

from playwright.sync_api import expect  # noqa: E402

LINK = ("/compare?model=glm-4-9b&quant=q8_0&context_tokens=32768&compare=rtx-3060-12gb,"
        "rtx-3080-10gb,rtx-4070-ti,rtx-4090,rtx-5090,apple-m3-ultra-80c,apple-m4-max-40c")
BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {legend: [...p.querySelectorAll('.legend')].map(box),
          title: [...p.querySelectorAll('.gtitle')].map(box),
          ticks: [...p.querySelectorAll('.xtick text')].map(box),
          texts: [...p.querySelectorAll('.scatterlayer .textpoint text')].map(box)}; })"""


@pytest.fixture(scope="module")
def base_url():
    with serving() as url:
        yield url


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_typing_a_gpu_name_and_enter_adds_that_one_gpu(browser, base_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base_url + "/compare?compare=rtx-3090", wait_until="networkidle")
    chips = page.get_by_test_id("stMultiSelect").first
    expect(chips).to_contain_text("RTX 3090", timeout=20_000)
    chips.locator("input").click()
    page.keyboard.type("4070 Ti")  # matches the 4070 Ti and the 4070 Ti SUPER
    page.get_by_role("option").filter(has_text="4070 Ti").first.wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "rtx-4070-ti" in url, timeout=15_000)
    assert "compare=rtx-3090%2Crtx-4070-ti&" in page.url + "&"
    assert "rtx-4070-ti-super" not in page.url
    page.close()


def test_legends_titles_and_labels_do_not_overlap(browser, base_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base_url + LINK, wait_until="networkidle")
    page.locator(".js-plotly-plot").nth(4).wait_for(timeout=30_000)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=15_000)
    charts = page.evaluate(BOXES)
    assert len(charts) == 5
    for n, chart in enumerate(charts):
        assert chart["ticks"], n
        for legend in chart["legend"]:
            assert not any(overlap(legend, tick) for tick in chart["ticks"]), n
            assert not any(overlap(legend, title) for title in chart["title"]), n
        texts = chart["texts"]
        assert not any(overlap(texts[i], texts[j])
                       for i in range(len(texts)) for j in range(i + 1, len(texts))), n
    page.close()
