"""Jobs in the server's own process: one thread per slot, each slot with its own Stylizer per
network (a Stylizer caches its truncated networks and sets flags on them while it runs, so two
runs at once never share one), on its own GPU where there are several."""

from __future__ import annotations

import threading
from pathlib import Path

from impasto.apps.web.backends.base import Watch
from impasto.apps.web.backends.job import Painted, WebJob, paint
from impasto.apps.web.config import ServerConfig
from impasto.engine import Stylizer
from impasto.settings import Settings


def gpus(device: str) -> int:
    """The GPUs the server's `--device` spreads its slots over: all of CUDA's for auto or cuda."""
    if device not in ("auto", "cuda"):
        return 0
    import torch

    return torch.cuda.device_count()


def slot_device(device: str, slot: int) -> str:
    """The device of a slot: with several GPUs and `--device` auto or cuda, slot n uses GPU n
    (modulo their count); else the server's device."""
    count = gpus(device)
    return f"cuda:{slot % count}" if count > 1 else device


class Stylizers:
    """One Stylizer per network and slot, made on first use with the server's weights for it."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._loaded: dict[tuple[str, int], Stylizer] = {}
        self._lock = threading.Lock()

    def get(self, model: str, slot: int = 0) -> Stylizer:
        with self._lock:
            if (model, slot) not in self._loaded:
                device = slot_device(self.config.device, slot)
                settings = Settings(model=model, weights=self.config.weights.get(model), device=device)
                self._loaded[model, slot] = Stylizer(settings)
            return self._loaded[model, slot]


class LocalBackend:
    """Runs each job on the slot's thread, as an engine `Job` on the slot's Stylizer."""

    def __init__(self, config: ServerConfig, stylizers: Stylizers) -> None:
        self.stylizers = stylizers
        self.workers = config.workers or max(1, gpus(config.device))

    def run(self, slot: int, job: WebJob, folder: Path, watch: Watch) -> Painted:
        stylizer = self.stylizers.get(job.model, slot)
        return paint(stylizer, job, folder, watch.live.publish, watch.saved, watch.stop)

    def close(self) -> None:
        """Nothing to let go of: the Stylizers stay loaded for whoever shares them."""
