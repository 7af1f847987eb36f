"""Content as self-similarity (Kolkin et al. 2019, STROTSS): what matches is the pattern of which
places look alike, not the features themselves.

At a fixed set of positions (drawn once, in relative image coordinates, so they fall on the same
places at every layer and scale) each layer's feature vectors are compared pairwise by cosine
distance; each column of that distance matrix is divided by its sum, and the loss is the mean
absolute difference to the photo's matrix, relative to the photo's mean (so it reads as a
fraction, like the relative feature loss). A region may change its colours and texture freely
as long as it stays like the regions it was like: the layout is kept, the surfaces repainted.
The matrices are P x P for P positions, so the cost does not grow with the image.
"""

from __future__ import annotations

import torch
from torch import nn

POSITIONS = 1024
"""Positions compared per layer: 1024 x 1024 distances, small beside the network's work."""


def sample_positions(count: int, seed: int) -> torch.Tensor:
    """(count, 2) relative (row, column) positions in [0, 1), the same for a given seed."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, 2, generator=generator)


def sampled(features: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) features -> (P, C) feature vectors at the cells that hold the relative positions."""
    _, channels, height, width = features.shape
    rows = (positions[:, 0] * height).long().clamp_max(height - 1)
    cols = (positions[:, 1] * width).long().clamp_max(width - 1)
    return features.float().reshape(channels, height * width)[:, rows * width + cols].T


def cosine_distances(vectors: torch.Tensor) -> torch.Tensor:
    """(P, C) vectors -> (P, P) cosine distances, each column divided by its sum."""
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-8)
    distances = (1 - unit @ unit.T).clamp_min(0)
    return distances / distances.sum(0, keepdim=True).clamp_min(1e-8)


class SelfSimilarityLoss(nn.Module):
    """Mean absolute difference between the output's and the photo's self-similarity at fixed
    positions of one layer, relative to the photo's mean distance."""

    positions: torch.Tensor
    target: torch.Tensor
    scale: torch.Tensor

    def __init__(self, target: torch.Tensor, positions: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("positions", positions.to(target.device))
        self.register_buffer("target", cosine_distances(sampled(target.detach(), self.positions)))
        self.register_buffer("scale", self.target.abs().mean().clamp_min(1e-12))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        distances = cosine_distances(sampled(features, self.positions))
        return (distances - self.target).abs().mean() / self.scale
