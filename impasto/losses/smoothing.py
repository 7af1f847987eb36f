"""Activation smoothing before the style losses: SWAG (Wang, Li and Vasconcelos, CVPR 2021).

Networks other than VGG can have peaky, low-entropy activations: a few channels with large values
stand out at each position, and a Gram-style loss then matches little else. SWAG ("Stylization With
Activation smoothinG") passes each style layer's activations through a softmax before the loss.

What is taken over what, as in the authors' released code (`nn.Softmax2d` of the activations at
temperature 1): at each position, the softmax over the channels of the raw activations. impasto then
multiplies it by the channel count N, so that a position's activations average 1 instead of 1/N. The
factor is a constant: the relative losses do not see it, and it keeps the small regularisers of the
statistics losses (w2's 1e-5 on the covariance) small beside activations of the order of 1/N^2
(without it a smoothed w2 went negative in a 128 px probe).

Which layers: every style layer. The authors' code smooths only ResNet-50's two deepest stages, with
the note that smoothing every layer also always improved their results and that deep-only was
sometimes better, because the deep, residual stages are the peaky ones. impasto's style layers are
the user's choice and SqueezeNet's defaults (relu1, fire2, fire3, fire5) are all shallow by that
measure, so a deep-only rule would smooth none of them; smoothing each chosen style layer is the rule
that means the same for every network and `--style-layers`.

The transform is one per position, so it commutes with masks (which weight positions) and with
tiles (sets of positions): the tiled evaluator applies `smooth` to each tile's features. The content
loss is left as it is (the authors' code also smoothed its content layer).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from impasto.losses.kinds import StyleLossKind, StyleTargets


def smooth(features: torch.Tensor) -> torch.Tensor:
    """(B, N, H, W) activations -> at each position, N times the softmax over the N channels (float32)."""
    return torch.softmax(features.float(), dim=1) * features.shape[1]


class SmoothedStyleLoss(nn.Module):
    """A style loss of smoothed features: `loss` was built from smoothed targets, and the output's
    features are smoothed the same way before they reach it."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.loss(smooth(features))


def smoothed_targets(targets: StyleTargets) -> StyleTargets:
    """The targets with every feature map smoothed: each style's and, where a loss is given them,
    the photo's (masks, blend and seed are positions and weights, left as they are)."""
    changes: dict[str, Any] = {"features": [smooth(f) for f in targets.features]}
    content = getattr(targets, "content", None)  # the photo's features, for losses that compare them
    if content is not None:
        changes["content"] = smooth(content)
    return dataclasses.replace(targets, **changes)


def with_smoothing(kind: StyleLossKind, smoothing: str) -> StyleLossKind:
    """`kind` itself for "none"; for "softmax" the same loss on smoothed targets and features."""
    if smoothing == "none":
        return kind
    factory: Callable[[StyleTargets], nn.Module] = kind.factory

    def build(targets: StyleTargets) -> nn.Module:
        return SmoothedStyleLoss(factory(smoothed_targets(targets)))

    return dataclasses.replace(kind, factory=build)
