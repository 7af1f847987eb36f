"""The job queue: jobs wait in the store, and the backend's slots (one thread each) claim
them in order and run up to that many at once, off the event loop. Each running job has its
own `LiveView` for the pages and its own `StopToken`: Stop ends it early, and the image it
had is kept as its result. Jobs finish in any order; each updates only its own row."""

from __future__ import annotations

import functools
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PIL import Image

from impasto.apps.web.backends import Backend
from impasto.apps.web.backends.base import Watch, WorkerLost
from impasto.apps.web.backends.job import Painted, WebJob
from impasto.apps.web.backends.local import Stylizers
from impasto.apps.web.events import EventHub
from impasto.apps.web.live import LiveView
from impasto.apps.web.store import DONE, FAILED, INTERRUPTED, STOPPED, Store
from impasto.apps.web.uploads import link_or_copy, stored_upload
from impasto.engine import StopToken
from impasto.errors import ImpastoError

THUMB_SIDE = 320

__all__ = ["Runner", "Stylizers"]


class Runner:
    """Queues jobs, runs them on the backend's slots, and publishes their changes."""

    def __init__(self, store: Store, hub: EventHub, backend: Backend) -> None:
        self.store, self.hub, self.backend = store, hub, backend
        self.live: dict[str, LiveView] = {}
        """The running jobs' live state, by job id."""
        self._stops: dict[str, StopToken] = {}
        self._lock = threading.Lock()  # guards `live` and `_stops`, and makes claiming one slot at a time
        self._wake = threading.Condition()
        self._submitted = 0  # counts submits, so that a slot never sleeps through one
        self._closing = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(slot,), name=f"impasto-jobs-{slot}", daemon=True)
            for slot in range(backend.workers)
        ]

    def start(self) -> None:
        """Marks jobs the last server died in as interrupted, then starts working the queue."""
        for job in self.store.running():
            self._recover(job)
        for thread in self._threads:
            thread.start()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stops the running jobs (kept as `interrupted`, with their images), the slots and the backend."""
        self._closing.set()
        with self._wake:
            self._wake.notify_all()
        with self._lock:
            stops = list(self._stops.values())
        for stop in stops:
            stop.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.backend.close()

    def submit(
        self, settings: dict[str, Any], content: dict[str, str], styles: list[dict[str, str]], parent: str | None
    ) -> dict[str, Any]:
        """Queues a job on checked settings and stored uploads ({"id", "name"} each)."""
        found = [stored_upload(self.store.uploads, entry["id"]) for entry in (content, *styles)]
        sources = [source for source in found if source is not None]
        if len(sources) < len(found):
            raise ImpastoError("an image of this run is no longer on the server: upload it again", "images")
        roles = ["content", *(f"style-{n}" for n in range(1, len(styles) + 1))]
        files = [f"{role}{source.suffix}" for role, source in zip(roles, sources)]
        entries = [{**entry, "file": file} for entry, file in zip((content, *styles), files)]
        job = self.store.add(settings["model"], settings, {"content": entries[0], "styles": entries[1:]}, parent)
        inputs = self.store.job_folder(job["id"]) / "inputs"
        inputs.mkdir(parents=True)
        for source, file in zip(sources, files):
            link_or_copy(source, inputs / file)
        self._changed(job)
        with self._wake:
            self._submitted += 1
            self._wake.notify_all()
        return job

    def stop(self, job_id: str) -> dict[str, Any] | None:
        """Cancels a queued job, or stops a running one (it then keeps its current image);
        no other job is touched."""
        if self.store.cancel(job_id):
            return self._changed(self.store.require(job_id))
        with self._lock:
            stop = self._stops.get(job_id)
        if stop is not None:
            stop.stop()
        return self.store.get(job_id)

    def snapshot(self) -> dict[str, Any]:
        """The state a page starts from: every job, and the running jobs' progress (a list)."""
        with self._lock:
            live = list(self.live.values())
        return {"type": "hello", "jobs": self.store.all(), "live": [view.snapshot() for view in live]}

    def _changed(self, job: dict[str, Any]) -> dict[str, Any]:
        self.hub.publish({"type": "job", "job": job})
        return job

    def _work(self, slot: int) -> None:
        """One slot: claims the oldest queued job, runs it, and again, until the server stops."""
        while not self._closing.is_set():
            with self._wake:
                seen = self._submitted
            claimed = self._claim()
            if claimed is not None:
                self._run(slot, *claimed)
                continue
            self._sleep(seen)

    def _sleep(self, seen: int) -> None:
        """Waits for a submit after the `seen`-th, or for the server to stop."""
        with self._wake:
            self._wake.wait_for(lambda: self._submitted != seen or self._closing.is_set())

    def _claim(self) -> tuple[dict[str, Any], StopToken] | None:
        """The oldest queued job, marked running for this slot alone, with its StopToken
        (registered before the claim, so that no Stop is missed); None if none waits."""
        with self._lock:
            while not self._closing.is_set() and (job := self.store.next_queued()) is not None:
                stop = self._stops[job["id"]] = StopToken()
                if self.store.claim(job["id"]):
                    self.live[job["id"]] = LiveView(job["id"], self.hub.publish)
                    return self.store.require(job["id"]), stop
                del self._stops[job["id"]]  # cancelled in the meantime
        return None

    def _run(self, slot: int, job: dict[str, Any], stop: StopToken) -> None:
        """Runs one claimed job to its end state; no error escapes into the slot's loop."""
        self._changed(job)
        folder = self.store.job_folder(job["id"])
        watch = Watch(
            self.live[job["id"]],
            stop,
            functools.partial(self._saved, job["id"]),
            functools.partial(self._note, job["id"]),
        )
        fields: dict[str, Any] = {}
        try:
            painted = self.backend.run(slot, WebJob.of(job), folder, watch)
            state = DONE if not painted.stopped else INTERRUPTED if self._closing.is_set() else STOPPED
            fields.update(state=state, iteration=painted.done, iterations=painted.total, message=_ended(state, painted))
            _save_thumb(painted.image, folder)
        except WorkerLost as lost:
            state = INTERRUPTED if self._closing.is_set() else FAILED
            fields.update(state=state, message=f"{lost}; {_kept(folder, self.store.require(job['id'])['iteration'])}")
        except ImpastoError as error:
            fields.update(state=FAILED, message=str(error))
        except Exception as error:  # an impasto bug: the job fails, the server goes on
            traceback.print_exc(file=sys.stderr)
            fields.update(state=FAILED, message=f"internal error: {error!r}")
        finally:
            with self._lock:
                del self.live[job["id"]], self._stops[job["id"]]
            (folder / "latest.png").unlink(missing_ok=True)
            fields["finished"] = time.time()
            self._changed(self.store.update(job["id"], **fields))

    def _saved(self, job_id: str, done: int) -> None:
        """Notes how far a job got whenever its latest image is saved (reported if the server dies)."""
        with self._lock:
            total = self.live[job_id].iterations[1]
        self.store.update(job_id, iteration=done, iterations=total)

    def _note(self, job_id: str, message: str) -> None:
        """A running job's message, shown by the page until it ends."""
        self._changed(self.store.update(job_id, message=message))

    def _recover(self, job: dict[str, Any]) -> None:
        """A job the last server died in: its latest saved image becomes its result."""
        message = f"the server stopped during this run; {_kept(self.store.job_folder(job['id']), job['iteration'])}"
        self.store.update(job["id"], state=INTERRUPTED, message=message, finished=time.time())


def _kept(folder: Path, iteration: int) -> str:
    """Makes the job's latest saved image its result, and says so (or that there was none)."""
    latest = folder / "latest.png"
    if not latest.is_file():
        return "no image had been saved yet"
    latest.replace(folder / "result.png")
    with Image.open(folder / "result.png") as image:
        _save_thumb(image, folder)
    return f"kept its image from iteration {iteration}"


def _ended(state: str, painted: Painted) -> str:
    if state == DONE:
        if painted.done < painted.total:
            return f"finished at iteration {painted.done} of {painted.total}: the loss had stopped improving"
        return f"finished {painted.total} iterations"
    why = "stopped" if state == STOPPED else "the server stopped"
    return f"{why} at iteration {painted.done} of {painted.total}; kept that image"


def _save_thumb(image: Image.Image, folder: Path) -> None:
    """The gallery's small JPEG of a result."""
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb.save(folder / "thumb.jpg", quality=85)
