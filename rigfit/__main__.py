"""``python -m rigfit``: the same command line as the ``rigfit`` script."""

from rigfit.cli import console

console()
