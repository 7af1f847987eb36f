"""What every backend is: slots that each run one job at a time, told what to report to and
what stops the job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from impasto.apps.web.backends.job import Painted, WebJob
from impasto.apps.web.live import LiveView
from impasto.engine import StopToken
from impasto.errors import ImpastoError


@dataclass(frozen=True)
class Watch:
    """What a running job reports to and is stopped by, on the server: its `LiveView` (events
    for the pages), its `StopToken`, `saved(iterations)` each time its latest image is saved,
    and `note(message)` for what the page shows of it meanwhile (a retry)."""

    live: LiveView
    stop: StopToken
    saved: Callable[[int], None]
    note: Callable[[str], None]


class WorkerLost(ImpastoError):
    """The worker running a job died and the job cannot go on: it fails, keeping the latest
    image saved (`latest.png` in its folder) as its result."""


class Backend(Protocol):
    """Runs jobs, `workers` at a time: slot `n` (0 <= n < workers) runs one job at a time."""

    @property
    def workers(self) -> int: ...

    def run(self, slot: int, job: WebJob, folder: Path, watch: Watch) -> Painted:
        """Runs `job` on the inputs in `folder/inputs`, leaving its files in `folder` (and
        `latest.png` while it runs); raises an ImpastoError for a job that fails."""
        ...

    def close(self) -> None:
        """Lets go of the workers (the jobs have ended)."""
        ...
