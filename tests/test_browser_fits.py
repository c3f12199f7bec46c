"""What can I run, opened from a shared link in a real browser.

Debian's Chromium driven by Playwright against ``streamlit run app.py``: an RTX
3060 12 GB with 32 GB of RAM on llama.cpp. The expected sentences come from the
engine and the report's wording for the same machine, so a calibration change
does not break the test; what is pinned is what the page must say.
"""

from __future__ import annotations

import pytest

from benchmarks.serving import serving

from playwright.sync_api import expect  # noqa: E402

from catalog.catalog import load_catalog  # noqa: E402
from report.fits import class_lines, model_answer  # noqa: E402
from catalog.quality import load_quality  # noqa: E402
from sizing.fits import fits, parse_fits_request, ranking_quality  # noqa: E402

LINK = "/fits?gpu=rtx-3060-12gb&ram_gib=32&runtime=llama.cpp&model=glm-4-9b"


@pytest.fixture(scope="module")
def base_url():
    with serving() as url:
        yield url


def test_the_3060_link_answers_what_runs(browser, base_url):
    table = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 32,
                                     "runtimes": ("llama.cpp",)}), load_catalog(),
                 quality=ranking_quality(load_quality()))
    lines = {line.key: line for line in class_lines(table, "en")}
    medium, large = lines["medium"], lines["large"]
    # The 12-16B class runs on the GPU in a faithful format (the best-rated, Gemma 3 12B,
    # at Q6_K); the 20-35B class only with offload.
    assert medium.status == "gpu" and not medium.best.offload
    assert (medium.best.model, medium.best.quant) == ("gemma-3-12b", "q6_k")
    assert large.status == "offload"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base_url + LINK, wait_until="networkidle")
    main = page.get_by_test_id("stMain")
    wait = {"timeout": 60_000}  # a fresh server on a busy machine
    expect(main.get_by_role("heading", name="What can I run?")).to_be_visible(**wait)
    expect(main).to_contain_text(medium.text, **wait)
    expect(main).to_contain_text("20-35B: only with offload to system RAM.", **wait)
    expect(main).to_contain_text(model_answer(table, "glm-4-9b", "en"), **wait)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(**wait)
    assert "ram_gib=32" in page.url and "runtime=llama.cpp" in page.url
    page.close()
