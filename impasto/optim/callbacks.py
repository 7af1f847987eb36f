"""Callbacks: everything that watches or records a run, as objects with hooks.

A `Callback`'s hooks do nothing by default; a recorder overrides the ones it needs. The
engine calls them in this order: `on_run_start` once, then for every loss evaluation
`on_snapshot` (only when some callback's `wants_snapshot` said yes) and `on_iterate`,
`on_scale_end` after each scale's last evaluation, and `on_finish` with the result, or
`on_finish` with the last image and then `on_exception` when the run was interrupted.
`state_dict`/`load_state_dict` carry a callback's history through a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from impasto.optim.events import Iterate, Resume, Snapshot
from impasto.planned import Planned


@dataclass(frozen=True)
class RunStart:
    """What a run is about to do, told to the callbacks before its first evaluation.

    `settings` are the settings as given and `resolved` with every default filled in;
    `checksums` maps each input file read to its SHA-256 (empty for images given in memory).
    """

    settings: Any  # impasto.settings.Settings: typed loosely so that this layer does not import it
    resolved: Any
    content: str
    styles: list[str]
    device: str
    weights_sha256: str
    checksums: dict[str, str] = field(default_factory=dict)
    images: tuple[Image.Image, list[Image.Image]] | None = field(repr=False, default=None)


@dataclass
class Finish:
    """The end of a run: its image, and where it ended when it was interrupted.

    `pixels` are the float pixels of the result when they are the result itself (for 16-bit
    files). Callbacks append the files they wrote to `written` and anything the user should
    be told (how to resume) to `notes`.
    """

    image: Image.Image
    pixels: torch.Tensor | None = field(repr=False, default=None)
    interrupted_at: Iterate | None = None
    stopped: bool = False
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Callback:
    """Hooks the engine calls during a run; every one does nothing unless overridden."""

    state_key: str | None = None
    """The name this callback's state has in a checkpoint (None: it keeps no state)."""

    def outputs(self) -> list[Planned]:
        """Every file or folder this callback will write, checked before the run starts."""
        return []

    def on_run_start(self, start: RunStart) -> None:
        """The inputs are read and checked and the network is loaded."""

    def wants_snapshot(self, it: Iterate) -> bool:
        """Whether this callback needs a resumable `Snapshot` at this iterate."""
        return False

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """A resumable copy of the run, taken before any callback saw `snapshot.iterate`."""

    def on_iterate(self, it: Iterate) -> None:
        """After each evaluation of the loss."""

    def on_scale_end(self, it: Iterate) -> None:
        """After the last evaluation of a scale (`it`)."""

    def on_finish(self, finish: Finish) -> None:
        """The run ended with `finish.image`: normally, stopped, or interrupted."""

    def on_exception(self, error: BaseException) -> None:
        """The run failed or was interrupted (after `on_finish` for an interruption)."""

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what `state_dict` returned."""


class OnIterate(Callback):
    """A plain function of each `Iterate` as a callback."""

    def __init__(self, function: Callable[[Iterate], None]) -> None:
        self.function = function

    def on_iterate(self, it: Iterate) -> None:
        self.function(it)


Present = Callable[[torch.Tensor], torch.Tensor]
"""Turns the optimiser's pixels into the image the user sees (e.g. in the content's colours)."""


class CallbackList:
    """The callbacks of one run, called in order; also turns the loop's raw pixels into events."""

    def __init__(self, callbacks: Iterable[Callback | Callable[[Iterate], None]] = ()) -> None:
        self.callbacks = [c if isinstance(c, Callback) else OnIterate(c) for c in callbacks]
        self.present: Present | None = None
        self.scale, self.scales = 0, 1

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def outputs(self) -> list[Planned]:
        return [planned for callback in self.callbacks for planned in callback.outputs()]

    def on_run_start(self, start: RunStart) -> None:
        for callback in self.callbacks:
            callback.on_run_start(start)

    def iterate(
        self,
        iteration: int,
        iterations: int,
        losses: dict[str, float],
        elapsed: float,
        pixels: torch.Tensor,
        snapshot: Callable[[], Resume],
        reason: str | None = None,
    ) -> None:
        """One evaluation: snapshots for the callbacks that want one, then the event to all."""
        if not self.callbacks:
            return
        shown = pixels if self.present is None else self.present(pixels)
        it = Iterate(
            iteration, iterations, losses, elapsed, self.scale, self.scales, shown.detach().to("cpu", copy=True), reason
        )
        wanting = [c for c in self.callbacks if c.wants_snapshot(it)]
        if wanting:
            taken = Snapshot(it, snapshot(), self.state_dict())
            for callback in wanting:
                callback.on_snapshot(taken)
        for callback in self.callbacks:
            callback.on_iterate(it)
        if iteration == iterations:
            for callback in self.callbacks:
                callback.on_scale_end(it)

    def on_finish(self, finish: Finish) -> None:
        for callback in self.callbacks:
            callback.on_finish(finish)

    def on_exception(self, error: BaseException) -> None:
        for callback in self.callbacks:
            callback.on_exception(error)

    def state_dict(self) -> dict[str, Any]:
        """Every stateful callback's state, by its `state_key`."""
        return {c.state_key: c.state_dict() for c in self.callbacks if c.state_key}

    def load_state_dict(self, states: dict[str, Any]) -> None:
        for callback in self.callbacks:
            if callback.state_key and states.get(callback.state_key):
                callback.load_state_dict(states[callback.state_key])


def as_callbacks(callbacks: Sequence[Callback | Callable[[Iterate], None]] | CallbackList) -> CallbackList:
    """A `CallbackList` of callbacks or plain functions of each `Iterate`."""
    return callbacks if isinstance(callbacks, CallbackList) else CallbackList(callbacks)
