"""The ``rigfit`` script and ``python -m rigfit``: the process's settings, then the
command line (:func:`rigfit.cli.console`).

The settings are made before the command line's modules are imported, so they hold
while pydantic builds the catalog's models:

- The cyclic garbage collector runs its youngest generation every 200,000 allocations
  instead of every 700, as mypy does for the same reason: importing and building
  thousands of objects that live until the process ends would otherwise spend a
  large share of the CPU re-scanning them (``gc.set_threshold`` in
  https://github.com/python/mypy/blob/master/mypy/build.py). A command runs for
  seconds at most.
- numpy's OpenBLAS gets one thread unless the user set a number: by default it starts
  a worker per core when numpy is imported, and they spin for a while (about 0.1 s of
  CPU on two cores), while the engine's arrays are elementwise over a hundred GPUs
  and never call BLAS
  (https://github.com/OpenMathLib/OpenBLAS/blob/develop/docs/runtime_variables.md).
- pydantic runs without plugins unless ``PYDANTIC_DISABLE_PLUGINS`` says otherwise (set
  it empty to load them all, or to the names of those to leave out). pydantic looks
  for plugins when it builds its first validator, in the entry points of every
  installed distribution, and imports :mod:`importlib.metadata` (and with it email,
  zipfile, csv, socket) to read them: about 3 % of the instructions of an HTML report,
  for plugins a command line never uses. Its loader module is replaced by one that
  answers what pydantic's own answers when plugins are turned off: none
  (``get_plugins`` in https://github.com/pydantic/pydantic/blob/main/pydantic/plugin/_loader.py).
"""

from __future__ import annotations

import gc
import os
import sys
import types
from typing import NoReturn

GC_THRESHOLDS = (200_000, 30, 30)  # youngest, middle, oldest generation (mypy's values)
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
PLUGINS_OFF = ("__all__", "1", "true")  # the values pydantic reads as "no plugins"
PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugins() -> tuple[()]:
    return ()


def without_pydantic_plugins() -> None:
    """Let pydantic find no plugins, without searching the installed distributions for
    them, unless ``PYDANTIC_DISABLE_PLUGINS`` asks for some."""
    if os.environ.get(PLUGINS_ENV, PLUGINS_OFF[0]) not in PLUGINS_OFF:
        return
    loader = types.ModuleType(PLUGIN_LOADER, "pydantic's plugin loader, plugins turned off")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules.setdefault(PLUGIN_LOADER, loader)


def run() -> NoReturn:
    """Set up the process, then run the command line and exit with its status."""
    gc.set_threshold(*GC_THRESHOLDS)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    without_pydantic_plugins()
    from rigfit.cli import console

    console()
