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
"""

from __future__ import annotations

import gc
import os
from typing import NoReturn

GC_THRESHOLDS = (200_000, 30, 30)  # youngest, middle, oldest generation (mypy's values)


def run() -> NoReturn:
    """Set up the process, then run the command line and exit with its status."""
    gc.set_threshold(*GC_THRESHOLDS)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from rigfit.cli import console

    console()
