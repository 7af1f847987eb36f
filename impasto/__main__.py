"""Where `python -m impasto` and the `impasto` command start: nothing but the standard library
is loaded before Ctrl-C is caught, so an interruption at any moment of start-up ends in one
line and exit code 130, as it does later."""

import signal
import sys


def entry() -> int:
    """The command, with its imports (torch's included) inside the guard.

    A Ctrl-C that lands inside a C extension's import leaves it half-initialised and later
    fails in odd ways, so during the imports it is only noted, and acted on once they are done.
    """
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        import torch  # noqa: F401  (the slow import; everything after it is quick)

        from impasto.apps.cli import main
    finally:
        signal.signal(signal.SIGINT, previous)
    if noted:
        sys.stderr.write("impasto: interrupted\n")
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(entry())
