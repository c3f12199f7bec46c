"""Nothing on a page is cut off or pushed out of its box, at laptop and desktop widths.

Every page in both languages opens in Debian's Chromium at 1280 and 1440 px wide.
A label whose text is wider than its box (``scrollWidth > clientWidth``: the
browser clips it with an ellipsis) fails the test, and so does a table that
scrolls sideways where the page promises it fits: the Cloud table, the Builds
consumer-vs-professional table and the Compare table at 1440 px, and the parts
list inside each build card.
"""

from __future__ import annotations

import pytest

from benchmarks.screenshots import PAGES, open_ready
from benchmarks.serving import serving

WIDTHS_PX = (1280, 1440)
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
# Pages whose tables fit the page at 1440 px without scrolling sideways.
FIT_AT_1440 = ("cloud", "builds", "compare")
MAIN = '[data-testid="stMainBlockContainer"]'


@pytest.fixture(scope="module")
def base_url(browser):
    with serving() as url:
        yield url


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
        if name in FIT_AT_1440 and width_px == 1440:  # every column without scrolling
            assert page.evaluate(WIDE_TABLES_JS, MAIN) == []
    finally:
        page.close()
