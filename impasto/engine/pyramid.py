"""`Pyramid`: the scales of a coarse-to-fine run, as one object.

It owns the output size of each scale, the iterations spent at each, how a scale's
result becomes the next scale's start (bicubic upsampling), and which scales a resumed
run skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from impasto.engine.checks import iterations_per_scale
from impasto.optim.events import Resume
from impasto.optim.loop import Steps
from impasto.optim.schedule import scale_sizes
from impasto.settings import Settings


@dataclass(frozen=True)
class Level:
    """One scale of the pyramid: its index, longest side and iterations, and whether it is the last."""

    index: int
    size: int
    iterations: int
    last: bool
    resume: Resume | None = field(repr=False, default=None)


class Pyramid:
    """The sizes and iterations of every scale, smallest first, ending at the output size."""

    def __init__(self, sizes: list[int], iterations: list[int]) -> None:
        if len(sizes) != len(iterations):
            raise ValueError(f"{len(sizes)} sizes for {len(iterations)} iteration counts")
        self.sizes, self.iterations = sizes, iterations

    @classmethod
    def of(cls, settings: Settings) -> Pyramid:
        """The pyramid resolved settings ask for (`size`, `scales`, `min_size`, `scale_iterations`)."""
        sizes = scale_sizes(settings.size, settings.scales, settings.min_size)
        return cls(sizes, iterations_per_scale(settings, len(sizes)))

    def __len__(self) -> int:
        return len(self.sizes)

    def levels(self, resume: Resume | None = None) -> Iterator[Level]:
        """The scales to run: all of them, or from the one `resume` continues (which gets it)."""
        first = 0 if resume is None else resume.scale
        for index in range(first, len(self.sizes)):
            kept = resume if resume is not None and index == resume.scale else None
            yield Level(index, self.sizes[index], self.iterations[index], index == len(self.sizes) - 1, kept)

    def steps(self, level: Level, ema_decay: float, tolerance: float) -> Steps:
        """How the optimiser runs at `level`."""
        return Steps(level.iterations, level.index, ema_decay, tolerance, level.resume)

    @staticmethod
    def upsample(pixels: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """A scale's result at the next scale's size (bicubic, kept in 0..1)."""
        if pixels.shape == like.shape:
            return pixels
        return F.interpolate(pixels, size=like.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
