"""Checkpoints: everything needed to continue a run after it stopped (`--resume`).

A checkpoint holds the engine's `Resume` state (scale, iteration, pixels, optimiser
state), the run's inputs, settings and output options, and the recorders' histories, so
that the resumed run ends with the same image, loss log and animation as an
uninterrupted one.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from impasto.errors import ImpastoError
from impasto.engine.events import Iterate
from impasto.optim.loop import Resume
from impasto.atomic import write_bytes_atomic

FORMAT = 1


def checkpoint_path(output: str | os.PathLike[str]) -> Path:
    """`out.png` -> `out.ckpt`, beside the output."""
    return Path(output).with_suffix(".ckpt")


@dataclass(frozen=True)
class Checkpoint:
    """A saved run: the engine state, the run description (JSON-ready) and recorder states."""

    resume: Resume
    run: dict[str, Any]
    recorders: dict[str, Any]


def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint) -> Path:
    """Writes the checkpoint atomically (an older one is replaced whole or not at all)."""
    state = checkpoint.resume
    payload = {
        "format": FORMAT,
        "scale": state.scale,
        "iteration": state.iteration,
        "pixels": state.pixels.cpu(),
        "optimizer_state": state.optimizer_state,
        "elapsed": state.elapsed,
        "average": None if state.average is None else [state.average[0], state.average[1].cpu()],
        "run": json.dumps(checkpoint.run),
        "recorders": _tensors(checkpoint.recorders),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Reads a checkpoint written by `save_checkpoint` (tensors only: no code is run)."""
    source = Path(path)
    if not source.is_file():
        raise ImpastoError(f"resume {source}: no such checkpoint; it is written by --checkpoint-every", "resume")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT:
            raise ValueError(f"format {payload.get('format')!r}, expected {FORMAT}")
        average = payload["average"]
        resume = Resume(
            payload["scale"], payload["iteration"], payload["pixels"], payload["optimizer_state"],
            payload["elapsed"], None if average is None else (int(average[0]), average[1]),
        )
        return Checkpoint(resume, json.loads(payload["run"]), _arrays(payload["recorders"]))
    except Exception as error:  # unpickling raises many types; all mean the same to the user
        raise ImpastoError(f"resume {source}: not a readable impasto checkpoint ({error})", "resume") from error


def _tensors(value: Any) -> Any:
    """numpy arrays (sampled frames) as tensors, so the file loads with weights_only."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tensors(v) for v in value]
    return value


def _arrays(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    return value


class CheckpointWriter:
    """Saves a checkpoint every `every` iterations of each scale (not at its last one).

    It must see each Iterate before the recorders do, so the saved histories stop just
    before the iteration the resumed run repeats first.
    """

    def __init__(
        self,
        path: Path,
        every: int,
        run: dict[str, Any],
        recorders: Callable[[], dict[str, Any]],
        snapshot: Callable[[], Resume],
    ) -> None:
        if every < 1:
            raise ImpastoError(f"checkpoint_every must be at least 1, got {every}", "checkpoint_every")
        self.path = path
        self.every = every
        self.run = run
        self.recorders = recorders
        self.snapshot = snapshot
        self.saved_at: tuple[int, int] | None = None

    def __call__(self, it: Iterate) -> None:
        if it.iteration == 0 or it.iteration % self.every or it.iteration >= it.iterations:
            return
        save_checkpoint(self.path, Checkpoint(self.snapshot(), self.run, self.recorders()))
        self.saved_at = (it.scale, it.iteration)
