"""Write a PNG of every app page in English and Chinese to docs/img/.

Starts ``streamlit run app.py`` headless on a free port and drives Debian's
Chromium with Playwright. Run with ``make screenshots`` or, from the repository
root, ``.venv/bin/python -m benchmarks.screenshots``.
"""

from __future__ import annotations

from playwright.sync_api import sync_playwright

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving

OUT = ROOT / "docs" / "img"
# (file stem, URL path, query): a 70B model on two RTX 3090s shows every section.
PAGES = (
    ("configurator", "", "model=llama-3.1-70b&quant=q4_k_m&gpu=rtx-3090&gpu_count=2"),
    ("compare", "compare", "model=qwen2.5-32b&quant=q4_k_m"),
    ("builds", "builds", ""),
    ("cloud", "cloud", ""),
    ("report", "reports", ""),
    ("method", "method", ""),
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with serving() as base:
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for lang in ("en", "zh"):
                for stem, path, query in PAGES:
                    url = f"{base}/{path}?lang={lang}" + (f"&{query}" if query else "")
                    page.goto(url, wait_until="networkidle")
                    page.get_by_test_id("stMainBlockContainer").get_by_role("heading").first.wait_for()
                    page.wait_for_timeout(1500)  # plotly draws after the data arrives
                    target = OUT / f"{stem}-{lang}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target.relative_to(ROOT))
            browser.close()


if __name__ == "__main__":
    main()
