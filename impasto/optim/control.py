"""`RunControl`: what a caller holds to steer a run from outside (stop it early) and to take
resumable snapshots of it (checkpoints), without reaching into the optimiser."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from impasto.optim.loop import Resume


class RunControl:
    """Thread-safe stop request, and access to the running scale's resumable state.

    `stop()` may be called from any thread: the run ends after the evaluation in progress and
    returns its current image normally. `resume_state()` is valid inside a callback.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._snapshot: Callable[[], Resume] | None = None
        self.reason: str | None = None
        """Why the run ended early ("stopped"), or None while it ran its full course."""

    def stop(self) -> None:
        """Asks the run to end after the current evaluation."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def attach(self, snapshot: Callable[[], Resume] | None) -> None:
        """Called by the loop: how to copy the state of the scale now running."""
        self._snapshot = snapshot

    def resume_state(self) -> Resume:
        """A copy of the state that continues the run from the current iteration."""
        if self._snapshot is None:
            raise ValueError("no run is in progress: resume_state() is valid inside a callback")
        return self._snapshot()
