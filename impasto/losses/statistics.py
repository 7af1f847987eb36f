"""Style losses on feature statistics beyond the Gram matrix, as options to the paper's.

Both are relative (divided by the target's mean squared activation summed over channels,
tr(E[f f^T])), like the relative Gram loss, so one style weight suits every artwork:
- Wasserstein-2 (as in crowsonkb/style-transfer-pytorch): the squared 2-Wasserstein
  distance between Gaussians with the features' mean and covariance,
  |mu - mu_s|^2 + tr(C + C_s - 2 (C_s^1/2 C C_s^1/2)^1/2); unlike the Gram matrix it
  separates the mean from the spread, so a channel's average cannot stand in for its texture.
- histogram (Risser et al. 2017): the relative Gram loss plus, per channel, the squared
  distance of the features to their histogram-matched copy (each activation replaced by
  the target's activation of the same rank), which the Gram matrix alone cannot pin down.
Neither has a tiled form: the tiled evaluator refuses them (see `tiled.tileable`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from impasto.losses.terms import StyleLoss, channel_moments

QUANTILES = 4096  # target activations kept per channel for histogram matching


def moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, N, H, W) features -> mean (N,) and second raw moment E[f f^T] (N, N); both blend linearly."""
    mean, gram = channel_moments(features)
    return mean[0], gram[0]


def blended_moments(features: Sequence[torch.Tensor], blend: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """The styles' mean (N,) and second raw moment (N, N), each averaged with the weights `blend`."""
    stats = [moments(f) for f in features]
    mean = sum((w * m for w, (m, _) in zip(blend, stats)), torch.zeros_like(stats[0][0])) / sum(blend)
    second = sum((w * s for w, (_, s) in zip(blend, stats)), torch.zeros_like(stats[0][1])) / sum(blend)
    return mean, second


def _sqrtm(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


class WassersteinStyleLoss(nn.Module):
    """Relative squared 2-Wasserstein distance between the features' Gaussian and the target's."""

    mean: torch.Tensor
    cov: torch.Tensor
    cov_sqrt: torch.Tensor
    scale: torch.Tensor

    def __init__(self, mean: torch.Tensor, second_moment: torch.Tensor, eps: float = 1e-5) -> None:
        super().__init__()
        cov = second_moment - torch.outer(mean, mean)
        self.register_buffer("mean", mean.detach().float())
        self.register_buffer("cov", cov.detach().float())
        self.register_buffer("cov_sqrt", _sqrtm(cov.detach().float()))
        self.register_buffer("scale", second_moment.diagonal().sum().clamp_min(1e-12).float())
        self.eps = eps

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        mean, second = moments(features)
        cov = second - torch.outer(mean, mean)
        eye = torch.eye(cov.shape[0], device=cov.device)
        cross = self.cov_sqrt @ (cov + self.eps * eye) @ self.cov_sqrt
        cross_trace = torch.linalg.eigvalsh((cross + cross.T) / 2).clamp_min(self.eps**2).sqrt().sum()
        distance = (mean - self.mean).pow(2).sum() + self.cov.trace() + cov.trace() - 2 * cross_trace
        return distance / self.scale


def sorted_quantiles(features: torch.Tensor, count: int = QUANTILES) -> torch.Tensor:
    """(1, N, H, W) features -> (N, count) evenly spaced quantiles of each channel."""
    ordered = features.float().flatten(2)[0].sort(-1).values
    index = torch.linspace(0, ordered.shape[-1] - 1, count, device=ordered.device).round().long()
    return ordered[:, index]


def blend_quantiles(quantiles: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """Weighted average of quantile functions: the 1-D Wasserstein barycentre of the histograms."""
    return sum((w * q for w, q in zip(weights, quantiles)), torch.zeros_like(quantiles[0])) / sum(weights)


class HistogramStyleLoss(nn.Module):
    """Relative Gram loss plus the relative distance to the per-channel histogram-matched features."""

    quantiles: torch.Tensor
    scale: torch.Tensor

    def __init__(self, target_gram: torch.Tensor, quantiles: torch.Tensor) -> None:
        super().__init__()
        self.gram = StyleLoss(target_gram, relative=True)
        self.register_buffer("quantiles", quantiles.detach().float())
        self.register_buffer("scale", quantiles.float().pow(2).mean(-1).sum().clamp_min(1e-12))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        flat = features.float().flatten(2)[0]
        return self.gram(features) + (flat - self.matched(flat)).pow(2).mean(-1).sum() / self.scale

    @torch.no_grad()
    def matched(self, flat: torch.Tensor) -> torch.Tensor:
        """Each activation replaced by the target's activation of the same rank in its channel."""
        order = flat.argsort(-1)
        positions = torch.linspace(0, self.quantiles.shape[-1] - 1, flat.shape[-1], device=flat.device)
        low = positions.floor().long()
        high = (low + 1).clamp_max(self.quantiles.shape[-1] - 1)
        frac = positions - low
        values = self.quantiles[:, low] * (1 - frac) + self.quantiles[:, high] * frac
        return torch.empty_like(flat).scatter_(-1, order, values)
