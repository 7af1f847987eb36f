"""STROTSS's style loss (Kolkin, Salavon and Shakhnarovich 2019): a relaxed earth mover's distance
between sampled feature vectors, a moment term and a palette term on the pixels' colours.

- Relaxed EMD: at fixed sampled positions (drawn once from the run's seed, so L-BFGS sees one
  objective) the output's feature vectors X and the style's Y are compared by cosine distance
  C_ij = 1 - cos(x_i, y_j); the loss is max(mean_i min_j C_ij, mean_j min_i C_ij): each output
  vector must be near some style vector and each style vector near some output vector. It is
  blind to where a vector sits and to how often it occurs, so it matches what the artwork's
  strokes look like, not their layout.
- Moments: the mean absolute difference of the channel means plus that of the covariances (over
  all positions of the output, exact for the style), divided by the style's root mean square and
  mean square activation: the relaxed EMD ignores magnitudes, this keeps them.
- Palette (a separate objective term, `PaletteLoss`): the same relaxed EMD on sampled pixels'
  colours in YIQ with Euclidean cost, so the output takes the artwork's colours.
Blended styles pool their samples in proportion to their blend weights; the targets' moments are
the blend's. At most SAMPLES positions per side: a SAMPLES x SAMPLES cost matrix per layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from impasto.image.color import rgb_to_yiq
from impasto.losses.statistics import blended_moments, moments

SAMPLES = 1024
"""Positions sampled per layer on each side (output and style)."""


def sample_indices(cells: int, count: int, seed: int) -> torch.Tensor:
    """`count` distinct indices below `cells` (all of them when there are no more), the same for a given seed."""
    if cells <= count:
        return torch.arange(cells)
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(cells, generator=generator)[:count]


def samples(features: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """(1, C, H, W) features -> (P, C) vectors at P <= count positions drawn from `seed`."""
    flat = features.float().flatten(2)[0]
    return flat[:, sample_indices(flat.shape[1], count, seed).to(flat.device)].T


def pooled_samples(sources: Sequence[torch.Tensor], blend: Sequence[float], count: int, seed: int) -> torch.Tensor:
    """Vectors of several (1, C, H, W) sources, each source's share in proportion to its blend weight
    (shrunk together when a source has fewer positions than its share), about `count` in all."""
    shares = [count * w / sum(blend) for w in blend]
    cells = [source[0, 0].numel() for source in sources]
    fit = min(1.0, *(c / s for c, s in zip(cells, shares) if s > 0))
    return torch.cat(
        [
            samples(source, max(1, round(share * fit)), seed + 1 + k)
            for k, (source, share) in enumerate(zip(sources, shares))
            if share > 0
        ]
    )


def relaxed_emd(cost: torch.Tensor) -> torch.Tensor:
    """The relaxed earth mover's distance of a (P, Q) cost matrix: the larger of the mean cost of
    each row's nearest column and of each column's nearest row."""
    return torch.maximum(cost.min(1).values.mean(), cost.min(0).values.mean())


def cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(P, C) and (Q, C) vectors -> (P, Q) cosine distances."""
    unit_x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)
    unit_y = y / y.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return 1 - unit_x @ unit_y.T


def euclidean_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(P, C) and (Q, C) vectors -> (P, Q) Euclidean distances (kept off zero, where the root has no slope)."""
    squared = x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1) - 2 * x @ y.T
    return squared.clamp_min(1e-8).sqrt()


class RelaxedEMDStyleLoss(nn.Module):
    """STROTSS's per-layer style loss: relaxed EMD of sampled feature vectors by cosine distance,
    plus the relative mean absolute differences of the channel means and covariances."""

    target: torch.Tensor
    mean: torch.Tensor
    cov: torch.Tensor
    scale: torch.Tensor

    def __init__(self, styles: Sequence[torch.Tensor], blend: Sequence[float], seed: int) -> None:
        super().__init__()
        mean, second = blended_moments(styles, blend)
        self.seed = seed
        self.register_buffer("target", pooled_samples(styles, blend, SAMPLES, seed).detach())
        self.register_buffer("mean", mean.detach().float())
        self.register_buffer("cov", (second - torch.outer(mean, mean)).detach().float())
        self.register_buffer("scale", second.diagonal().mean().clamp_min(1e-12).float())  # mean square activation

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        remd = relaxed_emd(cosine_cost(samples(features, SAMPLES, self.seed), self.target))
        return remd + self.moments(features)

    def moments(self, features: torch.Tensor) -> torch.Tensor:
        """The moment term: mean |mean - mean_s| over the style's rms activation plus mean |cov - cov_s|
        over its mean square activation."""
        mean, second = moments(features)
        cov = second - torch.outer(mean, mean)
        return (mean - self.mean).abs().mean() / self.scale.sqrt() + (cov - self.cov).abs().mean() / self.scale


class PaletteLoss(nn.Module):
    """STROTSS's palette term, a term of the pixels: the relaxed EMD between sampled output pixels'
    and the styles' pixels' colours (in YIQ, Euclidean cost)."""

    layers: tuple[str, ...] = ()
    target: torch.Tensor

    def __init__(self, styles: Sequence[torch.Tensor], blend: Sequence[float], seed: int) -> None:
        super().__init__()
        self.seed = seed
        colours = [rgb_to_yiq(style.float()) for style in styles]
        self.register_buffer("target", pooled_samples(colours, blend, SAMPLES, seed).detach())

    def forward(self, image: torch.Tensor, features: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        colours = samples(rgb_to_yiq(image.float()), SAMPLES, self.seed)
        return relaxed_emd(euclidean_cost(colours, self.target))
