"""The losses of Gatys et al. (2016) as small modules, and the weighted objective.

Normalisations (F: a layer's features, N channels by M positions):
- content: mean squared error, 1/(N*M) * sum((F - P)^2);
- Gram matrix: G = F F^T / M (divided by M so that images of different sizes compare);
- style, per layer: 1/(4 N^2) * sum((G - A)^2), which equals the paper's
  1/(4 N^2 M^2) * sum((F F^T - S S^T)^2) when style and output have the same size;
  layers are combined with weights that sum to 1;
- relative forms (`relative=True`, every style loss but the paper's "gram"): content
  sum((F - P)^2) / sum(P^2) and style sum((G - A)^2) / sum(A^2), so each is a fraction of
  its target's size and one weight means the same for every artwork, layer and network;
- total variation: mean squared difference of neighbouring pixels, over both axes;
- total = the sum of the weighted terms (see `impasto.losses.objective`).
Everything is accumulated in float32, whatever precision the network ran in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from impasto.image.masks import fit_mask


class _ChannelMoments(torch.autograd.Function):
    """Channel means and Gram matrix of (B, N, M) features, with a backward pass that allocates one
    feature-sized tensor (autograd's own would hold three at once: a large share of peak memory on
    the early, full-resolution layers)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.save_for_backward(flat)
        return flat.mean(-1), flat @ flat.transpose(1, 2) / flat.shape[-1]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad_mean: torch.Tensor, grad_gram: torch.Tensor
    ) -> torch.Tensor:
        (flat,) = ctx.saved_tensors  # type: ignore[attr-defined]  # torch's stub for FunctionCtx omits it
        m = flat.shape[-1]
        return torch.baddbmm((grad_mean / m).unsqueeze(-1), (grad_gram + grad_gram.transpose(1, 2)) / m, flat)


def channel_moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N, H, W) features -> (B, N) channel means and (B, N, N) channel inner products divided by M = H*W."""
    b, n, h, w = features.shape
    return _ChannelMoments.apply(features.reshape(b, n, h * w).float())


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, N, H, W) features -> (B, N, N) channel inner products divided by M = H*W."""
    return channel_moments(features)[1]


class ContentLoss(nn.Module):
    """Mean squared error between a layer's features and the content image's (relative:
    divided by the target's mean square)."""

    target: torch.Tensor
    scale: torch.Tensor

    def __init__(self, target: torch.Tensor, relative: bool = False) -> None:
        super().__init__()
        self.register_buffer("target", target.detach().float())
        scale = self.target.pow(2).mean().clamp_min(1e-12) if relative else torch.ones(())
        self.register_buffer("scale", scale)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return (features.float() - self.target).pow(2).mean() / self.scale

    def squared_error_sum(self, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The sum of squares over part of the map (the tiled evaluator's share), divided by
        the scale; the parts' sums divided by `self.target.numel()` add up to `forward`."""
        return (features.float() - target).pow(2).sum() / self.scale


class StyleLoss(nn.Module):
    """Squared Gram-matrix difference to a target Gram, scaled by 1/(4 N^2) (relative: by
    the target's squared norm)."""

    target: torch.Tensor
    scale: torch.Tensor

    def __init__(self, target_gram: torch.Tensor, relative: bool = False) -> None:
        super().__init__()
        self.register_buffer("target", target_gram.detach().float())
        n = self.target.shape[-1]
        self.register_buffer(
            "scale", self.target.pow(2).sum().clamp_min(1e-12) if relative else torch.tensor(4.0 * n * n)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.loss_of_gram(gram_matrix(features))

    def loss_of_gram(self, gram: torch.Tensor) -> torch.Tensor:
        """The loss of a Gram matrix, however it was summed (whole image or tiles)."""
        return (gram - self.target).pow(2).sum() / self.scale


def masked_gram(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(1, N, H, W) features and (R, 1, H, W) masks -> (R, N, N) Gram matrices of each
    region: channel inner products weighted by the mask, divided by the mask's area."""
    n = features.shape[1]
    flat = features.reshape(n, -1).float()
    weights = masks.reshape(masks.shape[0], 1, -1).float()
    area = weights.sum(-1, keepdim=True).clamp_min(1e-8)
    return (flat * weights) @ flat.T / area


def style_grams(features: Sequence[torch.Tensor], masks: Sequence[torch.Tensor | None]) -> torch.Tensor:
    """(S, N, N): each style's Gram matrix, over the whole image or, where it has a mask, its masked part."""
    grams = [
        gram_matrix(f)[0] if mask is None else masked_gram(f, fit_mask(mask, *f.shape[-2:]))[0]
        for f, mask in zip(features, masks)
    ]
    return torch.stack(grams)


class MaskedStyleLoss(nn.Module):
    """Style loss per region (Gatys et al. 2017): region r of the output, given by its
    mask, matches target Gram r; the regions' losses are weighted (weights summing to 1,
    as blended styles' are, so one style weight suits both); relative: each region's loss
    divided by its target's squared norm."""

    target: torch.Tensor
    scale: torch.Tensor
    masks: torch.Tensor
    region_weights: torch.Tensor

    def __init__(
        self, target_grams: torch.Tensor, masks: torch.Tensor, region_weights: Sequence[float], relative: bool = False
    ) -> None:
        super().__init__()
        self.register_buffer("target", target_grams.detach().float())
        n = self.target.shape[-1]
        scale = (
            self.target.pow(2).sum((1, 2)).clamp_min(1e-12)
            if relative
            else torch.full((len(self.target),), 4.0 * n * n)
        )
        self.register_buffer("scale", scale)
        self.register_buffer("masks", masks.detach().float())
        weights = torch.tensor(region_weights, dtype=torch.float32)
        self.register_buffer("region_weights", weights / weights.sum())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h, w = features.shape[-2:]
        per_region = (masked_gram(features, fit_mask(self.masks, h, w)) - self.target).pow(2).sum((1, 2)) / self.scale
        return (self.region_weights * per_region).sum()


class TotalVariationLoss(nn.Module):
    """Mean squared difference between vertically and horizontally adjacent pixels."""

    layers: tuple[str, ...] = ()

    def forward(self, image: torch.Tensor, features: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        image = image.float()
        dy = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean()
        dx = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean()
        return dx + dy


class LayerTerm(nn.Module):
    """A weighted sum of per-layer losses, whose weights sum to 1. Each layer's share can be
    evaluated alone (`layer_loss`), as soon as the network has computed that layer."""

    def __init__(self, losses: Mapping[str, nn.Module], layer_weights: Sequence[float]) -> None:
        super().__init__()
        self.losses = nn.ModuleDict(losses)
        self.layers = tuple(losses)
        total = sum(layer_weights)
        self.layer_weights = dict(zip(losses, (w / total for w in layer_weights)))

    def layer_loss(self, name: str, features: torch.Tensor) -> torch.Tensor:
        """One layer's weighted share of the term."""
        return self.layer_weights[name] * self.losses[name](features)

    def forward(self, image: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        zero = image.new_zeros((), dtype=torch.float32)
        return sum((self.layer_loss(name, features[name]) for name in self.layers), zero)


class ContentTerm(LayerTerm):
    """The content loss of one or more layers, averaged."""

    def __init__(self, losses: Mapping[str, nn.Module]) -> None:
        super().__init__(losses, [1.0] * len(losses))


class StyleTerm(LayerTerm):
    """The style losses of several layers, combined with weights normalised to sum to 1."""
