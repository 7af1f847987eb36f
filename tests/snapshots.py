"""A callback that keeps the resumable snapshot of one iteration, as a checkpoint writer would."""

from __future__ import annotations

from impasto.engine import Callback, Iterate, Resume, Snapshot


class SnapshotAt(Callback):
    """Asks for the snapshot at (scale, iteration) and keeps its resume state; optionally
    passes every event to `also`."""

    def __init__(self, iteration: int, scale: int = 0, also=None) -> None:
        self.at, self.also = (scale, iteration), also
        self.resume: Resume | None = None

    def wants_snapshot(self, it: Iterate) -> bool:
        return (it.scale, it.iteration) == self.at

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.resume = snapshot.resume

    def on_iterate(self, it: Iterate) -> None:
        if self.also is not None:
            self.also(it)
