"""A web job's live state. `LiveRun`, the job's callback beside its recorders wherever the job
runs (in the server or on a Ray worker), turns iterations into throttled plain-data events
(progress with new loss points, JPEG previews at most a few a second) and keeps the latest
image on disk so that a job the server dies in still has a result. `LiveView`, in the server,
passes those events on to the pages and keeps what a page that opens mid-run is sent."""

from __future__ import annotations

import base64
import io
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from impasto.engine import Callback, Iterate
from impasto.record.provenance import save_with_record
from impasto.record.result import Provenance

PROGRESS_EVERY = 0.1
PREVIEW_EVERY = 0.25
"""Seconds between previews: at most four a second, whatever the speed of the run."""
SAVE_EVERY = 3.0
"""Seconds between saves of the latest image (what survives the server dying)."""
PREVIEW_SIDE = 768
PREVIEW_QUALITY = 80

Publish = Callable[[dict[str, Any]], None]


def jpeg_data_url(image: Image.Image) -> str:
    """A compressed JPEG of the image (at most PREVIEW_SIDE pixels), as a data: URL."""
    shown = image.copy()
    shown.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    shown.save(buffer, format="JPEG", quality=PREVIEW_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class LiveRun(Callback):
    """Tells the page about the run, at a bounded rate, and keeps its latest image on disk.

    Iterations are counted over all scales (`total` in all), so the page shows one
    progress bar and one loss curve for a coarse-to-fine run.
    """

    def __init__(
        self,
        job_id: str,
        total: int,
        provenance: Provenance,
        latest: Path,
        publish: Publish,
        saved: Callable[[int], None],
    ) -> None:
        self.job_id, self.total, self.provenance, self.latest = job_id, total, provenance, latest
        self.publish, self.saved = publish, saved
        self.done = 0
        self._started = time.monotonic()
        self._offset, self._scale, self._scale_iterations = 0, 0, 0
        self._unsent: list[dict[str, Any]] = []
        self._progress_at = self._preview_at = self._saved_at = -math.inf

    def on_iterate(self, it: Iterate) -> None:
        if it.scale != self._scale:
            self._offset += self._scale_iterations
            self._scale = it.scale
        self._scale_iterations = it.iterations
        self.done = self._offset + it.iteration
        self._unsent.append({"i": self.done, **{k: _finite(v) for k, v in it.losses.items()}})
        now = time.monotonic()
        last = it.last
        if last or now - self._progress_at >= PROGRESS_EVERY:
            self._progress_at = now
            self.publish({"type": "progress", **self.progress(), "points": self._unsent})
            self._unsent = []
        if last or it.iteration == 0 or now - self._preview_at >= PREVIEW_EVERY:
            self._preview_at = now
            self.publish({"type": "preview", "job": self.job_id, "image": jpeg_data_url(it.image())})
        if now - self._saved_at >= SAVE_EVERY:
            self._saved_at = now
            self._save_latest(it)

    def progress(self) -> dict[str, Any]:
        """Where the run is: iterations done of the total, seconds elapsed and left (estimated)."""
        elapsed = time.monotonic() - self._started
        eta = elapsed / self.done * max(0, self.total - self.done) if self.done else None
        return {"job": self.job_id, "iteration": self.done, "iterations": self.total, "elapsed": elapsed, "eta": eta}

    def _save_latest(self, it: Iterate) -> None:
        where = {"scale": it.scale, "iteration": it.iteration}
        save_with_record(it.image(), self.latest, {**self.provenance.record, "interrupted_at": where})
        self.saved(self.done)


class LiveView:
    """The server's side of one running job: its events go on to the pages, and it keeps what
    a page that opens mid-run is sent (progress, the whole loss history, the latest preview)."""

    def __init__(self, job_id: str, publish: Publish) -> None:
        self.job_id, self._publish = job_id, publish
        self._lock = threading.Lock()
        self._points: list[dict[str, Any]] = []
        self._preview: str | None = None
        self._iterations = (0, 0)
        self._started = time.monotonic()

    def publish(self, event: dict[str, Any]) -> None:
        """Notes a `progress` or `preview` event of this job and sends it to the pages."""
        with self._lock:
            if event["type"] == "progress":
                self._points.extend(event["points"])
                self._iterations = (event["iteration"], event["iterations"])
            elif event["type"] == "preview":
                self._preview = event["image"]
        self._publish(event)

    def restart(self) -> None:
        """The job starts again from its first iteration (on a fresh worker): its loss history goes."""
        with self._lock:
            self._points, self._iterations, self._started = [], (0, self._iterations[1]), time.monotonic()

    @property
    def iterations(self) -> tuple[int, int]:
        """Iterations done, of the total, as last reported."""
        with self._lock:
            return self._iterations

    def snapshot(self) -> dict[str, Any]:
        """{"job", "iteration", "iterations", "elapsed", "eta", "points", "preview"}, as of now."""
        with self._lock:
            (done, total), points, preview = self._iterations, list(self._points), self._preview
        elapsed = time.monotonic() - self._started
        eta = elapsed / done * max(0, total - done) if done else None
        return {"job": self.job_id, "iteration": done, "iterations": total, "elapsed": elapsed, "eta": eta,
                "points": points, "preview": preview}  # fmt: skip


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: such a loss is sent as null."""
    return value if math.isfinite(value) else None
