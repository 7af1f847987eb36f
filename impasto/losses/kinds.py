"""The style and content losses a run may choose, in one registry that settings, the engine, the
command's choices and the option reference all read.

Each kind has its name, a one-line description (for help and docs), what defaults it implies
and a factory of its per-layer loss module. This module imports no PyTorch until a loss is built,
so `Settings` reads the names and defaults for free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impasto.errors import ImpastoError

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class StyleTargets:
    """What one style layer's loss is made from: each style's features at that layer, each
    style's mask (None: the whole image), the styles' blend weights, the content's regions
    (one (1, H, W) mask per style, stacked; None: one region), the run's seed and the photo's
    features at that layer (None where the caller has none; the losses of the styles alone ignore them)."""

    features: Sequence[torch.Tensor]
    masks: Sequence[torch.Tensor | None]
    blend: Sequence[float]
    content_masks: torch.Tensor | None
    seed: int
    content: torch.Tensor | None = None


@dataclass(frozen=True)
class StyleLossKind:
    """One `--style-loss` choice."""

    name: str
    description: str
    one_scale_weight: float | None  # the default style weight of a one-scale run; None: the network's paper weight
    relative: bool  # normalised by the target's size; the content loss is then divided by its target's size too
    masks: bool  # takes content and style masks
    factory: Callable[[StyleTargets], nn.Module]


@dataclass(frozen=True)
class ContentLossKind:
    """One `--content-loss` choice."""

    name: str
    description: str
    with_style_layers: bool  # its default layers are the content and style layers together
    factory: Callable[[torch.Tensor, int, bool], nn.Module]  # (target features, seed, relative) -> loss


def _gram(relative: bool) -> Callable[[StyleTargets], nn.Module]:
    def build(targets: StyleTargets) -> nn.Module:
        import torch

        from impasto.losses.terms import MaskedStyleLoss, StyleLoss, style_grams

        grams = style_grams(targets.features, targets.masks)
        if targets.content_masks is not None:
            return MaskedStyleLoss(grams, targets.content_masks, targets.blend, relative)
        weights = torch.tensor(targets.blend, device=grams.device) / sum(targets.blend)
        return StyleLoss((weights.view(-1, 1, 1) * grams).sum(0, keepdim=True), relative)

    return build


def _w2(targets: StyleTargets) -> nn.Module:
    from impasto.losses.statistics import WassersteinStyleLoss, blended_moments

    return WassersteinStyleLoss(*blended_moments(targets.features, targets.blend))


def _hist(targets: StyleTargets) -> nn.Module:
    from impasto.losses.statistics import HistogramStyleLoss, blend_quantiles, blended_moments, sorted_quantiles

    _, second = blended_moments(targets.features, targets.blend)
    quantiles = blend_quantiles([sorted_quantiles(f) for f in targets.features], targets.blend)
    return HistogramStyleLoss(second[None], quantiles)


def _swd(targets: StyleTargets) -> nn.Module:
    from impasto.losses.sliced import SlicedWassersteinStyleLoss

    return SlicedWassersteinStyleLoss(targets.features, targets.blend, targets.seed)


def _nn(targets: StyleTargets) -> nn.Module:
    from impasto.losses.neighbours import NeighbourStyleLoss

    if targets.content is None:
        raise ValueError("style_loss nn needs the photo's features: build it through build_objective")
    if max(targets.blend) - min(targets.blend) > 1e-9 * max(targets.blend):
        raise ImpastoError(
            "style_loss nn pools the styles' features and takes no unequal --style-blend: leave it out or choose "
            "another --style-loss",
            "style_blend",
        )
    return NeighbourStyleLoss(targets.content, targets.features)


def _feature(target: torch.Tensor, seed: int, relative: bool) -> nn.Module:
    from impasto.losses.terms import ContentLoss

    return ContentLoss(target, relative)


def _self_similarity(target: torch.Tensor, seed: int, relative: bool) -> nn.Module:
    from impasto.losses.similarity import POSITIONS, SelfSimilarityLoss, sample_positions

    return SelfSimilarityLoss(target, sample_positions(POSITIONS, seed))  # the same places at every layer and scale


STYLE_LOSSES: dict[str, StyleLossKind] = {
    kind.name: kind
    for kind in (
        StyleLossKind(
            "gram",
            "the paper's: the Gram matrices' difference, unnormalised",
            one_scale_weight=None,
            relative=False,
            masks=True,
            factory=_gram(relative=False),
        ),
        StyleLossKind(
            "gram-relative",
            "the Gram difference over the target Gram's size",
            one_scale_weight=30.0,
            relative=True,
            masks=True,
            factory=_gram(relative=True),
        ),
        StyleLossKind(
            "w2",
            "Wasserstein-2 distance of the features' mean and covariance",
            one_scale_weight=20.0,
            relative=True,
            masks=False,
            factory=_w2,
        ),
        StyleLossKind(
            "hist",
            "gram-relative plus per-channel histogram matching",
            one_scale_weight=30.0,
            relative=True,
            masks=False,
            factory=_hist,
        ),
        StyleLossKind(
            "swd",
            "sliced Wasserstein: the whole distribution of activations along random directions",
            one_scale_weight=80.0,
            relative=True,
            masks=False,
            factory=_swd,
        ),
        StyleLossKind(
            "nn",
            "neural neighbours: each of the photo's features replaced by its nearest artwork feature, matched by "
            "cosine distance",
            one_scale_weight=20.0,
            relative=True,
            masks=False,
            factory=_nn,
        ),
    )
}
"""The style losses; the one-scale weights are measured (see docs/quality.md)."""
CONTENT_LOSSES: dict[str, ContentLossKind] = {
    kind.name: kind
    for kind in (
        ContentLossKind(
            "feature", "the paper's: the photo's features themselves", with_style_layers=False, factory=_feature
        ),
        ContentLossKind(
            "self-similarity",
            "STROTSS: which places look alike, at 1024 fixed positions; keeps the layout and lets surfaces be "
            "repainted",
            with_style_layers=True,
            factory=_self_similarity,
        ),
    )
}


def style_loss(name: str) -> StyleLossKind:
    """The registry entry of the style loss `name`, or a one-line error naming the choices."""
    if name not in STYLE_LOSSES:
        raise ImpastoError(f"unknown style_loss {name!r}: choose from {', '.join(STYLE_LOSSES)}", "style_loss")
    return STYLE_LOSSES[name]


def content_loss(name: str) -> ContentLossKind:
    """The registry entry of the content loss `name`, or a one-line error naming the choices."""
    if name not in CONTENT_LOSSES:
        raise ImpastoError(f"unknown content_loss {name!r}: choose from {', '.join(CONTENT_LOSSES)}", "content_loss")
    return CONTENT_LOSSES[name]
