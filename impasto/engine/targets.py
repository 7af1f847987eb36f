"""A run's targets: its images at each scale and the objective built from their features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torch import nn

from impasto.errors import ImpastoError
from impasto.features.minimum import min_side
from impasto.image.color import luminance, match_color, match_luminance
from impasto.image.io import load_image, resize_longest, to_tensor
from impasto.image.masks import content_regions, style_regions
from impasto.losses.coarse import CoarseStyleTerm, shrink
from impasto.losses.kinds import STYLE_LOSSES, StyleLossKind, StyleTargets, content_loss, style_loss
from impasto.losses.objective import Objective, Term, paper_terms
from impasto.losses.smoothing import with_smoothing
from impasto.losses.terms import StyleTerm
from impasto.settings import Settings


@torch.no_grad()
def build_objective(
    extractor: nn.Module,
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    style_blend: Sequence[float],
    settings: Settings,
    content_masks: torch.Tensor | None = None,
    style_masks: Sequence[torch.Tensor | None] | None = None,
    extra_terms: Sequence[Term] = (),
) -> Objective:
    """Computes the content and style targets once and wraps them as losses.

    Without `content_masks` the styles' Gram targets are blended by `style_blend`; with
    them (one (1, H, W) region per style, stacked) each region matches its own style and
    `style_blend` weights the regions. `style_masks` limit where each style's statistics
    are taken from (None: the whole image). `extra_terms` follow the paper's three.
    """
    assert settings.style_layers is not None and settings.style_layer_weights is not None  # resolved settings
    assert settings.style_weight is not None
    content_features = extractor(content)
    kind = with_smoothing(style_loss(settings.style_loss), settings.activation_smoothing)
    style_masks = style_masks or [None] * len(styles)
    if not kind.masks and (content_masks is not None or any(m is not None for m in style_masks)):
        takers = " or ".join(name for name, other in STYLE_LOSSES.items() if other.masks)
        raise ImpastoError(f"style_loss {kind.name} does not take masks: use {takers}", "style_loss")
    regions = (style_blend, content_masks, style_masks)
    style_losses = _style_losses(kind, content_features, [extractor(s) for s in styles], regions, settings)
    content_losses = _content_losses(content_features, settings, kind.relative)
    terms = paper_terms(
        content_losses,
        style_losses,
        settings.style_layer_weights,
        settings.content_weight,
        settings.style_weight,
        settings.tv_weight,
    )
    coarse = _coarse_style(extractor, kind, content, styles, regions, settings)
    return Objective(extractor, [*terms, *coarse, *extra_terms])


Regions = tuple[Sequence[float], torch.Tensor | None, Sequence[torch.Tensor | None]]
"""A run's style blend, content masks and style masks."""


def _style_losses(
    kind: StyleLossKind,
    content_features: dict[str, torch.Tensor],
    style_features: list[dict[str, torch.Tensor]],
    regions: Regions,
    settings: Settings,
) -> dict[str, nn.Module]:
    """One style loss of the settings' kind per style layer."""
    assert settings.style_layers is not None  # resolved settings
    blend, content_masks, style_masks = regions
    return {
        layer: kind.factory(
            StyleTargets(
                [f[layer] for f in style_features],
                style_masks,
                blend,
                content_masks,
                settings.seed,
                content_features.get(layer),
            )
        )
        for layer in settings.style_layers
    }


def _coarse_style(
    extractor: nn.Module,
    kind: StyleLossKind,
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    regions: Regions,
    settings: Settings,
) -> list[Term]:
    """With a style scale above 1, the style term again on the output and the photo shrunk by it,
    against the artworks at their unscaled size ("style-coarse", at the style weight), so the
    strokes grow with the scale; none where the shrunk photo is too small for the network."""
    assert settings.style_layers is not None and settings.style_layer_weights is not None  # resolved settings
    assert settings.style_weight is not None
    if settings.style_scale <= 1:
        return []
    factor = 1 / settings.style_scale
    small = shrink(content, factor)
    if min(small.shape[-2:]) < min_side(settings.model, settings.style_layers):
        return []
    losses = _style_losses(kind, extractor(small), [extractor(shrink(s, factor)) for s in styles], regions, settings)
    term = CoarseStyleTerm(extractor, StyleTerm(losses, settings.style_layer_weights), factor)
    return [Term("style-coarse", term, settings.style_weight)]


def _content_losses(features: dict[str, torch.Tensor], settings: Settings, relative: bool) -> dict[str, nn.Module]:
    """One content loss per content layer, of the settings' kind (self-similarity's positions are
    drawn from the run's seed: the same places at every layer and scale)."""
    assert settings.content_layers is not None  # resolved settings
    kind = content_loss(settings.content_loss)
    return {layer: kind.factory(features[layer], settings.seed, relative) for layer in settings.content_layers}


def style_weights(blend: Sequence[float] | None, count: int) -> list[float]:
    """The styles' blend weights, normalised to sum to 1 (equal by default)."""
    if blend is None:
        return [1.0 / count] * count
    if len(blend) != count:
        raise ImpastoError(
            f"style_blend has {len(blend)} weights for {count} style image(s): give one per style", "style_blend"
        )
    return [w / sum(blend) for w in blend]


@dataclass(frozen=True)
class ScaleInputs:
    """The tensors one scale optimises against."""

    content: torch.Tensor  # what the content loss sees (its luminance with --preserve-color luminance)
    styles: list[torch.Tensor]
    content_masks: torch.Tensor | None
    style_masks: list[torch.Tensor | None]


def scale_inputs(
    content: Image.Image,
    styles: Sequence[Image.Image],
    size: int,
    settings: Settings,
    device: torch.device,
    masks: tuple[list[Image.Image] | None, list[Image.Image] | None] = (None, None),
) -> ScaleInputs:
    """Content, styles (at `style_scale` times `size`, recoloured as asked) and masks at one scale."""
    content_tensor = to_tensor(resize_longest(content, size), device)
    style_size = max(1, round(size * settings.style_scale))
    style_tensors = [to_tensor(resize_longest(s, style_size), device) for s in styles]
    if settings.preserve_color == "histogram":
        style_tensors = [match_color(s, content_tensor) for s in style_tensors]
    elif settings.preserve_color == "luminance":
        style_tensors = [match_luminance(s, content_tensor) for s in style_tensors]
        content_tensor = luminance(content_tensor)
    content_masks, style_masks = masks
    height, width = content_tensor.shape[-2:]
    regions = (
        None
        if content_masks is None
        else content_regions(content_masks, len(styles), (width, height), device, settings.content_mask)
    )
    return ScaleInputs(
        content_tensor, style_tensors, regions, style_regions(style_masks, style_tensors, device, settings.style_mask)
    )


def load_masks(settings: Settings) -> tuple[list[Image.Image] | None, list[Image.Image] | None]:
    """The content and style masks the settings name, each read and checked once."""
    content, style = (
        None if paths is None else [load_image(p, "image", name) for p in paths]
        for name, paths in (("content_mask", settings.content_mask), ("style_mask", settings.style_mask))
    )
    return content, style
