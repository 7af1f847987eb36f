"""`stylize`: the whole run, from images and settings to the stylised image."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from impasto.features.calibrate import calibrate
from impasto.image.color import combine_luminance, luminance, match_color, match_luminance
from impasto.features.devices import select_device
from impasto.errors import ImpastoError
from impasto.image.io import load_image, resize_longest, to_image, to_tensor
from impasto.image.initial import initial_image
from impasto.losses.terms import ContentLoss, MaskedStyleLoss, Objective, StyleLoss, gram_matrix, masked_gram
from impasto.image.masks import content_regions, fit_mask, style_regions
from impasto.optim.schedule import scale_sizes, split_iterations
from impasto.features.networks import FeatureExtractor, build_extractor
from impasto.optim.loop import Callback, Resume, optimize
from impasto.features.precision import Precise
from impasto.losses.tiled import fit_memory, lbfgs_history, memory_budget
from impasto.settings import Settings
from impasto.features.weights import load_weights

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
    content_masks: torch.Tensor | None = None,
    style_masks: Sequence[torch.Tensor | None] | None = None,
) -> Objective:
    """Computes the content and style targets once and wraps them as losses.

    Without `content_masks` the styles' Gram targets are blended by `style_blend`; with
    them (one (1, H, W) region per style, stacked) each region matches its own style and
    `style_blend` weights the regions. `style_masks` limit where each style's statistics
    are taken from (None: the whole image).
    """
    content_features = extractor(content)
    style_features = [extractor(style) for style in styles]
    style_masks = style_masks or [None] * len(styles)
    style_losses: dict[str, nn.Module] = {}
    for layer in settings.style_layers:
        grams = torch.stack([_target_gram(f[layer], m) for f, m in zip(style_features, style_masks)])
        if content_masks is None:
            weights = torch.tensor(style_blend, device=grams.device) / sum(style_blend)
            style_losses[layer] = StyleLoss((weights.view(-1, 1, 1) * grams).sum(0, keepdim=True))
        else:
            style_losses[layer] = MaskedStyleLoss(grams, content_masks, style_blend)
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


def reference_objective(
    content: ImageInput, style: ImageInput, settings: Settings, device: torch.device | str = "cpu"
) -> Objective:
    """The objective of one style at `settings.size`, on the network in fp32: the one
    yardstick that benchmarks and tests measure results with, whatever mode made them."""
    settings = settings.resolved()
    device = torch.device(device)
    extractor = load_network(settings, device).extractor
    content_tensor, style_tensor = (to_tensor(resize_longest(as_image(p), settings.size), device) for p in (content, style))
    return build_objective(extractor, content_tensor, [style_tensor], [1.0], settings)


def _target_gram(features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A style's (N, N) Gram matrix, over the whole image or only its masked part."""
    if mask is None:
        return gram_matrix(features)[0]
    return masked_gram(features, fit_mask(mask, *features.shape[-2:]))[0]


def style_weights(blend: Sequence[float] | None, count: int) -> list[float]:
    """The styles' blend weights, normalised to sum to 1 (equal by default)."""
    if blend is None:
        return [1.0 / count] * count
    if len(blend) != count:
        raise ImpastoError(f"--style-blend has {len(blend)} weights for {count} style image(s): give one per style")
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
    regions = None if content_masks is None else content_regions(content_masks, len(styles), (width, height), device)
    return ScaleInputs(content_tensor, style_tensors, regions, style_regions(style_masks, style_tensors, device))


def _load_masks(settings: Settings) -> tuple[list[Image.Image] | None, list[Image.Image] | None]:
    return tuple(None if paths is None else [load_image(p) for p in paths] for paths in (settings.content_mask, settings.style_mask))


def _upsample(pixels: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(pixels, size=like.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    settings: Settings | None = None,
    *,
    callback: Callback | None = None,
    resume: Resume | None = None,
) -> Image.Image:
    """Repaints `content` in the manner of `style` (one image or several, blended equally).

    `callback` receives an `Iterate` after every loss evaluation; the engine never prints.
    `resume` (an `Iterate.resume_state()` of an earlier run with the same settings)
    continues that run: scales before `resume.scale` are skipped, and that scale goes on
    from its saved iteration.
    """
    settings = (settings or Settings()).resolved()
    device = select_device(settings.device)
    sources = list(style) if isinstance(style, Sequence) and not isinstance(style, str) else [style]
    styles = [as_image(s) for s in sources]
    blend = style_weights(settings.style_blend, len(styles))
    content_image = as_image(content)
    masks = _load_masks(settings)
    sizes = scale_sizes(settings.size, settings.scales, settings.min_size)
    iterations = _iterations_per_scale(settings, len(sizes))
    network = load_network(settings, device)
    precise = Precise(network.extractor, settings.precision, device)
    budget = memory_budget(device, settings.max_memory)
    if settings.preserve_color == "luminance" and callback is not None:
        callback = _shown_in_colour(callback, content_image, device)
    pixels = None
    for index, size in enumerate(sizes):
        inputs = scale_inputs(content_image, styles, size, settings, device, masks)
        if index == 0 and (settings.pooling == "avg" or settings.normalize_vgg):
            calibrate(network.extractor, [inputs.content, *inputs.styles], settings.normalize_vgg)
        if resume is not None and index < resume.scale:
            continue
        objective = build_objective(
            precise, inputs.content, inputs.styles, blend, settings, inputs.content_masks, inputs.style_masks
        )
        if pixels is None:
            start = initial_image(settings.init, inputs.content, settings.init_noise_ratio, settings.seed)
        else:
            start = _upsample(pixels, inputs.content)
        history = lbfgs_history(start, budget) if settings.optimizer.startswith("lbfgs") else 0
        objective = fit_memory(objective, start, budget, fixed=2 * history * start.numel() * 4)
        pixels = optimize(
            objective,
            start,
            optimizer=settings.optimizer,
            iterations=iterations[index],
            lr=settings.lr,
            callback=callback,
            scale=index,
            scales=len(sizes),
            ema_decay=settings.ema_decay,
            resume=resume if resume is not None and index == resume.scale else None,
            history=history or 50,
        )
    if settings.preserve_color == "luminance":
        pixels = combine_luminance(pixels, to_tensor(resize_longest(content_image, settings.size), device))
    return to_image(pixels)


def _shown_in_colour(callback: Callback, content: Image.Image, device: torch.device) -> Callback:
    """Wraps `callback` so that its iterates' images carry the content's colours, as the result will."""
    colours: dict[tuple[int, int], torch.Tensor] = {}

    def present(pixels: torch.Tensor) -> torch.Tensor:
        height, width = pixels.shape[-2:]
        if (width, height) not in colours:
            colours[width, height] = to_tensor(content.resize((width, height), Image.LANCZOS), device)
        return combine_luminance(pixels, colours[width, height])

    return lambda it: callback(dataclasses.replace(it, present=present))


def _iterations_per_scale(settings: Settings, scales: int) -> list[int]:
    if settings.scale_iterations is None:
        return split_iterations(settings.iterations, scales)
    if len(settings.scale_iterations) != scales:
        raise ImpastoError(
            f"--scale-iterations has {len(settings.scale_iterations)} counts for {scales} scale(s): give one per scale"
        )
    return list(settings.scale_iterations)
