"""The engine's events: plain data (numbers, strings and a CPU tensor) that pickle, so they
can cross a thread, a process or a machine (the web app, Ray workers)."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def image(self) -> Image.Image:
        """The current image as a PIL image."""
        if self.pixels is None:
            raise ValueError("this Iterate carries no image")
        return to_image(self.pixels)
