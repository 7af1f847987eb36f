"""`python -m impasto` runs the command-line tool."""

import sys

from impasto.apps.cli import main

sys.exit(main())
