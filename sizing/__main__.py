import sys

import sizing.plan_cli  # noqa: F401  registers the plan and cloud subcommands
from sizing.cli import main

sys.exit(main())
