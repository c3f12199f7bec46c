"""``python -m rigfit``: the same command line as the ``rigfit`` script."""

from rigfit.script import run

run()
