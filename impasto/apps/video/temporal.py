"""The temporal loss of Ruder et al. (2016): the frame being stylised should repeat the
earlier results, moved along the optical flow, wherever the flow can be trusted.

With K earlier frames (warped results w_k, per-pixel weights c_k in 0..1 on the current
frame's grid) the loss is sum_k mean over pixels and channels of c_k (x - w_k)^2,
i.e. 1/D sum c (x - w)^2 with D = 3 H W values, as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn


class TemporalLoss(nn.Module):
    """Mask-weighted mean squared difference to warped earlier results (an extra term)."""

    layers: tuple[str, ...] = ()  # works on pixels: no network features needed
    warped: torch.Tensor
    weights: torch.Tensor

    def __init__(self, warped: torch.Tensor, weights: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("warped", warped.detach().float())  # (K, 3, H, W)
        self.register_buffer("weights", weights.detach().float())  # (K, 1, H, W)

    def forward(self, image: torch.Tensor, features: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        difference = (image.float() - self.warped.to(image.device)).pow(2)
        return (self.weights.to(image.device) * difference).sum(0).mean()


def long_term_weights(masks: Sequence[torch.Tensor]) -> torch.Tensor:
    """Ruder et al.'s long-term weights from reliability masks ordered nearest frame first:
    each pixel is tied only to the nearest earlier frame in which it was seen,
    c_long_k = max(c_k - sum_{j<k} c_j, 0), so no pixel is pulled towards several frames."""
    weights, seen = [], torch.zeros_like(masks[0])
    for mask in masks:
        weights.append((mask - seen).clamp_min(0))
        seen = seen + mask
    return torch.stack(weights)
