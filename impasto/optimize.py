"""The optimisation loop: updates the pixels of the generated image to lower the objective."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from PIL import Image

from .errors import ImpastoError
from .images import to_image


@dataclass
class Iterate:
    """What a progress callback receives after each evaluation of the loss.

    `iteration` 0 is the starting image and `iteration == iterations` the result;
    `losses` holds the weighted terms ("content", "style", "tv") and their "total".
    """

    iteration: int
    iterations: int
    losses: dict[str, float]
    elapsed: float
    scale: int = 0
    scales: int = 1
    pixels: torch.Tensor = field(repr=False, default=None)  # type: ignore[assignment]

    def image(self) -> Image.Image:
        """The current image (converted only when asked for)."""
        return to_image(self.pixels)


Callback = Callable[[Iterate], None]


def make_optimizer(name: str, pixels: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    """L-BFGS (one loss evaluation per step), Adam, or plain gradient descent."""
    if name == "lbfgs":
        return torch.optim.LBFGS([pixels], lr=lr, max_iter=1, history_size=50)
    if name == "adam":
        return torch.optim.Adam([pixels], lr=lr)
    if name == "gd":
        return torch.optim.SGD([pixels], lr=lr)
    raise ImpastoError(f"unknown optimiser {name!r}: choose from lbfgs, adam, gd")


def optimize(
    objective: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    start: torch.Tensor,
    *,
    optimizer: str,
    iterations: int,
    lr: float,
    callback: Callback | None = None,
    scale: int = 0,
    scales: int = 1,
) -> torch.Tensor:
    """Runs `iterations` optimiser steps from `start` and returns the final pixels.

    Pixels are kept in 0..1 by clamping after every step (projected descent), so each
    evaluation sees, and the result is, a valid image.
    """
    pixels = start.detach().clone().requires_grad_(True)
    opt = make_optimizer(optimizer, pixels, lr)
    began = time.perf_counter()
    evaluations = 0

    def evaluate() -> torch.Tensor:
        """Computes the loss of the current pixels and reports them to the callback."""
        nonlocal evaluations
        losses = objective(pixels)
        total = losses["total"]
        if not math.isfinite(total.item()):
            raise ImpastoError(
                f"the loss became {total.item()} at iteration {evaluations}: "
                "lower --lr or the loss weights"
            )
        if callback is not None:
            callback(
                Iterate(
                    iteration=evaluations,
                    iterations=iterations,
                    losses={k: v.item() for k, v in losses.items()},
                    elapsed=time.perf_counter() - began,
                    scale=scale,
                    scales=scales,
                    pixels=pixels.detach(),
                )
            )
        evaluations += 1
        return total

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        total = evaluate()
        total.backward()
        return total

    for _ in range(iterations):
        opt.step(closure)
        with torch.no_grad():
            pixels.clamp_(0, 1)
    with torch.no_grad():
        evaluate()
    return pixels.detach()
