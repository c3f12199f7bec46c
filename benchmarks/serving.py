"""Serve the app on a free localhost port and drive Debian's Chromium.

Shared by the browser tests and the benchmark scripts: one place for the
``streamlit run`` command line, the health check and the Chromium flags (the
network-quiet ones keep it from trying to reach the closed network).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, *, log: IO | None = None, timeout_s: float = 60.0) -> subprocess.Popen:
    """``streamlit run app.py`` headless on ``port``, returned once /_stcore/health answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError(f"streamlit did not become healthy within {timeout_s:.0f} s")


@contextlib.contextmanager
def serving(*, log: IO | None = None) -> Iterator[str]:
    """The app served for the duration of the block; yields its base URL."""
    port = free_port()
    server = start_server(port, log=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
