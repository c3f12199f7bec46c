"""The repository stands alone: a fresh clone needs nothing beside it.

No tracked file may point at a folder outside the repository (a sibling
checkout, a build machine's home or work directory) or at notes that are not
in it, and no script may reach outside by editing ``sys.path``. The patterns
below are built from pieces so that this file does not match them itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".pdf", ".woff", ".woff2",
                   ".ttf", ".otf", ".zip", ".gz", ".xz", ".parquet"}
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)  # a URL's path is not a local path

OUTSIDE = {
    "sibling shared folder": re.compile(re.escape(".." + "/" + "shared")),
    "shared calibration folder": re.compile(re.escape("shared" + "/" + "calibration")),
    "notes file that is not in the repository": re.compile(re.escape("DOMAIN" + ".md")),
    "absolute work path": re.compile("/" + "work" + "/"),
    "absolute root home path": re.compile("/" + "root" + "/"),
    "absolute home path": re.compile("/" + "home" + r"/\w"),
    "absolute macOS home path": re.compile("/" + "Users" + r"/\w"),
    "absolute Windows home path": re.compile("[A-Za-z]:" + r"(\\\\?|/)" + "Users", re.IGNORECASE),
}
SYS_PATH_EDIT = re.compile(r"\bsys\s*\.\s*path\s*\.\s*(" + "insert" + "|" + "append" + r")\b")


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode("utf-8")
    return [ROOT / name for name in listing.split("\0") if name and (ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    if path.suffix.lower() in BINARY_SUFFIXES:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in _tracked_files():
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            local = URL.sub("", line)
            for what, pattern in OUTSIDE.items():
                match = pattern.search(local)
                if match:
                    offenders.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {what} "
                                     f"({match.group(0)!r})")
    assert not offenders, "tracked files point outside the repository:\n" + "\n".join(offenders)


def test_no_python_file_edits_sys_path():
    offenders = []
    for path in _tracked_files():
        if path.suffix != ".py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SYS_PATH_EDIT.search(line):
                offenders.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}")
    assert not offenders, ("run scripts as modules from the repository root (python -m ...) "
                           "instead of editing sys.path:\n" + "\n".join(offenders))
