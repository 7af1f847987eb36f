"""`StopToken`: the one thing a caller hands a run to end it early, from any thread."""

from __future__ import annotations

import threading


class StopToken:
    """A one-way, thread-safe stop request: the caller sets it, the run only reads it.

    After `stop()` the run ends after the evaluation in progress and returns its current
    image normally; its last `Iterate` says `reason="stopped"`.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()

    def stop(self) -> None:
        """Asks the run to end after the current evaluation."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()
