"""The main path in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.serving import serving

ROOT = Path(__file__).resolve().parent.parent

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def base_url():
    with serving() as url:
        yield url


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` by typing it."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option").filter(has_text=option).first.click()


def wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=15_000)


def test_main_path_share_and_chinese(browser, base_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base_url + "/", wait_until="networkidle")
    page.get_by_text("Fits, with 17.3 GiB to spare.").wait_for(timeout=20_000)

    choose(page, "Model", "Llama 3.1 70B")
    wait_idle(page)
    choose(page, "Precision", "q4_k_m")
    wait_idle(page)
    choose(page, "GPU", "H100 SXM")
    wait_idle(page)
    page.get_by_text("Llama 3.1 70B on NVIDIA H100").wait_for(timeout=15_000)
    verdict = page.get_by_test_id("stAlertContentSuccess").first
    expect(verdict).to_contain_text("Fits, with", timeout=15_000)
    text = verdict.text_content()
    page.locator(".js-plotly-plot .barlayer").first.wait_for(timeout=15_000)
    # The address bar is rewritten when the run ends, a moment after the verdict shows.
    page.wait_for_url(lambda url: "model=llama-3.1-70b" in url and "gpu=h100-sxm" in url,
                      timeout=15_000)

    shared = browser.new_page(viewport={"width": 1400, "height": 1000})
    shared.goto(page.url, wait_until="networkidle")
    # Playwright's expect() retries until the rerun has replaced the previous text.
    expect(shared.get_by_test_id("stAlertContentSuccess").first).to_have_text(text, timeout=20_000)
    assert shared.get_by_text("Llama 3.1 70B on NVIDIA H100").count() == 1

    shared.get_by_text("简体中文").click()
    shared.get_by_text("放得下吗？").wait_for(timeout=15_000)
    expect(shared.get_by_test_id("stAlertContentSuccess").first).to_contain_text(
        "放得下，还剩", timeout=15_000)
    # As above, the address bar follows when the run ends.
    shared.wait_for_url(lambda url: "lang=zh" in url, timeout=15_000)
    shared.close()
    page.close()


def test_link_markup_is_ignored_with_a_notice(browser, base_url):
    page = browser.new_page()
    page.goto(base_url + "/?gpu=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&batch=99999999",
              wait_until="networkidle")
    page.get_by_text("Ignored the link parameter 'gpu=").wait_for(timeout=20_000)
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_text("Ignored the link parameter 'batch=99999999'").count() == 1
    page.close()


def test_bad_upload_keeps_the_previous_model(browser, base_url, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base_url + "/?model=qwen2.5-14b", wait_until="networkidle")
    page.get_by_text("Qwen2.5 14B Instruct on NVIDIA GeForce RTX 4090").wait_for(timeout=20_000)
    page.get_by_test_id("stSidebar").get_by_text("config.json", exact=True).click()
    # Upload only once the run that switched to uploads has finished (its last
    # element is this notice): an upload that interrupts a running rerun can
    # reset the sidebar's numbers, a known Streamlit-state race (see the notes).
    page.get_by_text("until then the estimate is for Qwen2.5 14B Instruct").wait_for(timeout=20_000)
    wait_idle(page)
    bad = tmp_path / "config.json"
    bad.write_text('{"hidden_size": 4096, "num_hidden_layers": 0', encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    message = page.get_by_text("Could not use this config.json: config.json is not valid JSON")
    message.wait_for(timeout=20_000)
    wait_idle(page)
    assert message.count() == 1
    # The previous model is still the one estimated, verdict and all.
    page.get_by_text("Qwen2.5 14B Instruct on NVIDIA GeForce RTX 4090").wait_for(timeout=15_000)
    page.get_by_test_id("stAlertContentSuccess").filter(has_text="Fits, with").first.wait_for(
        timeout=15_000)
    page.close()
