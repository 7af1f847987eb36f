"""A command of `impasto`, and `execute`, the one place any command runs.

A `Command` has a name, a one-line summary, its options (`add_arguments`) and its work
(`run`); the options every command shares (--debug, and --quiet and --overwrite where it
takes them) are declared here once. `execute` ends every command the same way: a usage error
as one line from its parser, a user error, an interruption or an impasto bug as one line on
stderr and an exit code, with a traceback only under --debug."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Literal

from impasto.apps.commands.errors import one_line
from impasto.apps.interrupts import as_interrupted, sigterm_interrupts

Shared = Literal["overwrite", "quiet"]
SHARED_FLAGS: dict[Shared, tuple[str, ...]] = {"overwrite": ("--overwrite",), "quiet": ("-q", "--quiet")}
"""The shared switches a command may take (`Command.shared`); every command takes --debug."""


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line, like impasto's own."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


class Command:
    """One command: `impasto NAME ...`, or `impasto ...` itself for the one without a name."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    """What `impasto --help` says of it, in one line (`impasto NAME --help` tells the rest)."""
    description: ClassVar[str] = ""
    shared: ClassVar[dict[Shared, str]] = {}
    """The shared switches it takes, each with its help: --overwrite where it writes files,
    --quiet where it prints progress."""
    preload: ClassVar[tuple[str, ...]] = ("torch",)
    """The slow imports of its run, done at start-up, where Ctrl-C is held (see `execute`)."""

    @property
    def prog(self) -> str:
        return f"impasto {self.name}" if self.name else "impasto"

    def parser(self) -> OneLineParser:
        """Its parser: the shared options, then its own."""
        parser = OneLineParser(prog=self.prog, description=self.description)
        self.add_shared(parser)
        self.add_arguments(parser)
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Adds its own options to `parser`."""

    def add_shared(self, parser: argparse.ArgumentParser, default: Any = False) -> None:
        """Adds the shared switches it takes, and --debug. The parser of one of its actions
        (`impasto weights list`) passes `default=argparse.SUPPRESS`, so that a switch given
        before the action's name stays on."""
        for name, help in self.shared.items():
            parser.add_argument(*SHARED_FLAGS[name], action="store_true", default=default, help=help)
        parser.add_argument("--debug", action="store_true", default=default, help="show full tracebacks on errors")

    def run(self, args: argparse.Namespace) -> int:
        """Does the work; returns the exit status. Errors and interruptions are `execute`'s to show."""
        raise NotImplementedError


def execute(choose: Callable[[], tuple[Command, Sequence[str]]]) -> int:
    """Runs the command that `choose` picks, with its arguments: start-up (importing the
    command, parsing its options, its `preload`) with Ctrl-C held until done, then its run.
    Returns the exit status: 1 for an error, 128 + the signal's number for an interruption."""
    args: argparse.Namespace | None = None
    try:
        with held_interrupts():
            command, argv = choose()
            args = command.parser().parse_args(argv)
            for module in command.preload:
                importlib.import_module(module)
        with sigterm_interrupts():  # SIGTERM stops a run as Ctrl-C does: it saves what there is
            return command.run(args)
    except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM where the run turned it into one
        stopped = as_interrupted(error)
        print(f"impasto: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    except Exception as error:
        if args is not None and args.debug:
            raise
        print(one_line(error), file=sys.stderr)
        return 1


@contextlib.contextmanager
def held_interrupts() -> Iterator[None]:
    """While inside, Ctrl-C is only noted, and raised as KeyboardInterrupt once the block is done: a
    Ctrl-C that lands inside a C extension's import (PyTorch's) would leave it half-initialised,
    to fail later in odd ways. Main thread only, where signal handlers are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if noted:
        raise KeyboardInterrupt
