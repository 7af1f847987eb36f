"""Calibrating a feature network on the run's own images (Gatys et al. 2016, section 2):

- average pooling is rescaled so that each pooling layer's mean output equals what max
  pooling would give on the same input, so activations keep their magnitude;
- the normalised network: each conv filter is rescaled so that its mean activation
  (after the ReLU) over the given images and positions is 1. ReLU commutes with
  positive scaling, so this changes the magnitudes of the features, not their pattern.
Both work layer by layer, in order, since each layer's statistics depend on the ones before.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .networks import FeatureExtractor, ScaledAvgPool


def _pool_gain(pool: ScaledAvgPool, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    options = {"kernel_size": pool.kernel_size, "stride": pool.stride, "ceil_mode": pool.ceil_mode}
    ratios = [F.max_pool2d(x, **options).mean() / F.avg_pool2d(x, **options).mean().clamp_min(1e-12) for x in inputs]
    return torch.stack(ratios).mean()


def _mean_activation(layer: nn.Module, conv: nn.Conv2d, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per output channel of `conv` (inside `layer`), the mean of its rectified output."""
    means: list[torch.Tensor] = []
    handle = conv.register_forward_hook(lambda _m, _i, out: means.append(out.relu().mean((0, 2, 3))))
    try:
        for x in inputs:
            layer(x)
    finally:
        handle.remove()
    return torch.stack(means).mean(0)


def _normalize_conv(layer: nn.Module, conv: nn.Conv2d, inputs: Sequence[torch.Tensor]) -> None:
    means = _mean_activation(layer, conv, inputs)
    scale = torch.where(means > 1e-12, 1 / means.clamp_min(1e-12), torch.ones_like(means))
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    if conv.bias is not None:
        conv.bias.mul_(scale)


@torch.no_grad()
def calibrate(extractor: FeatureExtractor, images: Sequence[torch.Tensor], normalize_filters: bool) -> None:
    """Sets average-pooling gains and, if asked, normalises the filters, on `images`
    ((1, 3, H, W) in 0..1, any sizes). Changes `extractor` in place."""
    inputs = [extractor.normalize(image) for image in images]
    if normalize_filters:
        extractor.feature_scale = 1.0  # features now have mean 1 whatever the preprocessing
    for layer in extractor.layers:
        if isinstance(layer, ScaledAvgPool):
            layer.gain.fill_(_pool_gain(layer, inputs).item())
        elif normalize_filters:
            for conv in [m for m in layer.modules() if isinstance(m, nn.Conv2d)]:
                _normalize_conv(layer, conv, inputs)
        inputs = [layer(x) for x in inputs]

