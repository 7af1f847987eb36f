"""The events of a run: plain data (numbers, strings and CPU tensors) that pickle, so they
can cross a thread, a process or a machine (the web app, Ray workers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from impasto.image.io import to_image


@dataclass(frozen=True)
class Iterate:
    """What a callback receives after each evaluation of the loss.

    `iteration` 0 is the starting image and `iteration == iterations` the result;
    `losses` holds the weighted terms ("content", "style", "tv", and any extra ones) and
    their "total"; `pixels` is a private (1, 3, H, W) float copy on the CPU, in 0..1, as the
    user will see it (in the content's colours with luminance-only transfer). A scale that
    ended early has `iterations` lowered to where it ended and says why in `reason`.
    """

    iteration: int
    iterations: int
    losses: dict[str, float]
    elapsed: float
    scale: int = 0
    scales: int = 1
    pixels: torch.Tensor | None = field(repr=False, default=None)
    reason: str | None = None  # on a scale's last event: "converged" or "stopped" when it ended early

    @property
    def last(self) -> bool:
        """Whether this is the run's result: the last evaluation of the last scale."""
        return self.iteration == self.iterations and self.scale == self.scales - 1

    def where(self) -> str:
        """`iteration 3/10`, with `of scale 2/3` when the run has several scales."""
        scale = f" of scale {self.scale + 1}/{self.scales}" if self.scales > 1 else ""
        return f"iteration {self.iteration}/{self.iterations}{scale}"

    def image(self) -> Image.Image:
        """The current image as a PIL image."""
        if self.pixels is None:
            raise ValueError("this Iterate carries no image")
        return to_image(self.pixels)


@dataclass(frozen=True)
class Resume:
    """Where a run continues: the scale, the iteration, its pixels and the optimiser's state.

    `elapsed` carries the seconds already spent, so reported times run on; `average` is
    the iterate average's (steps, value) when one is kept.
    """

    scale: int
    iteration: int
    pixels: torch.Tensor = field(repr=False)
    optimizer_state: dict[str, Any] = field(repr=False)
    elapsed: float = 0.0
    average: tuple[int, torch.Tensor] | None = field(repr=False, default=None)
    recent: tuple[float, ...] = ()  # the last totals, which the convergence test looks back on


@dataclass(frozen=True)
class Snapshot:
    """A resumable copy of the run, sent to the callbacks that asked for one at `iterate`
    (before any callback saw that iterate): the engine's `resume` state and each callback's
    `state_dict()` by its `state_key`."""

    iterate: Iterate
    resume: Resume = field(repr=False)
    states: dict[str, Any] = field(repr=False, default_factory=dict)
