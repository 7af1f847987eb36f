"""Neural-neighbour style targets (after Kolkin et al. 2022, NNST): each of the photo's feature
vectors is replaced by its nearest artwork feature vector, and the output is pulled towards that
target by cosine distance.

At each style layer the photo's and the artwork's vectors are centred (each set on its own mean,
as NNST's matching does: ReLU features all point into one orthant, and centring makes the angle
between two vectors say how they differ from the average rather than that both are positive),
and every photo position takes the artwork vector of highest cosine similarity. The target is
built once per scale from the photo at that scale (NNST rebuilds it from the current output
blended with the photo; the photo alone is cheaper and needs nothing from the optimiser). The
loss is the mean over positions of 1 - cos(output, target): scale-free, so one style weight
suits every artwork and layer. The similarities are taken in chunks of photo positions so that
the matrix in memory at once stays near `CHUNK_ELEMENTS` floats whatever the image size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

CHUNK_ELEMENTS = 2**24
"""Similarities computed at once (64 MiB of float32): the photo positions per chunk are this over
the artwork's position count."""


def nearest_indices(queries: torch.Tensor, keys: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """(C, N) queries and (C, M) keys -> (N,) index of the key of highest cosine similarity to each
    query, `chunk` queries at a time (default: as many as keep a chunk near `CHUNK_ELEMENTS`)."""
    unit_keys = keys / keys.norm(dim=0, keepdim=True).clamp_min(1e-8)
    step = chunk or max(1, CHUNK_ELEMENTS // keys.shape[1])
    found = []
    for start in range(0, queries.shape[1], step):
        part = queries[:, start : start + step]
        # dividing a query by its norm changes no argmax: the raw inner products suffice
        found.append((part.T @ unit_keys).argmax(1))
    return torch.cat(found)


def neighbour_target(content: torch.Tensor, styles: Sequence[torch.Tensor], chunk: int | None = None) -> torch.Tensor:
    """(1, C, H, W) photo features and the artworks' (1, C, H', W') features -> (C, H*W): at each
    photo position the artwork vector (all artworks pooled) nearest by centred cosine similarity."""
    photo = content.detach().float().flatten(2)[0]
    pool = torch.cat([s.detach().float().flatten(2)[0] for s in styles], 1)
    found = nearest_indices(photo - photo.mean(1, keepdim=True), pool - pool.mean(1, keepdim=True), chunk)
    return pool[:, found]


def cosine_distance(features: torch.Tensor, unit_target: torch.Tensor) -> torch.Tensor:
    """Mean over positions of 1 - cos(features_i, target_i), for (1, C, H, W) features and a (C, H*W)
    target of unit columns."""
    flat = features.float().flatten(2)[0]
    cosines = (flat * unit_target).sum(0) / flat.norm(dim=0).clamp_min(1e-8)
    return (1 - cosines).mean()


class NeighbourStyleLoss(nn.Module):
    """Mean cosine distance between the output's features and the photo's neural-neighbour target."""

    target: torch.Tensor

    def __init__(self, content: torch.Tensor, styles: Sequence[torch.Tensor]) -> None:
        super().__init__()
        target = neighbour_target(content, styles)
        self.register_buffer("target", target / target.norm(dim=0, keepdim=True).clamp_min(1e-8))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return cosine_distance(features, self.target)
