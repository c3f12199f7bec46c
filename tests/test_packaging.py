"""``pip install .`` gives a working ``rigfit`` command that answers as ``python -m sizing`` does.

The wheel is built from a copy of the packages (no network: the build uses
the setuptools in this environment) and installed into a folder of its own;
the command then runs from another folder, so it can only find what the wheel
carries (code, catalog YAML, string catalogs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rigfit.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("catalog", "sizing", "advisor", "report", "rigfit")
ESTIMATE = ["estimate", "--model", "llama-3.1-8b", "--quant", "q4_k_m", "--gpu", "rtx-4090",
            "--format", "json"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder holding the installed wheel (its packages and its bin/rigfit)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work / "dist"),
                    str(src)], check=True, capture_output=True, timeout=300)
    wheel = next((work / "dist").glob("rigfit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "catalog/gpus.yaml" in names and "report/locales/zh.yaml" in names
    assert not any(n.startswith(("tests/", "pages/", "benchmarks/")) for n in names)
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return target


def run_installed(installed: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([str(installed / "bin" / "rigfit"), *args], cwd=installed.parent,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_command_prints_what_python_m_sizing_prints(installed):
    done = run_installed(installed, *ESTIMATE)
    assert done.returncode == 0, done.stderr
    module = subprocess.run([sys.executable, "-m", "sizing", *ESTIMATE], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert module.returncode == 0, module.stderr
    assert json.loads(done.stdout) == json.loads(module.stdout)
    assert json.loads(done.stdout)["memory"]["fits"] is True


def test_the_installed_command_reads_its_own_files(installed):
    done = run_installed(installed, "gpus", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) >= 100
    where = subprocess.run([sys.executable, "-c", "import catalog, report.text as t; "
                            "print(catalog.__file__); print(t.translate('nav.builds', 'zh'))"],
                           cwd=installed.parent, env={**os.environ, "PYTHONPATH": str(installed)},
                           capture_output=True, text=True, timeout=60)
    path, label = where.stdout.splitlines()
    assert Path(path).is_relative_to(installed) and label != "nav.builds"


def test_unknown_ids_exit_2_with_one_line(installed):
    done = run_installed(installed, "estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-9999")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "rtx-" in done.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_answers_under_both_names(command):
    for prefix in (["-m", "rigfit"], ["-m", "sizing"]):
        done = subprocess.run([sys.executable, *prefix, command, "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("usage:") and command in done.stdout.splitlines()[0]


def test_plan_runs_from_a_fresh_interpreter_without_prior_imports():
    code = ("from rigfit.cli import main; raise SystemExit(main(['plan', '--model', 'llama-3.1-8b', "
            "'--budget-usd', '1500', '--format', 'json']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert [t["tier"] for t in json.loads(done.stdout)["tiers"]] == ["budget", "balanced", "workstation"]
