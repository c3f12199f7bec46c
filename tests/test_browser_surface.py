"""Nothing on a page is cut off or pushed out of its box, at laptop and desktop widths.

Every page in both languages opens in Debian's Chromium at 1280 and 1440 px wide.
A label whose text is wider than its box (``scrollWidth > clientWidth``: the
browser clips it with an ellipsis) fails the test, and so does a table that
scrolls sideways where the page promises it fits: the Cloud table at 1440 px,
and the parts list inside each build card.
"""

from __future__ import annotations

import pytest

from benchmarks.serving import serving

TIMEOUT_MS = 60_000
WIDTHS_PX = (1280, 1440)
# (URL path, query, test id of the element the page draws last).
PAGES = {
    "configurator": ("", "model=llama-3.1-70b&quant=q4_k_m&gpu=rtx-3090&gpu_count=2",
                     "stDataFrame"),
    "compare": ("compare", "model=qwen2.5-32b&quant=q4_k_m", "stDataFrame"),
    "builds": ("builds", "model=llama-3.1-70b&quant=q4_k_m", "stDataFrame"),
    "cloud": ("cloud", "", "stDataFrame"),
    "reports": ("reports", "", "stDownloadButton"),
    "method": ("method", "", "stDataFrame"),
}
LABELS = ('[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]',
          '[data-testid="stWidgetLabel"]')
# Labels (and their inner boxes) whose text is wider than the box shows.
CLIPPED_JS = """(selectors) => {
  const out = [];
  for (const el of document.querySelectorAll(selectors.join(','))) {
    for (const box of [el, ...el.querySelectorAll('*')]) {
      if (box.clientWidth > 0 && box.scrollWidth > box.clientWidth + 1) {
        out.push(`${el.innerText.trim()} (${box.scrollWidth} > ${box.clientWidth} px)`);
        break;
      }
    }
  }
  return out;
}"""
# Tables wider than the box that holds them: [text of the first header, widths].
WIDE_TABLES_JS = """(scope) => {
  const out = [];
  for (const holder of document.querySelectorAll(scope)) {
    const right = holder.getBoundingClientRect().right;
    for (const grid of holder.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')) {
      if (grid.scrollWidth > grid.clientWidth + 1) {
        out.push(`data frame (${grid.scrollWidth} > ${grid.clientWidth} px)`);
      }
    }
    for (const table of holder.querySelectorAll('[data-testid="stMarkdownContainer"] table')) {
      const edge = table.getBoundingClientRect().right;
      if (edge > right + 1) out.push(`table "${table.innerText.slice(0, 40)}" (${edge} > ${right})`);
    }
  }
  return out;
}"""
CARD = '[data-testid="stVerticalBlockBorderWrapper"]'
MAIN = '[data-testid="stMainBlockContainer"]'


@pytest.fixture(scope="module")
def base_url(browser):
    with serving() as url:
        yield url


def open_ready(browser, base_url: str, name: str, lang: str, width_px: int):
    """The page at ``width_px``, once its last element is drawn and the run is over."""
    path, query, last = PAGES[name]
    page = browser.new_page(viewport={"width": width_px, "height": 1000})
    page.goto(f"{base_url}/{path}?lang={lang}" + (f"&{query}" if query else ""),
              wait_until="networkidle")
    page.get_by_test_id(last).first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)  # data frames size their columns after they mount
    return page


@pytest.mark.parametrize("width_px", WIDTHS_PX)
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_label_is_cut_off(browser, base_url, name, lang, width_px):
    page = open_ready(browser, base_url, name, lang, width_px)
    try:
        assert page.locator(", ".join(LABELS)).count() > 0
        assert page.evaluate(CLIPPED_JS, list(LABELS)) == []
        # A build card's parts and prices stay inside the card.
        assert page.evaluate(WIDE_TABLES_JS, CARD) == []
        if name == "cloud" and width_px == 1440:  # the break-even columns without scrolling
            assert page.evaluate(WIDE_TABLES_JS, MAIN) == []
    finally:
        page.close()
