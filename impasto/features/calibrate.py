"""Calibrating a feature network on the run's own images (Gatys et al. 2016, section 2):

- average pooling is rescaled so that each pooling layer's mean output equals what max
  pooling would give on the same input, so activations keep their magnitude;
- the normalised network: each conv filter is rescaled so that its mean activation
  (after the ReLU) over the given images and positions is 1, and the next conv's
  weights take the inverse factor. ReLU and pooling commute with positive scaling, so
  the features keep their pattern; only each channel's magnitude changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from impasto.features.networks import FeatureExtractor, Fire, ScaledAvgPool


def _pool_gain(pool: ScaledAvgPool, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    size, stride, ceil = pool.kernel_size, pool.stride, pool.ceil_mode
    ratios = [
        F.max_pool2d(x, size, stride, ceil_mode=ceil).mean()
        / F.avg_pool2d(x, size, stride, ceil_mode=ceil).mean().clamp_min(1e-12)
        for x in inputs
    ]
    return torch.stack(ratios).mean()


def _mean_activations(extractor: FeatureExtractor, inputs: Sequence[torch.Tensor]) -> dict[nn.Module, torch.Tensor]:
    """Per conv, the mean of its rectified output channels over `inputs` (mean per image, then over images)."""
    sums: dict[nn.Module, torch.Tensor] = {}

    def record(conv: nn.Module, _inputs: object, out: torch.Tensor) -> None:
        sums[conv] = sums.get(conv, 0) + out.relu().mean((0, 2, 3)) / len(inputs)

    handles = [m.register_forward_hook(record) for m in extractor.layers.modules() if isinstance(m, nn.Conv2d)]
    try:
        for x in inputs:
            for layer in extractor.layers:
                x = layer(x)
    finally:
        for handle in handles:
            handle.remove()
    return sums


def _rescale(conv: nn.Conv2d, incoming: torch.Tensor | None, mean: torch.Tensor) -> torch.Tensor:
    """Undoes the scaling of `conv`'s input channels and divides each filter by its mean
    activation; returns the factors its outputs are now divided by."""
    mean = torch.where(mean > 1e-12, mean, torch.ones_like(mean))
    if incoming is not None:
        conv.weight.mul_(incoming.view(1, -1, 1, 1))
    conv.weight.div_(mean.view(-1, 1, 1, 1))
    if conv.bias is not None:
        conv.bias.div_(mean)
    return mean


def _normalize_filters(extractor: FeatureExtractor, inputs: Sequence[torch.Tensor]) -> None:
    """Every conv's outputs divided by their mean activation, the next conv compensating,
    so that the net computes the same features, each channel rescaled to mean 1."""
    means = _mean_activations(extractor, inputs)
    incoming = None  # per channel, what the current activations are divided by
    for layer in extractor.layers:
        if isinstance(layer, nn.Conv2d):
            incoming = _rescale(layer, incoming, means[layer])
        elif isinstance(layer, Fire):
            squeezed = _rescale(layer.squeeze, incoming, means[layer.squeeze])
            incoming = torch.cat(
                [
                    _rescale(layer.expand1x1, squeezed, means[layer.expand1x1]),
                    _rescale(layer.expand3x3, squeezed, means[layer.expand3x3]),
                ]
            )


@torch.no_grad()
def calibrate(extractor: FeatureExtractor, images: Sequence[torch.Tensor], normalize_filters: bool) -> None:
    """Sets average-pooling gains and, if asked, normalises the filters, on `images`
    ((1, 3, H, W) in 0..1, any sizes). Changes `extractor` in place."""
    inputs = [extractor.normalize(image) for image in images]
    pooled = inputs
    for layer in extractor.layers:
        if isinstance(layer, ScaledAvgPool):
            layer.gain.fill_(_pool_gain(layer, pooled).item())
        pooled = [layer(x) for x in pooled]
    if normalize_filters:
        before = _mean_feature(extractor, images)
        _normalize_filters(extractor, inputs)
        # Inside the net every filter now has mean activation 1; the features the losses
        # see are divided by one constant so that they keep their overall magnitude, and
        # the loss weights keep their meaning. Only the balance between filters and layers changes.
        extractor.feature_scale = 1.0
        extractor.feature_scale = _mean_feature(extractor, images) / before


def _mean_feature(extractor: FeatureExtractor, images: Sequence[torch.Tensor]) -> float:
    """The mean of all returned feature maps over `images`."""
    values = [f.mean() for image in images for f in extractor(image).values()]
    return torch.stack(values).mean().item()
