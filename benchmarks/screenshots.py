"""Write a PNG of every app page in English and Chinese to docs/img/.

Starts ``streamlit run app.py`` headless on a free port and drives Debian's
Chromium with Playwright. Run with ``make screenshots``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
# (file stem, URL path, query): a 70B model on two RTX 3090s shows every section.
PAGES = (
    ("configurator", "", "model=llama-3.1-70b&quant=q4_k_m&gpu=rtx-3090&gpu_count=2"),
    ("compare", "compare", "model=qwen2.5-32b&quant=q4_k_m"),
    ("builds", "builds", ""),
    ("cloud", "cloud", ""),
    ("report", "reports", ""),
    ("method", "method", ""),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"streamlit did not answer on port {port} within {timeout_s:.0f} s")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port)
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for lang in ("en", "zh"):
                for stem, path, query in PAGES:
                    url = f"http://127.0.0.1:{port}/{path}?lang={lang}" + (f"&{query}" if query else "")
                    page.goto(url, wait_until="networkidle")
                    page.get_by_test_id("stMainBlockContainer").get_by_role("heading").first.wait_for()
                    page.wait_for_timeout(1500)  # plotly draws after the data arrives
                    target = OUT / f"{stem}-{lang}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target.relative_to(ROOT))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
