"""Write a PNG of every app page in English and Chinese to docs/img/.

Starts ``streamlit run app.py`` headless on a free port and drives Debian's
Chromium with Playwright. Run with ``make screenshots`` or, from the repository
root, ``.venv/bin/python -m benchmarks.screenshots``. Each picture is as tall as
the page's content (up to MAX_HEIGHT_PX), not just the first screen.

The page list and :func:`open_ready` are shared with the browser test that
checks no label is cut off (tests/test_browser_surface.py).
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving

OUT = ROOT / "docs" / "img"
WIDTH_PX = 1440
MAX_HEIGHT_PX = 4000
TIMEOUT_MS = 60_000
SETTLE_MS = 700  # the page counts as drawn once its element count holds this long
# file stem -> (URL path, query, test id of an element drawn late or None). A 70B model
# on two RTX 3090s shows every section of the Configurator.
PAGES = {
    "configurator": ("", "model=llama-3.1-70b&quant=q4_k_m&gpu=rtx-3090&gpu_count=2",
                     "stDataFrame"),
    "compare": ("compare", "model=qwen2.5-32b&quant=q4_k_m", "stDataFrame"),
    "fits": ("fits", "", None),
    "builds": ("builds", "", "stDataFrame"),  # the default 8B model: three distinct cards
    "cloud": ("cloud", "", "stDataFrame"),
    "serve": ("serve", "", None),
    "finetune": ("finetune", "", None),
    "report": ("reports", "", "stDownloadButton"),
    "method": ("method", "", "stDataFrame"),
}


def settle(page: Page) -> None:
    """Wait until the script run is over and the page stops adding elements."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=TIMEOUT_MS)
    count_js = "document.querySelectorAll('*').length"
    before, steady = page.evaluate(count_js), 0
    for _ in range(TIMEOUT_MS // SETTLE_MS):
        page.wait_for_timeout(SETTLE_MS)
        now = page.evaluate(count_js)
        steady = steady + 1 if now == before else 0
        if steady >= 2:
            return
        before = now


def open_ready(browser: Browser, base_url: str, name: str, lang: str, width_px: int,
               height_px: int = 1000) -> Page:
    """Page ``name`` of :data:`PAGES` in ``lang``, once it is fully drawn."""
    path, query, last = PAGES[name]
    page = browser.new_page(viewport={"width": width_px, "height": height_px})
    page.goto(f"{base_url}/{path}?lang={lang}" + (f"&{query}" if query else ""),
              wait_until="networkidle")
    page.get_by_test_id("stMainBlockContainer").get_by_role("heading").first.wait_for(
        timeout=TIMEOUT_MS)
    if last is not None:
        page.get_by_test_id(last).first.wait_for(timeout=TIMEOUT_MS)
    settle(page)
    return page


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with serving() as base:
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for lang in ("en", "zh"):
                for stem in PAGES:
                    page = open_ready(browser, base, stem, lang, WIDTH_PX)
                    # The app scrolls inside its main element: grow the window to hold it all.
                    tall = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')"
                                         ".scrollHeight")
                    page.set_viewport_size({"width": WIDTH_PX,
                                            "height": min(max(tall, 1000), MAX_HEIGHT_PX)})
                    settle(page)
                    target = OUT / f"{stem}-{lang}.png"
                    page.screenshot(path=str(target))
                    page.close()
                    print(target.relative_to(ROOT))
            browser.close()


if __name__ == "__main__":
    main()
