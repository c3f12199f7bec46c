"""``python -m sizing``: hands over to the command line (:mod:`rigfit.cli`), same flags and JSON."""

import sys

from rigfit.cli import main

sys.exit(main(prog="python -m sizing"))
