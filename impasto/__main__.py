"""`python -m impasto`: the `impasto` command, from the same entry point as pip's script."""

import sys

from impasto.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
