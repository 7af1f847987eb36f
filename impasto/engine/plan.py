"""`Plan`: a run after its check stage: resolved settings, the images read once and checked,
the masks, the style blend, any extra loss terms and the scale pyramid."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from PIL import Image

from impasto.engine.pyramid import Pyramid
from impasto.losses.objective import Term
from impasto.settings import Settings

Masks = tuple[list[Image.Image] | None, list[Image.Image] | None]


@dataclass(frozen=True)
class Plan:
    """Everything the engine's later stages need, each input read and checked once."""

    settings: Settings  # resolved
    content: Image.Image = field(repr=False)
    styles: list[Image.Image] = field(repr=False)
    blend: list[float]
    masks: Masks = field(repr=False)
    pyramid: Pyramid
    extra: list[Term] = field(repr=False, default_factory=list)
    start: Image.Image | torch.Tensor | None = field(repr=False, default=None)
