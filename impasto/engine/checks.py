"""Checks of a run against its network and machine before any work: every image large enough
for the network at every scale, the result within the memory budget, and a resumed state
that belongs to this very run. Apps call `check_run` before loading weights; `Stylizer.run`
calls it too, for callers of the library."""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import torch
from PIL import Image

from impasto.engine.targets import style_weights
from impasto.errors import ImpastoError
from impasto.features.minimum import min_side
from impasto.features.registry import spec
from impasto.image.io import fitted_size
from impasto.optim.events import Resume
from impasto.optim.laplacian import pyramid_size
from impasto.optim.memory import memory_budget
from impasto.optim.optimizers import OptimizerKind, optimizer_for
from impasto.optim.schedule import scale_sizes, split_iterations
from impasto.settings import MAX_SIZE, Settings

RESIDENT_IMAGES = 16
"""Image-sized float tensors a run keeps at least (pixels, gradient, targets, L-BFGS's shortest history)."""
OWN_ITERATE_REACH = 8.0
"""How far outside 0..1 a resumed image of an optimiser with its own iterate may lie (it is
evaluated clamped, so it strays; 0..255 values are damage)."""
TORCH_FLAGS = {"foreach", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay"}
"""Optimiser options that differ between PyTorch versions, not between optimisers."""


def iterations_per_scale(settings: Settings, scales: int) -> list[int]:
    """The iterations of each scale: `scale_iterations`, else `iterations` split over the scales."""
    if settings.scale_iterations is None:
        return split_iterations(settings.iterations, scales)
    if len(settings.scale_iterations) != scales:
        raise ImpastoError(
            f"scale_iterations has {len(settings.scale_iterations)} counts for {scales} scale(s): give one per scale",
            "scale_iterations",
        )
    return list(settings.scale_iterations)


def check_run(
    settings: Settings,
    content: Image.Image,
    styles: Sequence[Image.Image],
    device: torch.device,
    *,
    resume: Resume | None = None,
    names: Sequence[str] | None = None,
    layers: Iterable[str] = (),
) -> None:
    """Raises a one-line ImpastoError naming the setting or file if this run cannot work.

    `settings` are resolved; `names` name the content and style images in messages;
    `layers` are any layers read besides the settings' own (extra loss terms).
    """
    assert settings.content_layers is not None and settings.style_layers is not None  # resolved settings
    sizes = scale_sizes(settings.size, settings.scales, settings.min_size)
    iterations = iterations_per_scale(settings, len(sizes))
    style_weights(settings.style_blend, len(styles))
    _check_mask_counts(settings, len(styles))
    names = names or [
        "the content image",
        *(f"style image {i + 1}" if len(styles) > 1 else "the style image" for i in range(len(styles))),
    ]
    minimum = min_side(settings.model, (*settings.content_layers, *settings.style_layers, *layers))
    _check_side(settings, sizes, content.size, sizes[0], minimum, names[0], "content")
    style_side = max(1, round(sizes[0] * settings.style_scale))
    for name, style in zip(names[1:], styles):
        _check_side(settings, sizes, style.size, style_side, minimum, name, "style")
    _check_memory(settings, content.size, device)
    if resume is not None:
        check_resume(resume, settings, content.size, sizes, iterations)


def _check_mask_counts(settings: Settings, styles: int) -> None:
    """One mask per style (a single content mask may split two styles)."""
    content, style = settings.content_mask, settings.style_mask
    if content is not None and len(content) != styles and not (len(content) == 1 and styles == 2):
        raise ImpastoError(
            f"content_mask has {len(content)} file(s) for {styles} style(s): give one mask per style", "content_mask"
        )
    if style is not None and len(style) != styles:
        raise ImpastoError(
            f"style_mask has {len(style)} file(s) for {styles} style(s): give one mask per style", "style_mask"
        )


def _check_side(
    settings: Settings, sizes: list[int], image: tuple[int, int], longest: int, minimum: int, name: str, role: str
) -> None:
    """The image at its smallest scale must be `minimum` px on each side."""
    width, height = fitted_size(image, longest)
    if min(width, height) >= minimum:
        return
    needed = math.ceil(minimum * max(image) / min(image)) if min(image) else MAX_SIZE + 1
    while needed <= MAX_SIZE and min(fitted_size(image, needed)) < minimum:  # rounding may want a pixel more
        needed += 1
    net = spec(settings.model).display
    small = f"{name} {width}x{height} px, below the {minimum} px {net} needs on each side"
    if needed > MAX_SIZE:
        raise ImpastoError(f"{name} is {image[0]}x{image[1]} px: too narrow for {net}, crop it closer to square")
    if role == "style" and settings.style_scale != 1:
        scale = needed / sizes[0]
        raise ImpastoError(
            f"style_scale {settings.style_scale} makes {small}: use a style_scale of at least {scale:.3g}",
            "style_scale",
        )
    if len(sizes) > 1:
        setting = "min_size" if settings.min_size is not None else "scales"
        fix = f"use a min_size of at least {needed}" if setting == "min_size" else "use fewer scales"
        raise ImpastoError(f"{setting}: the smallest scale ({sizes[0]} px) makes {small}; {fix}", setting)
    raise ImpastoError(f"size {settings.size} makes {small}: use a size of at least {needed}", "size")


def _check_memory(settings: Settings, image: tuple[int, int], device: torch.device) -> None:
    width, height = fitted_size(image, settings.size)
    needed, budget = RESIDENT_IMAGES * 3 * width * height * 4, memory_budget(device, settings.max_memory)
    if needed > budget:
        setting = "max_memory" if settings.max_memory is not None else "size"
        raise ImpastoError(
            f"{setting}: a {width}x{height} result needs at least {needed / 2**30:.2g} GiB, more than the "
            f"{budget / 2**30:.2g} GiB this run may use: lower the size"
            + (" or raise max_memory" if setting == "max_memory" else ""),
            setting,
        )


def check_resume(
    resume: Resume, settings: Settings, image: tuple[int, int], sizes: Sequence[int], iterations: Sequence[int]
) -> None:
    """A resumed state must be one this run could have saved: its scale and iteration within
    the run, its image the run's size, finite, and its optimiser state this optimiser's."""
    scale, iteration = resume.scale, resume.iteration
    if not _whole(scale) or not 0 <= scale < len(sizes):
        _unfit(f"its scale {scale!r} is not one of the run's {len(sizes)}")
    if not _whole(iteration) or iteration < 0:
        _unfit(f"its iteration {iteration!r} is not a count of iterations")
    if iteration > iterations[scale]:
        _unfit(f"its iteration {iteration!r} is beyond the {iterations[scale]} iterations of scale {scale + 1}")
    width, height = fitted_size(image, sizes[scale])
    pixels = resume.pixels
    if not isinstance(pixels, torch.Tensor) or not pixels.is_floating_point() or pixels.shape != (1, 3, height, width):
        shape = tuple(pixels.shape) if isinstance(pixels, torch.Tensor) else type(pixels).__name__
        _unfit(f"its image is {shape}, not this run's (1, 3, {height}, {width})")
    if not _finite(pixels):
        _unfit("its image holds NaN or infinite values (it is damaged)")
    kind = optimizer_for(settings.optimizer, settings.parameterization)
    _check_pixel_range(pixels, kind)
    elapsed = resume.elapsed
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not 0 <= elapsed < math.inf:
        _unfit(f"its elapsed time {elapsed!r} is not a number of seconds")
    average = resume.average
    if average is not None and not (
        isinstance(average, tuple)
        and len(average) == 2
        and _whole(average[0])
        and average[0] >= 0
        and isinstance(average[1], torch.Tensor)
        and average[1].shape == pixels.shape
        and _finite(average[1])
    ):
        _unfit("its iterate average is not an average of this run's images")
    _check_optimizer_state(resume.optimizer_state, kind, pixels)


def _check_pixel_range(pixels: torch.Tensor, optimizer: OptimizerKind) -> None:
    """A projected run's image lies in 0..1; an optimiser with its own iterate strays a little
    further (under 2.5 seen), never as far as 0..255 values (the usual damage)."""
    reach = OWN_ITERATE_REACH if optimizer.own_iterate else 1e-6
    low, high = float(pixels.min()), float(pixels.max())
    if low < -reach or high > 1 + reach:
        _unfit(f"its image has values from {low:g} to {high:g}, outside an image's 0..1 (it is damaged)")


def _check_optimizer_state(state: Any, optimizer: OptimizerKind, pixels: torch.Tensor) -> None:
    groups = state.get("param_groups") if isinstance(state, dict) else None
    entries = state.get("state") if isinstance(state, dict) else None
    if (
        not isinstance(groups, list)
        or len(groups) != 1
        or not isinstance(groups[0], dict)
        or not isinstance(entries, dict)
    ):
        _unfit("its optimiser state is malformed")
    group_keys, state_keys = _reference_keys(optimizer)
    foreign = (set(groups[0]) - {"params"}) ^ group_keys
    per_image = list(entries.values())
    if (
        foreign - TORCH_FLAGS
        or len(per_image) > 1
        or any(not isinstance(e, dict) or set(e) - state_keys for e in per_image)
    ):
        _unfit(f"its optimiser state is not {optimizer.name}'s")
    sizes = {pixels.numel(), pyramid_size(pixels.shape)} if optimizer.name == "adam-laplacian" else {pixels.numel()}
    if not all(_sized_and_finite(value, sizes) for entry in per_image for value in entry.values()):
        _unfit("its optimiser state holds values of another image size, or NaN (it is damaged)")
    try:
        optimizer.build(pixels.clone().requires_grad_(True), 1.0).load_state_dict(copy.deepcopy(state))
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as error:
        _unfit(f"its optimiser state does not load ({error})")


@functools.cache
def _reference_keys(optimizer: OptimizerKind) -> tuple[frozenset[str], frozenset[str]]:
    """The option names and per-image state keys `optimizer` writes, from three steps of a tiny problem."""
    x = torch.zeros(1, 3, 2, 2, requires_grad=True)
    opt = optimizer.build(x, 0.1, 5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (x - 0.5).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)  # type: ignore[arg-type]  # torch's stub wants a float; closures return the loss tensor
    saved = opt.state_dict()
    entries = list(saved["state"].values())
    return frozenset(saved["param_groups"][0]) - {"params"}, frozenset(entries[0] if entries else ())


def _sized_and_finite(value: Any, sizes: set[int]) -> bool:
    """Optimiser state values: numbers finite, tensors finite and scalar or of one of `sizes` (the
    image's, or its pyramid's for the optimisers of one)."""
    if isinstance(value, torch.Tensor):
        return (value.numel() <= 1 or value.numel() in sizes) and _finite(value)
    if isinstance(value, (list, tuple)):
        return all(_sized_and_finite(v, sizes) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (int, str))


def _finite(tensor: torch.Tensor) -> bool:
    return bool(torch.isfinite(tensor).all())


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unfit(why: str) -> NoReturn:
    raise ImpastoError(
        f"resume: the saved state does not belong to this run: {why}; "
        "start the run afresh without it (or resume the state this very run saved)",
        "resume",
    )
