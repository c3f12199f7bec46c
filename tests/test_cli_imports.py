"""A command line imports what its command needs and nothing heavier.

Each case runs ``rigfit`` in a fresh interpreter and reads back the top-level
packages it imported (``sys.modules``): the sets, not the times, are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.loader import CACHE_DIR_ENV

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from rigfit.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""
HEAVY = {"plotly", "pandas", "kaleido", "fpdf", "PIL", "fontTools", "huggingface_hub",
         "streamlit", "gpuhunt", "narwhals"}
# Modules of the engine that only some inputs need: a model file (gguf, the Hub), a
# pasted benchmark, a fine-tuning or fits request, a scenario that does not fit (the
# remedies) or an agent workload. The default report needs none of them, nor the readers of
# model files (sizing.sources, sizing.safetensors_file); its --finetune choices come from
# sizing.finetune_methods, not the fine-tuning engine, and its plan, with no service level,
# runs no serving simulation (sizing.capacity, sizing.serving, sizing.speculative) and its
# GPU table no every-model rows (sizing.model_rows, What can I run's).
ON_DEMAND = {"gguf", "sizing.gguf_file", "sizing.hub", "sizing.bench", "sizing.bench_calibrate",
             "sizing.finetune", "sizing.finetune_request", "sizing.fits", "sizing.remedies",
             "sizing.agent", "sizing.capacity", "sizing.serving", "sizing.speculative",
             "sizing.model_rows",
             "advisor.finetune", "report.finetune_section", "report.serve_section", "report.fits",
             "sizing.sources", "sizing.safetensors_file"}


def imported_modules(*argv: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module (dotted name) imported by ``rigfit ARGV`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=True, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0, done.stderr
    return set(result["modules"])


def imported(*argv: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages imported by ``rigfit ARGV``."""
    return {name.split(".")[0] for name in imported_modules(*argv, env=env)}


@pytest.mark.parametrize("fmt, allowed", [("html", set()), ("pdf", {"fpdf", "PIL", "fontTools"})])
def test_a_report_imports_only_its_own_renderer(tmp_path, fmt, allowed):
    modules = imported_modules("report", "--model", "llama-3.1-8b", "--format", fmt,
                               "-o", str(tmp_path / f"r.{fmt}"))
    assert "report" in modules and (tmp_path / f"r.{fmt}").stat().st_size > 0
    assert {name.split(".")[0] for name in modules} & HEAVY == allowed
    assert not modules & ON_DEMAND


def test_a_report_answered_from_the_caches_parses_no_yaml(tmp_path):
    env = {**os.environ, CACHE_DIR_ENV: str(tmp_path / "cache")}
    argv = ("--lang", "zh", "report", "--model", "llama-3.1-8b", "--format", "html",
            "-o", str(tmp_path / "r.html"))
    assert "yaml" in imported(*argv, env=env)  # the first run reads the YAML and keeps it
    assert "yaml" not in imported(*argv, env=env)  # the second reads the JSON kept


def test_a_catalog_listing_imports_no_report_or_chart_library():
    assert not imported("gpus", "--format", "json") & HEAVY
