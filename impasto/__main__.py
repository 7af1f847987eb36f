"""`python -m impasto` runs the command-line tool."""

import sys

try:
    from impasto.apps.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python loads the command: the same one line as later
    sys.stderr.write("impasto: interrupted\n")
    sys.exit(130)

sys.exit(main())
