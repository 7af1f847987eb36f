"""Adam on the coefficients of a Laplacian pyramid of the image (as STROTSS and NNST optimise).

The image is the sum of its pyramid's levels, each upsampled bilinearly to full size: the coarsest
level (at most `COARSEST` px on its short side) holds the layout, the finer ones the detail. Adam
scales every coefficient's step by its own gradient history, so a coarse coefficient, which moves a
whole region at once, changes as fast as a pixel does: large shapes are repainted early and
cheaply instead of being inherited from the start. The optimiser keeps the coefficients as its own
iterate (one flat tensor in its state, so checkpoints resume exactly) and writes their image into
the parameter after each step; the loop evaluates that image clamped to 0..1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.func import vjp

from impasto.optim.single import ImageOptimizer

COARSEST = 16
"""The coarsest level's short side is at most this many pixels (or the image's, if smaller)."""


def level_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """(height, width) of each level, finest first, halving (rounded up) until the short side is at most COARSEST."""
    sizes = [(height, width)]
    while min(sizes[-1]) > COARSEST:
        h, w = sizes[-1]
        sizes.append((math.ceil(h / 2), math.ceil(w / 2)))
    return sizes


def pyramid_size(shape: torch.Size | tuple[int, ...]) -> int:
    """The number of coefficients of an image of this (B, C, H, W) shape."""
    batch, channels, height, width = shape
    return batch * channels * sum(h * w for h, w in level_sizes(height, width))


def _up(image: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def decompose(image: torch.Tensor) -> list[torch.Tensor]:
    """The Laplacian pyramid of a (B, C, H, W) image, finest first; `reconstruct` inverts it exactly."""
    sizes = level_sizes(*image.shape[-2:])
    levels, current = [], image
    for size in sizes[1:]:
        coarse = F.interpolate(current, size=size, mode="area")
        levels.append(current - _up(coarse, current.shape[-2:]))
        current = coarse
    return [*levels, current]


def reconstruct(levels: list[torch.Tensor]) -> torch.Tensor:
    """The image of a Laplacian pyramid (finest level first)."""
    image = levels[-1]
    for detail in reversed(levels[:-1]):
        image = _up(image, detail.shape[-2:]) + detail
    return image


def flatten(levels: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([level.flatten() for level in levels])


def unflatten(flat: torch.Tensor, shape: torch.Size) -> list[torch.Tensor]:
    """The levels of an image of `shape` from their flat coefficients."""
    batch, channels, height, width = shape
    sizes = level_sizes(height, width)
    parts = flat.split([batch * channels * h * w for h, w in sizes])
    return [part.view(batch, channels, h, w) for part, (h, w) in zip(parts, sizes)]


class LaplacianAdam(ImageOptimizer):
    """Adam on the Laplacian-pyramid coefficients of one (B, C, H, W) image parameter."""

    def __init__(self, params, lr: float = 0.02, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        group, image, image_gradient, loss = self.evaluate(closure)
        state = self.state[image]
        if not state:
            coefficients = flatten(decompose(image.detach().float()))
            state.update(
                step=torch.zeros(()),
                coefficients=coefficients,
                exp_avg=torch.zeros_like(coefficients),
                exp_avg_sq=torch.zeros_like(coefficients),
            )
        coefficients = state["coefficients"]
        _, adjoint = vjp(lambda flat: reconstruct(unflatten(flat, image.shape)), coefficients)  # type: ignore[misc]  # torch types vjp as 2 or 3 values; without has_aux it is 2
        gradient = adjoint(image_gradient.float())[0]
        (beta1, beta2), step = group["betas"], state["step"].add_(1).item()
        state["exp_avg"].lerp_(gradient, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        denominator = (state["exp_avg_sq"] / (1 - beta2**step)).sqrt_().add_(group["eps"])
        coefficients.addcdiv_(state["exp_avg"], denominator, value=-group["lr"] / (1 - beta1**step))
        image.copy_(reconstruct(unflatten(coefficients, image.shape)))
        return loss
