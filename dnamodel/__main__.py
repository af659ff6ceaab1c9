"""Run the command line: ``python -m dnamodel``."""

import sys

from dnamodel.cli import main

sys.exit(main())
