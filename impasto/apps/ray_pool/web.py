"""What a Ray worker of the web app runs: the server's jobs, one at a time, each an engine
`Job` writing its files into a temporary folder, as the server's own slots do. Its live
events wait in the worker for the server to collect (`drain`), and the server can stop the
job while it runs (`stop`): the actor takes two calls at once. The files come back as bytes."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from impasto import __version__
from impasto.apps.web.backends.job import RESULT_FILES, WebJob, paint
from impasto.engine import StopToken, Stylizer
from impasto.errors import ImpastoError
from impasto.features.devices import select_device
from impasto.settings import Settings

WEB_CONCURRENCY = 2
"""Calls a web worker takes at once: the job's `run`, and the server's `drain` or `stop`."""


@dataclass(frozen=True)
class WebTask:
    """A web job with its input files' bytes, by their names in the job's `inputs/` folder."""

    job: WebJob
    inputs: dict[str, bytes]


@dataclass(frozen=True)
class WebResult:
    """A finished web job: its files' bytes by name, whether it was stopped, its iterations
    done of the total; or its one-line error."""

    files: dict[str, bytes] = field(default_factory=dict)
    stopped: bool = False
    done: int = 0
    total: int = 0
    error: str | None = None


class WebWorker:
    """The body of one Ray actor serving the web app: a Stylizer per network, each loaded on
    its first job (from the weights bytes the server put in Ray's object store, else the
    network's built-in or official weights)."""

    def __init__(self, weights: dict[str, tuple[str, Any]], device: str, threads: int | None) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.weights, self.device = weights, device
        self.stylizers: dict[str, Stylizer] = {}
        self.events: deque[dict[str, Any]] = deque()
        self._stops: dict[str, StopToken] = {}
        self._stopped_early: set[str] = set()
        self._lock = threading.Lock()

    def ready(self) -> dict[str, Any]:
        """The worker's impasto version, device and process id (as `StylizerWorker.ready`)."""
        try:
            device = str(select_device(self.device))
        except ImpastoError as error:
            return {"version": __version__, "error": str(error)}
        return {"version": __version__, "device": device, "pid": os.getpid(), "error": None}

    def run(self, task: WebTask) -> WebResult:
        """Runs one job; a bad input or setting comes back as the result's error."""
        stop = self._register(task.job.id)
        try:
            with tempfile.TemporaryDirectory(prefix="impasto-web-") as name:
                folder = Path(name)
                (folder / "inputs").mkdir()
                for file, data in task.inputs.items():
                    (folder / "inputs" / Path(file).name).write_bytes(data)
                saved = functools.partial(self._saved, task.job.id, folder / "latest.png")
                painted = paint(self._stylizer(task.job.model), task.job, folder, self.events.append, saved, stop)
                files = {file: (folder / file).read_bytes() for file in RESULT_FILES if (folder / file).is_file()}
            return WebResult(files, painted.stopped, painted.done, painted.total)
        except ImpastoError as error:
            return WebResult(error=str(error))
        except Exception as error:  # an impasto bug: the job fails, the worker goes on
            traceback.print_exc()
            return WebResult(error=f"internal error: {error!r}")
        finally:
            with self._lock:
                self._stops.pop(task.job.id, None)

    def drain(self) -> list[dict[str, Any]]:
        """The events since the last call, oldest first: `progress` and `preview` for the
        pages, and `latest` ({"done", "png"}) each time the latest image is saved."""
        events = []
        while self.events:
            events.append(self.events.popleft())
        return events

    def stop(self, job_id: str) -> None:
        """Stops the job (it returns its current image), even one whose run has not begun."""
        with self._lock:
            stop = self._stops.get(job_id)
            if stop is None:
                self._stopped_early.add(job_id)
        if stop is not None:
            stop.stop()

    def _register(self, job_id: str) -> StopToken:
        stop = StopToken()
        with self._lock:
            self._stops[job_id] = stop
            if job_id in self._stopped_early:
                stop.stop()
            self._stopped_early.clear()  # stops that came too late for earlier jobs
        return stop

    def _saved(self, job_id: str, latest: Path, done: int) -> None:
        self.events.append({"type": "latest", "job": job_id, "done": done, "png": latest.read_bytes()})

    def _stylizer(self, model: str) -> Stylizer:
        """The network's Stylizer, loaded on its first job (its weights file written only for that)."""
        if model not in self.stylizers:
            with tempfile.TemporaryDirectory(prefix="impasto-worker-") as folder:
                weights = None
                if model in self.weights:
                    import ray

                    name, blob = self.weights[model]
                    weights = str(Path(folder) / name)  # under its own name, which may tell its format
                    Path(weights).write_bytes(ray.get(blob))
                self.stylizers[model] = Stylizer(Settings(model=model, weights=weights, device=self.device))
        return self.stylizers[model]
