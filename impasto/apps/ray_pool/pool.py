"""`StylizerPool`: Ray actors, each holding one Stylizer, that run jobs as they free up."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from impasto import __version__
from impasto.apps.ray_pool.cluster import (
    WorkerShape,
    connect,
    import_ray,
    refuse_local_files,
    weights_payload,
    worker_shape,
)
from impasto.apps.ray_pool.worker import PoolResult, StylizerWorker, Task, one_line
from impasto.errors import ImpastoError
from impasto.settings import Settings

READY_TIMEOUT_S = 600.0
"""How long the workers may take to start (import, load the weights) before the pool gives up."""
MAX_ATTEMPTS = 3
"""Runs of one job before a job that keeps killing its workers is reported as failed."""


class _Backlog:
    """Jobs waiting for a worker, with their attempt number: retries first, then new jobs,
    drawn from the caller's iterable only when a worker is free."""

    def __init__(self, jobs: Iterable[Task]) -> None:
        self._retries: deque[tuple[Task, int]] = deque()
        self._new = iter(jobs)

    def next(self) -> tuple[Task, int] | None:
        if self._retries:
            return self._retries.popleft()
        job = next(self._new, None)
        return None if job is None else (job, 1)

    def retry(self, job: Task, attempt: int) -> None:
        self._retries.append((job, attempt))

    def rest(self) -> Iterator[tuple[Task, int]]:
        """Every job still waiting (when no worker is left to run them)."""
        yield from self._retries
        yield from ((job, 0) for job in self._new)


class StylizerPool:
    """Ray actors, each with one Stylizer, running jobs one at a time per actor.

    `settings` are every job's base settings (a job's overrides go on top, except the
    network's). A job whose worker dies is retried on another (a fresh worker replaces the
    dead one), up to MAX_ATTEMPTS runs. Use as a context manager, or call `close`.
    """

    def __init__(self, settings: Settings, *, workers: int | None = None, address: str | None = None) -> None:
        refuse_local_files(settings)
        payload = weights_payload(settings)
        self._ray = import_ray()
        self._owns_ray = connect(self._ray, address)
        self.actors: list[Any] = []
        try:
            self.shape = worker_shape(self._ray.cluster_resources(), workers)
            weights = (payload[0], self._ray.put(payload[1])) if payload else (None, None)
            self._arguments = (settings.to_dict(), *weights, self.shape.threads)
            self._actor = self._ray.remote(StylizerWorker).options(num_cpus=self.shape.cpus, num_gpus=self.shape.gpus)
            self._spares = self.shape.count * (MAX_ATTEMPTS - 1)
            self.actors = [self._actor.remote(*self._arguments) for _ in range(self.shape.count)]
            infos = self._wait_ready()
            self.devices = [info["device"] for info in infos]
            self.weights_sha256: str = infos[0]["weights_sha256"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> list[dict[str, Any]]:
        """What each worker tells of itself once all have loaded the network."""
        return wait_ready(self._ray, self.actors, self.shape, READY_TIMEOUT_S)

    def map(self, jobs: Iterable[Task]) -> Iterator[PoolResult]:
        """Runs the jobs, taken one by one as workers free up, and yields each result as it
        finishes (in any order)."""
        ray = self._ray
        backlog = _Backlog(jobs)
        idle = list(self.actors)
        running: dict[Any, tuple[Any, Task, int]] = {}  # task -> (worker, job, attempt)
        starting: dict[Any, Any] = {}  # ready() call -> worker replacing a dead one
        while True:
            while idle and (entry := backlog.next()):
                actor = idle.pop()
                running[actor.run.remote(entry[0])] = (actor, *entry)
            if not running and (idle or not starting):  # every job handed out, or no worker left
                yield from (
                    PoolResult(job.key, error="no Ray worker is left to run it", attempts=n)
                    for job, n in backlog.rest()
                )
                return
            done, _ = ray.wait([*running, *starting], num_returns=1, timeout=None if running else READY_TIMEOUT_S)
            if not done:  # replacements that do not start: the cluster has shrunk
                for actor in starting.values():
                    self._drop(actor)
                starting.clear()
            elif done[0] in starting:
                actor = starting.pop(done[0])
                if self._ready(done[0]):
                    idle.append(actor)
                else:
                    starting.update(self._replace(actor))
            else:
                actor, job, attempt = running.pop(done[0])
                try:
                    result = dataclasses.replace(ray.get(done[0]), attempts=attempt)
                except ray.exceptions.RayActorError as error:
                    starting.update(self._replace(actor))
                    if attempt < MAX_ATTEMPTS:
                        backlog.retry(job, attempt + 1)
                        continue
                    result = PoolResult(
                        job.key,
                        error=f"its Ray worker died {attempt} times ({one_line(error)[:200]})",
                        attempts=attempt,
                    )
                except ray.exceptions.RayError as error:
                    result = PoolResult(job.key, error=one_line(error)[:300], attempts=attempt)
                    idle.append(actor)
                else:
                    idle.append(actor)
                yield result

    def _ready(self, call: Any) -> bool:
        """Whether a replacement worker has started and loaded the network."""
        try:
            return self._ray.get(call)["error"] is None
        except self._ray.exceptions.RayActorError:
            return False

    def _replace(self, dead: Any) -> dict[Any, Any]:
        """Drops a dead worker and starts a fresh one in its place while spares last:
        {its ready() call: the new worker}, or {} when no spare is left."""
        self._drop(dead)
        if self._spares <= 0:
            return {}
        self._spares -= 1
        self.actors.append(self._actor.remote(*self._arguments))
        return {self.actors[-1].ready.remote(): self.actors[-1]}

    def _drop(self, actor: Any) -> None:
        """Stops a worker and forgets it."""
        self.actors.remove(actor)
        self._ray.kill(actor)

    def close(self) -> None:
        """Stops the workers, and Ray itself if the pool started it."""
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            self._ray.shutdown()
            self._owns_ray = False

    def __enter__(self) -> StylizerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_ready(ray: Any, actors: list[Any], shape: WorkerShape, timeout: float) -> list[dict[str, Any]]:
    """What each actor's `ready()` tells of it, once all have started; an actor that cannot
    start or load its network, or runs another impasto version, is a one-line error here
    rather than on every job."""
    try:
        infos = ray.get([actor.ready.remote() for actor in actors], timeout=timeout)
    except ray.exceptions.GetTimeoutError as error:
        raise ImpastoError(
            f"the {len(actors)} Ray workers did not start within {timeout:.0f} s: the cluster may lack "
            f"{shape.cpus:g} CPU and {shape.gpus:g} GPU for each; pass a smaller --workers"
        ) from error
    except ray.exceptions.RayActorError as error:
        raise ImpastoError(
            f"a Ray worker died while starting ({one_line(error)[:300]}): install impasto {__version__} on every node"
        ) from error
    for info in infos:
        if info["error"]:
            raise ImpastoError(f"a Ray worker could not load the network: {info['error']}")
        if info["version"] != __version__:
            raise ImpastoError(
                f"a Ray worker runs impasto {info['version']} and this machine {__version__}: install the same version on every node"
            )
    return infos
