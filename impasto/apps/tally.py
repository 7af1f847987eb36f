"""`RunTally`: the callback that keeps what batch lists and records of each job it runs, on
this machine or on a Ray worker."""

from __future__ import annotations

from impasto.engine import Callback, Iterate, RunStart


class RunTally(Callback):
    """A run's final weighted losses (those of its last evaluation) and the SHA-256 of each
    input file it read (by path as given; none for images handed over in memory)."""

    def __init__(self) -> None:
        self.losses: dict[str, float] = {}
        self.checksums: dict[str, str] = {}

    def on_run_start(self, start: RunStart) -> None:
        self.checksums = dict(start.checksums)

    def on_iterate(self, it: Iterate) -> None:
        self.losses = dict(it.losses)
