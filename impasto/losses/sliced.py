"""Sliced Wasserstein style loss on features (Heitz et al. 2021): the whole distribution of a layer's
activations, not two of its moments.

The features are projected on fixed random unit directions (as many as channels, drawn once from the
run's seed, so L-BFGS sees one objective); along each direction the output's sorted projections are
compared with the style's (its quantile function, resampled to the output's count). The loss is the
mean squared difference divided by the style's mean squared projection: relative, like the other
normalised losses, so one style weight suits every artwork and layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from impasto.losses.statistics import QUANTILES, blend_quantiles


def directions(channels: int, seed: int, count: int | None = None) -> torch.Tensor:
    """(channels, count) random unit directions (count: as many as channels), the same for a given seed."""
    generator = torch.Generator().manual_seed(seed)
    vectors = torch.randn(channels, count or channels, generator=generator)
    return vectors / vectors.norm(dim=0, keepdim=True)


def projected(features: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
    """(1, N, H, W) features -> (K, H*W) projections on the (N, K) axes."""
    return axes.T @ features.float().flatten(2)[0]


def resampled(quantiles: torch.Tensor, count: int) -> torch.Tensor:
    """(K, Q) quantile functions read at `count` evenly spaced ranks, by linear interpolation."""
    positions = torch.linspace(0, quantiles.shape[-1] - 1, count, device=quantiles.device)
    low = positions.floor().long()
    high = (low + 1).clamp_max(quantiles.shape[-1] - 1)
    frac = positions - low
    return quantiles[:, low] * (1 - frac) + quantiles[:, high] * frac


class SlicedWassersteinStyleLoss(nn.Module):
    """Relative sliced 2-Wasserstein distance between the output's features and the style's."""

    axes: torch.Tensor
    quantiles: torch.Tensor
    scale: torch.Tensor

    def __init__(self, styles: Sequence[torch.Tensor], blend: Sequence[float], seed: int) -> None:
        super().__init__()
        axes = directions(styles[0].shape[1], seed).to(styles[0].device)
        quantiles = []
        for style in styles:
            ordered = projected(style, axes).sort(-1).values
            quantiles.append(resampled(ordered, min(QUANTILES, ordered.shape[-1])))
        target = blend_quantiles(quantiles, blend)  # the 1-D barycentre along each direction
        self.register_buffer("axes", axes)
        self.register_buffer("quantiles", target)
        self.register_buffer("scale", target.pow(2).mean().clamp_min(1e-12))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        ordered = projected(features, self.axes).sort(-1).values
        return (ordered - resampled(self.quantiles, ordered.shape[-1])).pow(2).mean() / self.scale
