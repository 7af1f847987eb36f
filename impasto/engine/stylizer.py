"""`Stylizer`: loads a feature network once and runs many stylisations with it."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from PIL import Image

from impasto.defaults import resolve
from impasto.engine.job import ExtraTerm, Job
from impasto.engine.plan import Plan
from impasto.engine.pyramid import Pyramid
from impasto.engine.targets import ScaleInputs, build_objective, scale_inputs
from impasto.engine.warm import start_palette
from impasto.errors import ImpastoError
from impasto.features.calibrate import calibrate
from impasto.features.devices import select_device
from impasto.features.networks import FeatureExtractor
from impasto.features.precision import Precise, resolve_precision, uses_channels_last
from impasto.features.registry import build_extractor, spec
from impasto.features.weights import Progress, load_weights
from impasto.image.color import combine_luminance
from impasto.image.initial import initial_image
from impasto.image.io import ImageInput, as_image, resize_longest, to_image, to_tensor
from impasto.losses.objective import Objective, layers_of
from impasto.optim import memory
from impasto.optim.callbacks import Callback, CallbackList, Finish, Present
from impasto.optim.control import StopToken
from impasto.optim.events import Iterate, Resume
from impasto.optim.loop import OptimizerFactory, optimize
from impasto.optim.memory import fit_memory, lbfgs_history, memory_budget
from impasto.optim.optimizers import optimizer_for
from impasto.settings import Settings

NETWORK_FIELDS = ("model", "weights", "weights_format", "pooling", "device")
"""Settings that choose the network a Stylizer holds; a run cannot change them."""


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
        return resolve(self.given(**overrides))

    def check_network(self, settings: Settings) -> None:
        """Refuses settings that name another network than this Stylizer holds."""
        changed = [name for name in NETWORK_FIELDS if getattr(settings, name) != getattr(self.settings, name)]
        if changed:
            raise ImpastoError(
                f"{changed[0]} cannot change between runs of one Stylizer: make a new Stylizer for another network",
                changed[0],
            )

    def run(
        self,
        content: ImageInput,
        style: ImageInput | Sequence[ImageInput],
        *,
        callback: Callback | Callable[[Iterate], None] | None = None,
        callbacks: Sequence[Callback | Callable[[Iterate], None]] = (),
        stop: StopToken | None = None,
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

        `callback` (a function of each `Iterate`, or a `Callback`) and `callbacks` watch the
        run. `stop` can end it early (the current image is returned). `resume` (a `Snapshot`'s
        state) continues an earlier run with the same settings. `start` replaces the
        settings' starting image. `extra_terms` ((name, module, weight): `module(image,
        features)`, reading the layers in `module.layers`) join the objective at the last
        scale. This is `Job(...).run(stylizer)` for images in memory or on disk.
        """
        sources = list(style) if isinstance(style, Sequence) and not isinstance(style, str) else [style]
        watchers = [*callbacks, *([callback] if callback is not None else [])]
        job = Job(
            self.given(**overrides), content, sources, watchers, stop, resume, start=start, extra_terms=extra_terms
        )
        return job.run(self).image

    def given(self, **overrides: Any) -> Settings:
        """This Stylizer's settings with a run's overrides, as given (validated, defaults not resolved)."""
        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ImpastoError(f"unknown setting {unknown[0]!r}: known settings are {', '.join(sorted(known))}")
        settings = dataclasses.replace(self.settings, **overrides)
        self.check_network(settings)
        return settings

    def paint(
        self, plan: Plan, callbacks: CallbackList, stop: StopToken | None = None, resume: Resume | None = None
    ) -> Finish:
        """The engine's stages of a checked run: the network and its targets, then for each
        scale its objective and optimisation, then the final colour step."""
        settings = plan.settings
        assert settings.lr is not None and settings.ema_decay is not None  # resolved
        network, extractor = self._network(plan)
        budget = memory_budget(self.device, settings.max_memory)
        callbacks.present = (
            _in_colours_of(plan.content, self.device) if settings.preserve_color == "luminance" else None
        )
        callbacks.scales = len(plan.pyramid)
        pixels, reason = None, None
        for level in plan.pyramid.levels(resume):
            callbacks.scale = level.index
            inputs = scale_inputs(plan.content, plan.styles, level.size, settings, self.device, plan.masks)
            objective = build_objective(
                network,
                inputs.content,
                inputs.styles,
                plan.blend,
                settings,
                inputs.content_masks,
                inputs.style_masks,
                plan.extra if level.last else (),
            )
            first = self._start(plan, inputs) if pixels is None else Pyramid.upsample(pixels, inputs.content)
            kind = optimizer_for(settings.optimizer, settings.parameterization)
            history = lbfgs_history(first, budget) if kind.lbfgs_like else 0
            extractor.checkpointing = memory.recomputes(first[0, 0].numel())
            fitted = fit_memory(objective, first, budget, self.spec.halo, fixed=2 * history * first.numel() * 4)
            factory = OptimizerFactory(
                functools.partial(kind.build, lr=settings.lr, history=history or 50), kind.own_iterate
            )
            steps = plan.pyramid.steps(level, settings.ema_decay, settings.stop_tolerance)
            pixels, reason = optimize(fitted, first, factory, steps, callbacks, stop)
            if reason == "stopped":
                break
        assert pixels is not None  # there is at least one scale, and a resume starts at one of them
        return self._finish(plan, pixels, stopped=reason == "stopped")

    def _network(self, plan: Plan) -> tuple[Precise, FeatureExtractor]:
        """The run's truncated network at its precision, calibrated on the first scale's images
        when its pooling or normalisation asks for it."""
        settings = plan.settings
        assert settings.content_layers is not None and settings.style_layers is not None  # resolved
        precision = resolve_precision(settings.precision, self.device)
        calibrated = settings.pooling == "avg" or settings.normalize_vgg
        layers = tuple(dict.fromkeys((*settings.content_layers, *settings.style_layers, *layers_of(plan.extra))))
        extractor = self._extractor(
            layers, uses_channels_last(precision, self.device, settings.model), fresh=calibrated
        )
        if calibrated:
            first = scale_inputs(plan.content, plan.styles, plan.pyramid.sizes[0], settings, self.device, plan.masks)
            calibrate(extractor, [first.content, *first.styles], settings.normalize_vgg)
        return Precise(extractor, precision, self.device, settings.model), extractor

    def _finish(self, plan: Plan, pixels: torch.Tensor, stopped: bool) -> Finish:
        """The result at the output size, in the content's colours with luminance-only transfer."""
        final = to_tensor(resize_longest(plan.content, plan.settings.size), self.device)
        pixels = Pyramid.upsample(pixels, final)
        if plan.settings.preserve_color == "luminance":
            pixels = combine_luminance(pixels, final)
        pixels = pixels.detach().to("cpu")
        return Finish(to_image(pixels), pixels=pixels, stopped=stopped)

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

    def _start(self, plan: Plan, inputs: ScaleInputs) -> torch.Tensor:
        """The given starting image at the content's size, else the settings' `init`. With
        `--preserve-color` the styles already carry the content's colours, so `palette` starts
        from the content as it is."""
        settings, content, start = plan.settings, inputs.content, plan.start
        if start is None:
            palette = start_palette(settings, inputs.styles, plan.blend)
            return initial_image(settings.init, content, settings.init_noise_ratio, settings.seed, palette)
        pixels = start if isinstance(start, torch.Tensor) else to_tensor(as_image(start, "start image"), content.device)
        return Pyramid.upsample(pixels.to(content.device, torch.float32), content)


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    settings: Settings | None = None,
    *,
    callback: Callback | Callable[[Iterate], None] | None = None,
    stop: StopToken | None = None,
    resume: Resume | None = None,
) -> Image.Image:
    """One job: `Stylizer(settings).run(content, style, ...)`, for scripts that stylise once."""
    return Stylizer(settings).run(content, style, callback=callback, stop=stop, resume=resume)


def reference_objective(
    content: ImageInput, style: ImageInput, settings: Settings, device: torch.device | str = "cpu"
) -> Objective:
    """The fp32 objective of one style at `settings.size` (see `Stylizer.objective`)."""
    return Stylizer(dataclasses.replace(settings, device=str(device))).objective(content, style)


def _in_colours_of(content: Image.Image, device: torch.device) -> Present:
    """Shows luminance-only iterates in the content's colours, as the result will be."""
    colours: dict[tuple[int, int], torch.Tensor] = {}

    def present(pixels: torch.Tensor) -> torch.Tensor:
        height, width = pixels.shape[-2:]
        if (width, height) not in colours:
            colours[width, height] = to_tensor(content.resize((width, height), Image.Resampling.LANCZOS), device)
        return combine_luminance(pixels, colours[width, height])

    return present
