"""Runs that start from an image their caller made (a video frame started from the last result
moved along the optical flow): which settings run them at the output size alone, and how the
engine's starting rules apply to the pixels the caller fills from the content.

These are the engine's own rules, written once here so that an app need not repeat them:
`scale_inputs` optimises the luminance alone under `--preserve-color luminance`, and
`Stylizer._start` recolours the content to the styles' colours under `--init palette`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from impasto.image.color import luminance, pooled_palette
from impasto.settings import Settings

Palette = tuple[torch.Tensor, torch.Tensor]
"""A colour mean (3, 1) and covariance (3, 3), as `recolor` takes them."""


def single_scale(settings: Settings, iterations: int | None = None) -> Settings:
    """`settings` for one scale at the output size (with `iterations`, when given): a start that
    is already the full-size image needs no coarse-to-fine pyramid to build it up."""
    iterations = settings.iterations if iterations is None else iterations
    return dataclasses.replace(settings, scales=1, min_size=None, scale_iterations=None, iterations=iterations)


def as_optimised(pixels: torch.Tensor, settings: Settings) -> torch.Tensor:
    """An image (1, 3, H, W) as the run optimises it: its luminance, as grey RGB, under
    `--preserve-color luminance`; else as it is."""
    return luminance(pixels) if settings.preserve_color == "luminance" else pixels


def start_palette(settings: Settings, images: Sequence[torch.Tensor], weights: Sequence[float]) -> Palette | None:
    """The colours a start from the content takes under `--init palette`: those of `images`
    pooled by `weights` (a run's styles and blend). None under any other `--init`, and with
    `--preserve-color`, where the styles already carry the content's colours."""
    if settings.init != "palette" or settings.preserve_color != "none":
        return None
    return pooled_palette(images, weights)
