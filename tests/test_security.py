"""Security rules over the code that runs in the app and the command line.

Read as syntax trees, not text, so a comment or a string naming ``eval(``
neither trips a rule nor hides a call. Scanned: app.py and every module the
server or the command line imports (pages/, sizing/, catalog/, advisor/, report/, rigfit/).
"""

from __future__ import annotations

import ast
import socket
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("pages", "sizing", "catalog", "advisor", "report", "rigfit")
RUNTIME = [ROOT / "app.py", *sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))]
FRONT_END = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
PAGES = ("pages/configurator.py", "pages/compare.py", "pages/builds.py", "pages/cloud.py",
         "pages/reports.py", "pages/method.py")
UNSAFE_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
NETWORK_MODULES = {"requests", "httpx", "aiohttp", "urllib.request", "urllib3", "http.client",
                   "socket", "ftplib", "smtplib", "websockets"}
DYNAMIC_CODE = {"eval", "exec", "compile", "__import__"}


def trees() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            for path in RUNTIME]


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def test_the_scan_sees_the_runtime_code():
    names = {p.relative_to(ROOT).as_posix() for p in RUNTIME}
    assert {"app.py", "pages/_state.py", "sizing/request.py", "catalog/loader.py", "advisor/plan.py",
            "rigfit/cli.py"} <= names


def test_yaml_is_read_with_the_safe_loader_only():
    found = []
    for path, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "yaml":
                if node.attr in {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load",
                                 "full_load_all", "Loader", "UnsafeLoader", "FullLoader"}:
                    found.append(f"{where(path, node)} yaml.{node.attr}")
            for name in imported(node):
                if name.startswith("yaml.") and "safe" not in name.lower() \
                        and name.split(".")[-1] not in {"YAMLError", "safe_load", "safe_dump",
                                                         "dump"}:
                    found.append(f"{where(path, node)} from {name}")
    assert found == []


def test_no_dynamic_code_or_unsafe_deserialisation():
    found = []
    for path, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in DYNAMIC_CODE:
                found.append(f"{where(path, node)} {node.func.id}()")
            for name in imported(node):
                if name.split(".")[0] in UNSAFE_MODULES:
                    found.append(f"{where(path, node)} import {name}")
            if isinstance(node, ast.Call) and any(
                    k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                    for k in node.keywords):
                found.append(f"{where(path, node)} shell=True")
    assert found == []


def test_html_is_only_ever_a_constant():
    """unsafe_allow_html, st.html and components.html never carry user data."""
    found = []
    for path in FRONT_END:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            unsafe = any(k.arg == "unsafe_allow_html"
                         and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                         for k in node.keywords)
            is_html = isinstance(node.func, ast.Attribute) and node.func.attr == "html"
            if (unsafe or is_html) and not all(isinstance(a, ast.Constant)
                                               and isinstance(a.value, str) for a in node.args):
                found.append(where(path, node))
    assert found == []


# The one module that may open connections of its own: the cloud-offer refresh, run
# only by `rigfit cloud-offers --refresh` (the Hub reader goes through huggingface_hub).
NETWORK_FETCHERS = {"catalog/gpuhunt_offers.py"}


def test_no_network_client_in_the_runtime_code():
    found = [f"{where(path, node)} {name}" for path, tree in trees() for node in ast.walk(tree)
             for name in imported(node) if (name in NETWORK_MODULES
                                           or name.split(".")[0] in NETWORK_MODULES - {"urllib", "http"})
             and path.relative_to(ROOT).as_posix() not in NETWORK_FETCHERS]
    assert found == []


def test_only_the_offer_refresh_command_imports_the_fetcher():
    importers = sorted({path.relative_to(ROOT).as_posix() for path, tree in trees()
                        for node in ast.walk(tree) for name in imported(node)
                        if name.startswith("catalog.gpuhunt_offers")})
    assert importers == ["rigfit/cloud_offers_cli.py"]


def test_uploads_are_capped_at_one_mib_and_protections_stay_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["maxUploadSize"] == 1  # MiB; a config.json is a few KiB
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True
    assert config["browser"]["gatherUsageStats"] is False  # no telemetry calls out


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to a host other than loopback fails the test."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            attempts.append(address)
            raise OSError(f"network disabled in tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    return attempts


def test_every_page_renders_without_the_network(no_network):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)
        assert at.title, page
    assert no_network == []
