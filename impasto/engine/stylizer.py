"""`Stylizer`: loads a feature network once and runs many stylisations with it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from impasto.engine.checks import check_run, iterations_per_scale
from impasto.engine.events import Iterate
from impasto.engine.targets import ScaleInputs, build_objective, load_masks, scale_inputs, style_weights
from impasto.errors import ImpastoError
from impasto.features.calibrate import calibrate
from impasto.features.devices import select_device
from impasto.features.networks import FeatureExtractor
from impasto.features.precision import Precise, resolve_precision, uses_channels_last
from impasto.features.registry import build_extractor, spec
from impasto.features.weights import Progress, load_weights
from impasto.image.color import combine_luminance, pooled_palette
from impasto.image.initial import initial_image
from impasto.image.io import ImageInput, as_image, resize_longest, to_image, to_tensor
from impasto.losses.objective import Objective, Term, layers_of
from impasto.optim import memory
from impasto.optim.control import RunControl
from impasto.optim.loop import Report, Resume, optimize, optimizer_name
from impasto.optim.memory import fit_memory, lbfgs_history, memory_budget
from impasto.optim.schedule import scale_sizes
from impasto.settings import Settings

NETWORK_FIELDS = ("model", "weights", "weights_format", "pooling", "device")
"""Settings that choose the network a Stylizer holds; a run cannot change them."""

Callback = Callable[[Iterate], None]
Present = Callable[[torch.Tensor], torch.Tensor]
ExtraTerm = Term | tuple[str, nn.Module, float]


class Stylizer:
    """Holds a device and a network with its weights (read and hashed once) and runs jobs.

    Each run builds its own truncated, calibrated copy of the network from the loaded
    weights, so runs never share mutable state: any order of runs gives the same images as
    separate processes. A run may override any setting except those in `NETWORK_FIELDS`
    (model, weights, weights_format, pooling, device), which raise an `ImpastoError` naming
    the field: make a new Stylizer for another network.
    """

    def __init__(self, settings: Settings | None = None, *, download_progress: Progress | None = None) -> None:
        self.settings = settings or Settings()
        self.device = select_device(self.settings.device)
        self.spec = spec(self.settings.model)
        if self.settings.weights == "random":
            self._state, self._preprocessing, self._source = None, "torchvision", "random"
            self.weights_sha256 = "random"
        else:
            loaded = load_weights(
                self.settings.model, self.settings.weights, self.settings.weights_format, download_progress
            )
            self._state, self._preprocessing, self._source = loaded.state_dict, loaded.preprocessing, loaded.source
            self.weights_sha256 = loaded.sha256
        self._extractors: dict[tuple[tuple[str, ...], bool], FeatureExtractor] = {}

    def settings_for(self, **overrides: Any) -> Settings:
        """The resolved settings of a run with these overrides (validated)."""
        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ImpastoError(f"unknown setting {unknown[0]!r}: known settings are {', '.join(sorted(known))}")
        changed = [
            name for name in NETWORK_FIELDS if name in overrides and overrides[name] != getattr(self.settings, name)
        ]
        if changed:
            raise ImpastoError(
                f"{changed[0]} cannot change between runs of one Stylizer: make a new Stylizer for another network",
                changed[0],
            )
        return dataclasses.replace(self.settings, **overrides).resolved()

    def run(
        self,
        content: ImageInput,
        style: ImageInput | Sequence[ImageInput],
        *,
        callback: Callback | None = None,
        control: RunControl | None = None,
        resume: Resume | None = None,
        start: Image.Image | torch.Tensor | None = None,
        extra_terms: Sequence[ExtraTerm] = (),
        **overrides: Any,
    ) -> Image.Image:
        """Repaints `content` in the manner of `style` (one image or several, blended).

        Each image is a path, a PIL image of any mode or a NumPy array (HxW, HxWx3, HxWx4),
        read by its type: uint8 0..255, uint16 0..65535, float 0..1 (slight overshoot
        clipped), bool black or white. NaN, infinities and values outside the type's range
        raise a one-line `ImpastoError` (see `impasto.image.convert`).

        `callback` receives an `Iterate` after every loss evaluation. `control` can stop the
        run early (the current image is returned) and snapshot it for checkpoints. `resume`
        (from `RunControl.resume_state`) continues an earlier run with the same settings.
        `start` replaces the settings' starting image. `extra_terms` ((name, module, weight):
        `module(image, features)`, reading the layers in `module.layers`) join the objective
        at the last scale.
        """
        settings = self.settings_for(**overrides)
        assert settings.content_layers is not None and settings.style_layers is not None  # settings_for resolves them
        assert settings.lr is not None and settings.ema_decay is not None
        control = control or RunControl()
        sources = list(style) if isinstance(style, Sequence) and not isinstance(style, str) else [style]
        if not sources:
            raise ImpastoError("give at least one style image")
        styles = [as_image(s, "style image") for s in sources]
        blend = style_weights(settings.style_blend, len(styles))
        content_image = as_image(content, "content image")
        extra = [term if isinstance(term, Term) else Term(*term) for term in extra_terms]
        check_run(settings, content_image, styles, self.device, resume=resume, layers=layers_of(extra))
        masks = load_masks(settings)
        sizes = scale_sizes(settings.size, settings.scales, settings.min_size)
        iterations = iterations_per_scale(settings, len(sizes))
        precision = resolve_precision(settings.precision, self.device)
        calibrated = settings.pooling == "avg" or settings.normalize_vgg
        layers = tuple(dict.fromkeys((*settings.content_layers, *settings.style_layers, *layers_of(extra))))
        extractor = self._extractor(
            layers, uses_channels_last(precision, self.device, settings.model), fresh=calibrated
        )
        network = Precise(extractor, precision, self.device, settings.model)
        budget = memory_budget(self.device, settings.max_memory)
        present = _in_colours_of(content_image, self.device) if settings.preserve_color == "luminance" else None
        pixels = None
        for index, size in enumerate(sizes):
            inputs = scale_inputs(content_image, styles, size, settings, self.device, masks)
            if index == 0 and calibrated:
                calibrate(extractor, [inputs.content, *inputs.styles], settings.normalize_vgg)
            if resume is not None and index < resume.scale:
                continue
            last = index == len(sizes) - 1
            objective = build_objective(
                network,
                inputs.content,
                inputs.styles,
                blend,
                settings,
                inputs.content_masks,
                inputs.style_masks,
                extra if last else (),
            )
            first = self._start(start, settings, inputs, blend) if pixels is None else _upsample(pixels, inputs.content)
            history = lbfgs_history(first, budget) if settings.optimizer.startswith("lbfgs") else 0
            control.reason = None  # each scale says for itself whether it ended early
            extractor.checkpointing = memory.recomputes(first[0, 0].numel())
            fitted = fit_memory(objective, first, budget, self.spec.halo, fixed=2 * history * first.numel() * 4)
            pixels = optimize(
                fitted,
                first,
                optimizer=optimizer_name(settings.optimizer, settings.parameterization),
                iterations=iterations[index],
                lr=settings.lr,
                report=_reporter(callback, index, len(sizes), present, control),
                control=control,
                scale=index,
                ema_decay=settings.ema_decay,
                resume=resume if resume is not None and index == resume.scale else None,
                history=history or 50,
                tolerance=settings.stop_tolerance,
            )
            if control.stopped:
                break
        assert pixels is not None  # there is at least one scale, and a resume starts at one of them
        final = to_tensor(resize_longest(content_image, settings.size), self.device)
        pixels = pixels if pixels.shape == final.shape else _upsample(pixels, final)
        return to_image(pixels if present is None else combine_luminance(pixels, final))

    def objective(self, content: ImageInput, style: ImageInput, **overrides: Any) -> Objective:
        """The fp32 objective of one style at the run's size: the one yardstick that benchmarks
        and tests measure results with, whatever mode made them."""
        settings = self.settings_for(**overrides)
        assert settings.content_layers is not None and settings.style_layers is not None  # settings_for resolves them
        extractor = self._extractor((*settings.content_layers, *settings.style_layers), False, fresh=False)
        inputs = scale_inputs(as_image(content), [as_image(style)], settings.size, settings, self.device)
        return build_objective(extractor, inputs.content, inputs.styles, [1.0], settings)

    def _extractor(self, layers: tuple[str, ...], channels_last: bool, fresh: bool) -> FeatureExtractor:
        """The network truncated to `layers`, built once per layout (a new one when it will be calibrated)."""
        key = (layers, channels_last)
        if fresh or key not in self._extractors:
            extractor = build_extractor(
                self.settings.model, layers, self._state, self._preprocessing, self.settings.pooling, self._source
            ).to(self.device)
            if fresh:
                return extractor
            self._extractors[key] = extractor
        return self._extractors[key]

    def _start(
        self, start: Image.Image | torch.Tensor | None, settings: Settings, inputs: ScaleInputs, blend: Sequence[float]
    ) -> torch.Tensor:
        """The given starting image at the content's size, else the settings' `init`. With
        `--preserve-color` the styles already carry the content's colours, so `palette` starts
        from the content as it is."""
        content = inputs.content
        if start is None:
            palette = pooled_palette(inputs.styles, blend) if settings.preserve_color == "none" else None
            return initial_image(settings.init, content, settings.init_noise_ratio, settings.seed, palette)
        pixels = start if isinstance(start, torch.Tensor) else to_tensor(as_image(start, "start image"), content.device)
        pixels = pixels.to(content.device, torch.float32)
        return pixels if pixels.shape == content.shape else _upsample(pixels, content)


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    settings: Settings | None = None,
    *,
    callback: Callback | None = None,
    control: RunControl | None = None,
    resume: Resume | None = None,
) -> Image.Image:
    """One job: `Stylizer(settings).run(content, style, ...)`, for scripts that stylise once."""
    return Stylizer(settings).run(content, style, callback=callback, control=control, resume=resume)


def reference_objective(
    content: ImageInput, style: ImageInput, settings: Settings, device: torch.device | str = "cpu"
) -> Objective:
    """The fp32 objective of one style at `settings.size` (see `Stylizer.objective`)."""
    return Stylizer(dataclasses.replace(settings, device=str(device))).objective(content, style)


def _reporter(
    callback: Callback | None, scale: int, scales: int, present: Present | None, control: RunControl
) -> Report | None:
    """Turns the loop's reports into `Iterate` events with a private CPU copy of the image."""
    if callback is None:
        return None

    def report(iteration: int, iterations: int, losses: dict[str, float], elapsed: float, pixels: torch.Tensor) -> None:
        shown = pixels if present is None else present(pixels)
        reason = control.reason if iteration == iterations else None
        callback(
            Iterate(iteration, iterations, losses, elapsed, scale, scales, shown.detach().to("cpu", copy=True), reason)
        )

    return report


def _in_colours_of(content: Image.Image, device: torch.device) -> Present:
    """Shows luminance-only iterates in the content's colours, as the result will be."""
    colours: dict[tuple[int, int], torch.Tensor] = {}

    def present(pixels: torch.Tensor) -> torch.Tensor:
        height, width = pixels.shape[-2:]
        if (width, height) not in colours:
            colours[width, height] = to_tensor(content.resize((width, height), Image.Resampling.LANCZOS), device)
        return combine_luminance(pixels, colours[width, height])

    return present


def _upsample(pixels: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(pixels, size=like.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
