"""Colour preservation (Gatys et al. 2016, "Preserving colour in neural artistic style transfer").

- luminance: stylise the luminance (Y of YIQ) only, with the style's luminance matched
  to the content's mean and spread, then put the content's chrominance (I, Q) back;
- histogram: recolour the style image so that its colour mean and covariance equal the
  content's before stylising (a linear map, x -> A (x - mu_s) + mu_c, with A from the
  symmetric square roots of the covariances).
The same map, the other way, gives `--init palette` its start: the content recoloured to the
styles' pooled colour mean and covariance.
Tensors are (1, 3, H, W) RGB in 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# NTSC YIQ (FCC): rows give Y, I, Q from R, G, B.
RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]])
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)
FLAT_VARIANCE = 1e-5  # per-channel variance below which an image counts as flat (std ~ 1/255)


def _apply(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", matrix.to(image), image)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """RGB -> YIQ (Y in 0..1, I and Q signed)."""
    return _apply(RGB_TO_YIQ, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """YIQ -> RGB (not clamped)."""
    return _apply(YIQ_TO_RGB, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """The Y channel repeated to three grey RGB channels."""
    return rgb_to_yiq(image)[:, :1].expand(-1, 3, -1, -1).contiguous()


def match_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The style's grey luminance image, shifted and scaled to the content's luminance mean and std."""
    ys, yc = luminance(style), luminance(content)
    matched = (ys - ys.mean()) * (yc.std() / ys.std().clamp_min(1e-6)) + yc.mean()
    return matched.clamp(0, 1)


def combine_luminance(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Luminance of `stylized` with the chrominance (I, Q) of `content`, same size."""
    yiq = torch.cat([rgb_to_yiq(stylized)[:, :1], rgb_to_yiq(content)[:, 1:]], 1)
    return yiq_to_rgb(yiq).clamp(0, 1)


def _stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.reshape(3, -1).double()
    mean = pixels.mean(1, keepdim=True)
    centred = pixels - mean
    return mean, centred @ centred.T / pixels.shape[1]


def _sqrtm(matrix: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    values = values.clamp_min(1e-8)
    return vectors @ torch.diag(values ** (-0.5 if inverse else 0.5)) @ vectors.T


def match_color(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """`style` recoloured to the colour mean and covariance of `content` (clamped to 0..1)."""
    return recolor(style, *_stats(content))


def pooled_palette(images: Sequence[torch.Tensor], weights: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour mean and covariance of the images' pixels pooled with `weights` (summing to 1)."""
    stats = [_stats(image) for image in images]
    mean = sum((w * m for w, (m, _) in zip(weights, stats)), torch.zeros_like(stats[0][0]))
    second = sum((w * (cov + m @ m.T) for w, (m, cov) in zip(weights, stats)), torch.zeros_like(stats[0][1]))
    return mean, second - mean @ mean.T


def recolor(image: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """`image` mapped linearly to the colour `mean` (3, 1) and covariance `cov` (3, 3), clamped to 0..1."""
    mu, own = _stats(image)
    # a flat image's faint noise is not stretched into colour
    floor = FLAT_VARIANCE * torch.eye(3, dtype=own.dtype, device=own.device)
    transform = _sqrtm(cov) @ _sqrtm(own + floor, inverse=True)
    matched = transform @ (image.reshape(3, -1).double() - mu) + mean
    return matched.reshape(image.shape).to(image.dtype).clamp(0, 1)
