"""Shared fixtures: Debian's Chromium through Playwright, and poppler's pdftotext.

In CI (``CI=true``) a missing /usr/bin/chromium or pdftotext fails every test
that needs it; elsewhere those tests are skipped. No browser is ever downloaded.

Hypothesis runs under one of two profiles. By default ("rigfit-ci") every
property and fuzz test is derandomized and keeps no example database, so a
fresh clone draws exactly the examples every other run draws, whatever
PYTHONHASHSEED is. ``RIGFIT_FUZZ_EXAMPLES=N`` (``make fuzz``) loads
"rigfit-fuzz": N random examples per fuzz test (tests/test_fuzz_cli.py,
tests/test_fuzz_app.py) and per property test that sets no count of its own,
new ones every run; ``--hypothesis-seed=S`` repeats one such run.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS

settings.register_profile("rigfit-ci", derandomize=True, database=None)
if os.environ.get("RIGFIT_FUZZ_EXAMPLES"):
    settings.register_profile("rigfit-fuzz", max_examples=int(os.environ["RIGFIT_FUZZ_EXAMPLES"]),
                              derandomize=False, database=None)
    settings.load_profile("rigfit-fuzz")
else:
    settings.load_profile("rigfit-ci")


def fuzz_examples(ci_examples: int) -> int:
    """A fuzz test's example count: its own in CI, RIGFIT_FUZZ_EXAMPLES when that is set."""
    return ci_examples if settings.default.derandomize else settings.default.max_examples


def require_chromium() -> None:
    """Fail (CI) or skip (elsewhere) when Debian's Chromium is not installed."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


def require_pdftotext() -> None:
    """Fail (CI) or skip (elsewhere) when poppler's pdftotext is not installed."""
    if shutil.which("pdftotext") is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("pdftotext is missing; install Debian's poppler-utils package", pytrace=False)
    pytest.skip("pdftotext is missing (apt-get install poppler-utils)")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def chromium_installed() -> None:
    """For tests that need the browser only indirectly (kaleido chart export)."""
    require_chromium()


@pytest.fixture()
def pdftotext_installed() -> None:
    """For tests that read a PDF's text."""
    require_pdftotext()
