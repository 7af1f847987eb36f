"""The `impasto` command's entry point (pip's `impasto` script and `python -m impasto`): picks
the command, a subcommand named first (`commands.registry`) or else the single-image command
(`commands.stylize`), and runs it (`commands.base.execute`). Nothing imports this module."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from impasto.apps.commands.base import Command, execute


def main(argv: Sequence[str] | None = None) -> int:
    """`impasto ARGS...`; returns the exit status."""
    given = list(sys.argv[1:] if argv is None else argv)
    return execute(lambda: chosen(given))


def chosen(argv: list[str]) -> tuple[Command, list[str]]:
    """The command `argv` names, and its arguments. The commands are imported here, inside
    `execute`'s start-up, so that a Ctrl-C during their imports ends in one line too."""
    from impasto.apps.commands.registry import SUBCOMMANDS
    from impasto.apps.commands.stylize import StylizeCommand

    if argv and argv[0] in SUBCOMMANDS and not Path(argv[0]).exists():  # a photo named "video" is a photo
        return SUBCOMMANDS[argv[0]], argv[1:]
    return StylizeCommand(), argv


if __name__ == "__main__":
    sys.exit(main())
