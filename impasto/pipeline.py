"""`stylize`: the whole run, from images and settings to the stylised image."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from .devices import select_device
from .images import load_image, resize_longest, to_image, to_tensor
from .initial import initial_image
from .losses import ContentLoss, Objective, StyleLoss, gram_matrix
from .networks import FeatureExtractor, build_extractor
from .optimize import Callback, optimize
from .settings import Settings
from .weights import load_weights

ImageInput = str | os.PathLike | Image.Image


@dataclass(frozen=True)
class Network:
    """A ready feature extractor and where its weights came from."""

    extractor: FeatureExtractor
    weights_sha256: str | None
    weights_source: str


def as_image(source: ImageInput) -> Image.Image:
    """A PIL image, loading (and checking) a file when given a path."""
    return source.convert("RGB") if isinstance(source, Image.Image) else load_image(source)


def load_network(settings: Settings, device: torch.device) -> Network:
    """Builds the settings' network with its weights, truncated to the layers in use."""
    layers = (*settings.content_layers, *settings.style_layers)
    if settings.weights == "random":
        extractor = build_extractor(settings.model, layers, None, pooling=settings.pooling)
        return Network(extractor.to(device), None, "random")
    loaded = load_weights(settings.model, settings.weights, settings.weights_format)
    extractor = build_extractor(
        settings.model, layers, loaded.state_dict, loaded.preprocessing, settings.pooling, loaded.source
    )
    return Network(extractor.to(device), loaded.sha256, loaded.source)


@torch.no_grad()
def build_objective(
    extractor: FeatureExtractor,
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    style_blend: Sequence[float],
    settings: Settings,
) -> Objective:
    """Computes the content and (blended) style targets once and wraps them as losses."""
    content_features = extractor(content)
    style_features = [extractor(style) for style in styles]
    total = sum(style_blend)
    style_losses = {
        layer: StyleLoss(sum(w / total * gram_matrix(f[layer]) for w, f in zip(style_blend, style_features)))
        for layer in settings.style_layers
    }
    content_losses = {layer: ContentLoss(content_features[layer]) for layer in settings.content_layers}
    return Objective(
        extractor,
        content_losses,
        style_losses,
        settings.style_layer_weights,
        settings.content_weight,
        settings.style_weight,
        settings.tv_weight,
    )


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    settings: Settings | None = None,
    *,
    callback: Callback | None = None,
) -> Image.Image:
    """Repaints `content` in the manner of `style` (one image or several, blended equally).

    `callback` receives an `Iterate` after every loss evaluation; the engine never prints.
    """
    settings = (settings or Settings()).resolved()
    device = select_device(settings.device)
    styles = list(style) if isinstance(style, Sequence) and not isinstance(style, str) else [style]
    content_image = resize_longest(as_image(content), settings.size)
    network = load_network(settings, device)
    content_tensor = to_tensor(content_image, device)
    style_tensors = [to_tensor(resize_longest(as_image(s), settings.size), device) for s in styles]
    objective = build_objective(
        network.extractor, content_tensor, style_tensors, [1.0] * len(style_tensors), settings
    )
    start = initial_image(settings.init, content_tensor, settings.init_noise_ratio, settings.seed)
    result = optimize(
        objective,
        start,
        optimizer=settings.optimizer,
        iterations=settings.iterations,
        lr=settings.lr,
        callback=callback,
    )
    return to_image(result)
