"""Where `python -m impasto` and the `impasto` command start: nothing but the standard library
is loaded before Ctrl-C is caught, so an interruption at any moment of start-up ends in one
line and exit code 130, as it does later."""

import sys


def entry() -> int:
    """The command, with its own imports inside the guard."""
    try:
        from impasto.apps.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("impasto: interrupted\n")
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(entry())
