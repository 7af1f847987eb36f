"""Jobs on Ray actors (`impasto.apps.ray_pool.web.WebWorker`), one per slot, sized as
`impasto batch` sizes its workers, so that the server's own process loads no network.

A slot sends its job's inputs as bytes and, while the job runs, collects the worker's events
every POLL_S seconds: previews and progress go on to the pages, and each latest image saved
is written into the job's folder (kept if the worker dies). Stop is passed on to the worker.
The files come back as bytes and are written atomically. A worker that dies is replaced and
its job run again once; every call to Ray has a time limit, so a lost worker never holds a
slot for long."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from impasto.apps.ray_pool.cluster import connect, import_ray, weights_payload, worker_shape
from impasto.apps.ray_pool.pool import READY_TIMEOUT_S, wait_ready
from impasto.apps.ray_pool.web import WEB_CONCURRENCY, WebResult, WebTask, WebWorker
from impasto.apps.ray_pool.worker import decode, one_line
from impasto.apps.web.backends.base import Watch, WorkerLost
from impasto.apps.web.backends.job import RESULT_FILES, Painted, WebJob
from impasto.apps.web.config import ServerConfig
from impasto.atomic import replacing
from impasto.errors import ImpastoError
from impasto.settings import Settings

POLL_S = 0.1
"""How often a slot collects its worker's events (previews are throttled where they are made)."""
CALL_TIMEOUT_S = 30.0
"""The longest a slot waits on any one call to its worker before taking it for lost."""
STOP_GRACE_S = 20.0
"""How long a worker asked to stop may take to hand its job back before it is taken for lost."""
ATTEMPTS = 2
"""Runs of a job whose worker dies: once more on a fresh worker, then it fails."""


class Lost(Exception):
    """A worker died or stopped answering during a job."""


class RayBackend:
    """A Ray actor per slot, each holding a Stylizer per network it has run."""

    def __init__(self, config: ServerConfig) -> None:
        self._ray = import_ray()
        self._owns_ray = connect(self._ray, config.address)
        self.actors: list[Any] = []
        try:
            self.shape = worker_shape(self._ray.cluster_resources(), config.workers, config.cpus_per_worker)
            weights = {}
            for model, path in config.weights.items():
                payload = weights_payload(Settings(model=model, weights=path))
                if payload is not None:
                    weights[model] = (payload[0], self._ray.put(payload[1]))
            self._arguments = (weights, config.device, self.shape.threads)
            self._actor = self._ray.remote(WebWorker).options(
                num_cpus=self.shape.cpus, num_gpus=self.shape.gpus, max_concurrency=WEB_CONCURRENCY
            )
            self.actors = [self._actor.remote(*self._arguments) for _ in range(self.shape.count)]
            wait_ready(self._ray, self.actors, self.shape, READY_TIMEOUT_S)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return self.shape.count

    def run(self, slot: int, job: WebJob, folder: Path, watch: Watch) -> Painted:
        """Runs `job` on the slot's worker, and once more on a fresh one if that worker dies."""
        inputs = {name: (folder / "inputs" / name).read_bytes() for name in (job.content, *job.styles)}
        self._check(slot)
        why = ""
        for attempt in range(1, ATTEMPTS + 1):
            if attempt > 1:
                watch.note(f"its Ray worker died ({why}): running it again on a fresh one")
                watch.live.restart()
            try:
                return self._attempt(self.actors[slot], WebTask(job, inputs), folder, watch)
            except Lost as lost:
                why = str(lost)
                self._replace(slot)
            if watch.stop.stopped:
                raise WorkerLost(f"its Ray worker was lost as the job was stopping ({why})")
        raise WorkerLost(f"its Ray worker died {ATTEMPTS} times ({why})")

    def close(self) -> None:
        """Stops the workers, and Ray itself if the server started it."""
        for actor in self.actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            self._ray.shutdown()
            self._owns_ray = False

    def _attempt(self, actor: Any, task: WebTask, folder: Path, watch: Watch) -> Painted:
        """One run of the task on `actor`, its events passed on as they come."""
        call = actor.run.remote(task)
        asked: float | None = None  # when the worker was asked to stop
        while not self._ray.wait([call], timeout=POLL_S)[0]:
            self._forward(actor, folder, watch)
            if watch.stop.stopped and asked is None:
                actor.stop.remote(task.job.id)
                asked = time.monotonic()
            if asked is not None and time.monotonic() - asked > STOP_GRACE_S:
                raise Lost(f"it did not stop within {STOP_GRACE_S:.0f} s")
        result: WebResult = self._get(call)
        self._forward(actor, folder, watch)
        if result.error is not None:
            raise ImpastoError(result.error)
        for name in RESULT_FILES:
            if name in result.files:
                with replacing(folder / name) as temp:
                    temp.write_bytes(result.files[name])
        return Painted(decode(result.files["result.png"]), result.stopped, result.done, result.total)

    def _forward(self, actor: Any, folder: Path, watch: Watch) -> None:
        """The worker's events since the last call: to the pages, or into `latest.png`."""
        for event in self._get(actor.drain.remote()):
            if event["type"] == "latest":
                with replacing(folder / "latest.png") as temp:
                    temp.write_bytes(event["png"])
                watch.saved(event["done"])
            else:
                watch.live.publish(event)

    def _get(self, call: Any) -> Any:
        """A call's answer within CALL_TIMEOUT_S; Lost if the worker died or stopped answering."""
        ray = self._ray
        try:
            return ray.get(call, timeout=CALL_TIMEOUT_S)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as error:
            raise Lost(one_line(error)[:200]) from error
        except ray.exceptions.RayError as error:
            raise ImpastoError(f"the Ray worker failed: {one_line(error)[:300]}") from error

    def _check(self, slot: int) -> None:
        """Replaces the slot's worker if it died while idle, at no cost to the next job's runs."""
        try:
            self._get(self.actors[slot].ready.remote())
        except Lost:
            self._replace(slot)

    def _replace(self, slot: int) -> None:
        """A fresh worker in place of the slot's lost one (which is killed, if it still runs)."""
        with contextlib.suppress(Exception):
            self._ray.kill(self.actors[slot])
        self.actors[slot] = self._actor.remote(*self._arguments)
        with contextlib.suppress(ImpastoError):  # a worker that cannot start fails its next job
            wait_ready(self._ray, [self.actors[slot]], self.shape, READY_TIMEOUT_S)
