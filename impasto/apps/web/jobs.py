"""The job queue: jobs wait in the store and one worker thread (one device, one job at a
time) runs them with a `Stylizer` per network, loaded once and reused, off the event loop.
Each job is a `Job` with the recorders of its files and a `LiveRun` for the page; Stop ends
it early through its `StopToken`, and the image it had is kept as its result."""

from __future__ import annotations

import functools
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PIL import Image

from impasto import ImpastoError, Job, OutputOptions, Settings, StopToken, Stylizer
from impasto.apps.web.config import ServerConfig
from impasto.apps.web.events import EventHub
from impasto.apps.web.live import LiveRun
from impasto.apps.web.store import DONE, FAILED, INTERRUPTED, STOPPED, Store
from impasto.apps.web.uploads import link_or_copy, stored_upload
from impasto.defaults import resolve, total_iterations
from impasto.engine import Finish
from impasto.record.recorders import recorders

THUMB_SIDE = 320


class Stylizers:
    """One Stylizer per network, made on first use with the server's weights for it."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._loaded: dict[str, Stylizer] = {}
        self._lock = threading.Lock()

    def get(self, model: str) -> Stylizer:
        with self._lock:
            if model not in self._loaded:
                settings = Settings(model=model, weights=self.config.weights.get(model), device=self.config.device)
                self._loaded[model] = Stylizer(settings)
            return self._loaded[model]


class Runner:
    """Queues jobs, runs them one at a time on a worker thread, and publishes their changes."""

    def __init__(self, store: Store, hub: EventHub, stylizers: Stylizers) -> None:
        self.store, self.hub, self.stylizers = store, hub, stylizers
        self.live: LiveRun | None = None
        self._current: tuple[str, StopToken] | None = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._work, name="impasto-jobs", daemon=True)

    def start(self) -> None:
        """Marks jobs the last server died in as interrupted, then starts working the queue."""
        for job in self.store.running():
            self._recover(job)
        self._thread.start()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stops the running job (kept as `interrupted`, with its image) and the worker."""
        self._closing.set()
        self._wake.set()
        current = self._current
        if current is not None:
            current[1].stop()
        self._thread.join(timeout)

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
        self._wake.set()
        return job

    def stop(self, job_id: str) -> dict[str, Any] | None:
        """Cancels a queued job, or stops the running one (it then keeps its current image)."""
        if self.store.cancel(job_id):
            return self._changed(self.store.require(job_id))
        current = self._current
        if current is not None and current[0] == job_id:
            current[1].stop()
        return self.store.get(job_id)

    def snapshot(self) -> dict[str, Any]:
        """The state a page starts from: every job, and the running jobs' progress (a list)."""
        live = self.live
        return {"type": "hello", "jobs": self.store.all(), "live": [live.snapshot()] if live is not None else []}

    def _changed(self, job: dict[str, Any]) -> dict[str, Any]:
        self.hub.publish({"type": "job", "job": job})
        return job

    def _work(self) -> None:
        while not self._closing.is_set():
            job = self.store.next_queued()
            if job is None:
                self._wake.wait()
                self._wake.clear()
                continue
            stop = StopToken()
            self._current = (job["id"], stop)  # before the claim, so that no Stop is missed
            if not self._closing.is_set() and self.store.claim(job["id"]):
                self._run(self.store.require(job["id"]), stop)
            self._current = None

    def _run(self, job: dict[str, Any], stop: StopToken) -> None:
        """Runs one claimed job to its end state; no error escapes into the worker loop."""
        self._changed(job)
        folder = self.store.job_folder(job["id"])
        fields: dict[str, Any] = {}
        try:
            finish, live = self._stylize(job, folder, stop)
            state = DONE if not finish.stopped else INTERRUPTED if self._closing.is_set() else STOPPED
            fields.update(state=state, iteration=live.done, iterations=live.total, message=_ended(state, live))
            _save_thumb(finish.image, folder)
        except ImpastoError as error:
            fields.update(state=FAILED, message=str(error))
        except Exception as error:  # an impasto bug: the job fails, the server goes on
            traceback.print_exc(file=sys.stderr)
            fields.update(state=FAILED, message=f"internal error: {error!r}")
        finally:
            self.live = None
            (folder / "latest.png").unlink(missing_ok=True)
            fields["finished"] = time.time()
            self._changed(self.store.update(job["id"], **fields))

    def _stylize(self, job: dict[str, Any], folder: Path, stop: StopToken) -> tuple[Finish, LiveRun]:
        stylizer = self.stylizers.get(job["model"])
        overrides: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in job["settings"].items() if k != "model"
        }
        given = stylizer.given(**overrides)
        content = str(folder / "inputs" / job["inputs"]["content"]["file"])
        styles = [str(folder / "inputs" / entry["file"]) for entry in job["inputs"]["styles"]]
        options = OutputOptions(
            quiet=True,
            animate=str(folder / "animation.gif"),
            comparison=str(folder / "comparison.png"),
            loss_log=str(folder / "losses.csv"),
        )
        callbacks, provenance = recorders(options, folder / "result.png", replace=True)
        total = total_iterations(resolve(given))
        saved = functools.partial(self._saved, job["id"], total)
        live = self.live = LiveRun(job["id"], total, provenance, folder / "latest.png", self.hub.publish, saved)
        finish = Job(given, content, styles, [*callbacks, live], stop=stop, overwrite=True).run(stylizer)
        return finish, live

    def _saved(self, job_id: str, total: int, done: int) -> None:
        """Notes how far a job got whenever its latest image is saved (reported if the server dies)."""
        self.store.update(job_id, iteration=done, iterations=total)

    def _recover(self, job: dict[str, Any]) -> None:
        """A job the last server died in: its latest saved image becomes its result."""
        folder = self.store.job_folder(job["id"])
        latest = folder / "latest.png"
        if latest.is_file():
            latest.replace(folder / "result.png")
            with Image.open(folder / "result.png") as image:
                _save_thumb(image, folder)
            message = f"the server stopped during this run; kept its image from iteration {job['iteration']}"
        else:
            message = "the server stopped during this run, before any image was saved"
        self.store.update(job["id"], state=INTERRUPTED, message=message, finished=time.time())


def _ended(state: str, live: LiveRun) -> str:
    if state == DONE:
        if live.done < live.total:
            return f"finished at iteration {live.done} of {live.total}: the loss had stopped improving"
        return f"finished {live.total} iterations"
    why = "stopped" if state == STOPPED else "the server stopped"
    return f"{why} at iteration {live.done} of {live.total}; kept that image"


def _save_thumb(image: Image.Image, folder: Path) -> None:
    """The gallery's small JPEG of a result."""
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb.save(folder / "thumb.jpg", quality=85)
