"""Joining a Ray cluster and sizing the workers on it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impasto.apps.ray_pool.worker import one_line
from impasto.errors import ImpastoError
from impasto.features.weights import names_a_file
from impasto.settings import Settings


def import_ray() -> Any:
    """The ray module, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImpastoError('the Ray backend needs Ray: pip install "impasto[ray]"') from error
    return ray


@dataclass(frozen=True)
class WorkerShape:
    """How many workers, and the CPUs and GPUs Ray reserves for each."""

    count: int
    cpus: float
    gpus: float

    @property
    def threads(self) -> int | None:
        """Torch threads of a CPU worker: its CPUs (GPU workers keep torch's default)."""
        return None if self.gpus else max(1, int(self.cpus))


def worker_shape(resources: Mapping[str, float], workers: int | None = None, cpus: int | None = None) -> WorkerShape:
    """One worker per GPU where the cluster has GPUs, else one per 2 CPUs (or per `cpus`);
    `workers` sets the count, and they share the GPUs or CPUs evenly; `cpus` sets each
    worker's CPUs (its torch threads on a CPU)."""
    if workers is not None and workers < 1:
        raise ImpastoError(f"--workers must be at least 1, got {workers}")
    if cpus is not None and cpus < 1:
        raise ImpastoError(f"--cpus-per-worker must be at least 1, got {cpus}")
    total_gpus, total_cpus = float(resources.get("GPU", 0)), float(resources.get("CPU", 1))
    if total_gpus >= 1:
        count = workers or int(total_gpus)
        return WorkerShape(count, float(cpus or 1), min(1.0, total_gpus / count))
    if cpus is not None:
        return WorkerShape(workers or max(1, int(total_cpus) // cpus), float(cpus), 0.0)
    count = workers or max(1, int(total_cpus) // 2)
    return WorkerShape(count, float(int(total_cpus) // count) if count <= total_cpus else total_cpus / count, 0.0)


def weights_payload(settings: Settings) -> tuple[str, bytes] | None:
    """The weights file's name and bytes when it is a local file, sent to every worker; None
    for the built-in weights, the official ones (each worker downloads and caches them) and 'random'."""
    if settings.weights is None or not names_a_file(settings.weights):
        return None
    path = Path(settings.weights).expanduser()
    try:
        return path.name, path.read_bytes()
    except OSError as error:
        raise ImpastoError(f"cannot read --weights {path} ({error.strerror}): check the path") from error


def connect(ray: Any, address: str | None) -> bool:
    """Joins Ray as it is: the running session, the cluster at `address` (or $RAY_ADDRESS),
    else a new local one. True when this call started Ray (so the pool shuts it down)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, logging_level="WARNING")
        else:
            ray.init(include_dashboard=False, logging_level="WARNING")
    except (ConnectionError, ValueError) as error:
        raise ImpastoError(
            f"cannot reach the Ray cluster at {address} ({one_line(error)}): "
            "start one with `ray start --head`, or check --address"
        ) from error
    return True


def refuse_local_files(settings: Settings) -> None:
    """Mask settings name files on this machine: refused, as workers cannot read them."""
    for name in ("content_mask", "style_mask"):
        if getattr(settings, name):
            raise ImpastoError(
                f"--{name.replace('_', '-')} names files on this machine, which Ray workers cannot read: "
                "run masked jobs with the local backend"
            )
