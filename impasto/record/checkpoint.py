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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch

from impasto.atomic import write_bytes_atomic
from impasto.errors import ImpastoError
from impasto.files import open_input
from impasto.optim.callbacks import Callback, Finish, RunStart
from impasto.optim.events import Iterate, Resume, Snapshot
from impasto.planned import Planned

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
        "recent": list(state.recent),
        "run": json.dumps(checkpoint.run),
        "recorders": _tensors(checkpoint.recorders),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return write_bytes_atomic(path, buffer.getvalue())


ENVELOPE: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "scale": int,
    "iteration": int,
    "pixels": torch.Tensor,
    "optimizer_state": dict,
    "elapsed": (int, float),
    "average": (type(None), list),
    "recent": (list, tuple),
    "run": str,
    "recorders": dict,
}
"""The fields of a checkpoint file and their types ("recent" may be absent)."""
RUN: dict[str, type | tuple[type, ...]] = {
    "content": str,
    "style": list,
    "output": str,
    "settings": dict,
    "options": dict,
}
"""The fields of the run a checkpoint describes."""


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Reads a checkpoint written by `save_checkpoint` (tensors only: no code is run) and checks
    that it has every field, each of its type; `impasto.engine.checks.check_resume` checks
    that its state fits the run."""
    source = Path(path)
    with open_input(source, "checkpoint", "resume") as opened:
        try:
            with warnings.catch_warnings():  # torch's warnings about odd pickles: the error below says it in one line
                warnings.simplefilter("ignore")
                payload = torch.load(opened, map_location="cpu", weights_only=True)
        except Exception as error:  # unpickling refusals, damaged archives, other files: all the same to the user
            raise ImpastoError(
                f"resume {source} is not an impasto checkpoint (or it is damaged): give a file written by --checkpoint-every",
                "resume",
            ) from error
    _check_fields(payload, ENVELOPE, source, "checkpoint", optional=("recent",))
    if payload["format"] > FORMAT:
        raise ImpastoError(
            f"resume {source} was saved by a newer impasto (checkpoint format {payload['format']}; this one "
            f"reads format {FORMAT}): upgrade impasto to resume it, or start the run again",
            "resume",
        )
    if payload["format"] != FORMAT:
        _damaged(source, f"it has format {payload['format']}, this impasto reads format {FORMAT}")
    try:
        run = json.loads(payload["run"])
    except ValueError:
        _damaged(source, "its run description is not JSON")
    _check_fields(run, RUN, source, "run description")
    if not all(isinstance(s, str) for s in run["style"]) or not run["style"]:
        _damaged(source, "its style images are not a list of paths")
    average, recent = payload["average"], payload.get("recent", ())
    if average is not None and not (
        len(average) == 2 and isinstance(average[0], int) and isinstance(average[1], torch.Tensor)
    ):
        _damaged(source, "its iterate average is not (steps, image)")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in recent):
        _damaged(source, "its recent losses are not numbers")
    resume = Resume(
        payload["scale"],
        payload["iteration"],
        payload["pixels"],
        payload["optimizer_state"],
        payload["elapsed"],
        None if average is None else (average[0], average[1]),
        tuple(float(v) for v in recent),
    )
    return Checkpoint(resume, run, _arrays(payload["recorders"]))


def _check_fields(
    values: Any, fields: dict[str, type | tuple[type, ...]], source: Path, what: str, optional: tuple[str, ...] = ()
) -> None:
    if not isinstance(values, dict):
        _damaged(source, f"its {what} is a {type(values).__name__}, not a table of fields")
    for key, kind in fields.items():
        if key not in values:
            if key in optional:
                continue
            _damaged(source, f"its {what} lacks {key!r}")
        if not isinstance(values[key], kind) or isinstance(values[key], bool):
            _damaged(source, f"its {what} has {key!r} of type {type(values[key]).__name__}")


def _damaged(source: Path, why: str) -> NoReturn:
    raise ImpastoError(f"resume {source} is not a usable impasto checkpoint: {why}; start the run again", "resume")


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


class CheckpointWriter(Callback):
    """Saves a checkpoint every `every` iterations of each scale (not at its last one), from a
    snapshot taken before any recorder saw that iteration, so the saved histories stop just
    before the iteration the resumed run repeats first.

    `run` gives the run's description (inputs, output, settings, options), asked when it starts.
    When the run finishes, the checkpoint (now of no use) is removed unless `keep`; when it is
    interrupted, the note tells how to continue. `resumed` is the checkpoint the run came from.
    """

    def __init__(
        self,
        path: Path,
        every: int,
        run: Callable[[], dict[str, Any]],
        *,
        keep: bool = False,
        resumed: Path | None = None,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        if every < 1:
            raise ImpastoError(f"checkpoint_every must be at least 1, got {every}", "checkpoint_every")
        self.path, self.every, self.describe = path, every, run
        self.run: dict[str, Any] = {}
        self.keep, self.resumed, self.warn = keep, resumed, warn
        self.saved_at: tuple[int, int] | None = None
        self.failing = False

    def outputs(self) -> list[Planned]:
        return [Planned(self.path, "checkpoint_every", "the checkpoint")]

    def on_run_start(self, start: RunStart) -> None:
        self.run = self.describe()

    def wants_snapshot(self, it: Iterate) -> bool:
        return not (it.iteration == 0 or it.iteration % self.every or it.iteration >= it.iterations)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Saves the checkpoint; one that cannot be written (a full disk) is a warning, not the
        end of the run, whose image may still fit."""
        it = snapshot.iterate
        try:
            save_checkpoint(self.path, Checkpoint(snapshot.resume, self.run, snapshot.states))
        except ImpastoError as error:
            if not self.failing:
                self.warn(f"no checkpoint saved at iteration {it.iteration} ({error}); the run goes on")
            self.failing = True
            return
        self.failing = False
        self.saved_at = (it.scale, it.iteration)

    def on_finish(self, finish: Finish) -> None:
        if finish.interrupted_at is not None:
            if self.saved_at is not None:
                finish.notes.append(f"continue from iteration {self.saved_at[1]} with --resume {self.path}")
            return
        resumed_here = self.resumed is not None and self.path.exists() and os.path.samefile(self.path, self.resumed)
        if not self.keep and (self.saved_at is not None or resumed_here):
            self.path.unlink(missing_ok=True)
