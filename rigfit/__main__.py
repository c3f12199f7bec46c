"""``python -m rigfit``: the same command line as the ``rigfit`` script."""

import sys

from rigfit.cli import main

sys.exit(main())
