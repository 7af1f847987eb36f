"""The frame loop of a video run: each frame stylised in turn, started from the previous
result moved along the optical flow and held to it by the temporal loss (Ruder et al. 2016),
finished frames kept on disk so that an interrupted run goes on where it stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from PIL import Image

from impasto.apps.video.flow import Motion, motion, warp
from impasto.apps.video.io import Clip
from impasto.apps.video.shots import shot_bounds
from impasto.apps.video.store import FrameKeeper
from impasto.apps.video.temporal import TemporalLoss, long_term_weights
from impasto.defaults import resolve
from impasto.engine import Job, StopToken, Stylizer
from impasto.engine.warm import as_optimised, single_scale, start_palette
from impasto.errors import ImpastoError
from impasto.image.color import recolor
from impasto.image.io import ImageInput, to_tensor
from impasto.settings import Settings

MODES = ("temporal", "warm", "independent")
TEMPORAL_WEIGHT = 300.0
"""The temporal loss's default weight, relative to the frame's other losses (measured, see
benchmarks/video.py)."""
FRAME_ITERATIONS = 20


@dataclass(frozen=True)
class Consistency:
    """How frames are tied together.

    independent: every frame from the settings' `init`, as a still image;
    warm: frame t starts from result t-1 warped by the flow (disoccluded pixels from frame t);
    temporal: warm, plus the temporal loss to the warped results of the last `long_term`
    frames, weighted by `temporal_weight` times the content and style loss of the starting
    image, so that one weight suits every style loss, style weight and network; disoccluded
    pixels start from the nearest of those frames that saw them.
    After the first frame, `frame_iterations` (None: the settings' iterations) run per frame.
    """

    mode: str = "temporal"
    temporal_weight: float = TEMPORAL_WEIGHT
    frame_iterations: int | None = FRAME_ITERATIONS
    long_term: int = 1

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ImpastoError(f"--mode {self.mode!r} is unknown: choose from {', '.join(MODES)}")
        if not self.temporal_weight >= 0:
            raise ImpastoError(f"--temporal-weight must be zero or positive, got {self.temporal_weight}")
        if self.frame_iterations is not None and self.frame_iterations < 1:
            raise ImpastoError(f"--frame-iterations must be at least 1, got {self.frame_iterations}")
        if self.long_term < 1:
            raise ImpastoError(f"--long-term must be at least 1, got {self.long_term}")


@dataclass(frozen=True)
class FrameDone:
    """Reported after each frame: which, of how many, how long it took, whether it was kept from before."""

    index: int
    frames: int
    seconds: float
    reused: bool


def stylize_frames(
    stylizer: Stylizer,
    clip: Clip,
    style: ImageInput | Sequence[ImageInput],
    store: FrameKeeper,
    consistency: Consistency = Consistency(),
    *,
    on_frame: Callable[[FrameDone], None] | None = None,
    stop: StopToken | None = None,
    **overrides: Any,
) -> list[np.ndarray]:
    """Stylises the clip's frames in order at their size (`overrides` may not change it) and
    returns the results; frames already in `store` are reused, new ones saved there. Each
    shot (see `shot_bounds`) starts afresh: its first frame is run as a still image. After
    `stop`, the frame in progress is neither kept nor returned."""
    overrides = {**overrides, "size": max(clip.size)}
    styles: list[ImageInput] = list(style) if isinstance(style, (list, tuple)) else [cast(ImageInput, style)]
    results: list[np.ndarray] = []
    for first, end in shot_bounds(clip.frames):
        shot = clip.between(first, end)
        earlier: list[np.ndarray] = []
        for index in range(first, end):
            started = time.perf_counter()
            kept = store.load(index, clip.size)
            image = (
                kept
                if kept is not None
                else _stylize_frame(stylizer, shot, earlier, styles, consistency, stop, overrides)
            )
            if stop is not None and stop.stopped:
                return results  # a frame cut short is not a finished frame
            if kept is None:
                store.save(index, image)
            earlier.append(np.asarray(image))
            results.append(earlier[-1])
            if on_frame is not None:
                on_frame(FrameDone(index, len(clip.frames), time.perf_counter() - started, kept is not None))
    return results


def _stylize_frame(
    stylizer: Stylizer,
    clip: Clip,
    results: Sequence[np.ndarray],
    styles: list[ImageInput],
    consistency: Consistency,
    stop: StopToken | None,
    overrides: dict[str, Any],
) -> Image.Image:
    """One frame as a Job: as a still image first (or in independent mode), else from its
    warm start at the output size alone."""
    content = Image.fromarray(clip.frames[len(results)])
    settings = stylizer.given(**overrides)
    if not results or consistency.mode == "independent":
        return Job(settings, content, styles, stop=stop).run(stylizer).image
    start, terms = _warm_start(clip, results, consistency, resolve(settings))
    if terms:
        scale = _loss_of(stylizer, content, styles[0], start, overrides)
        terms = [(name, term, weight * scale) for name, term, weight in terms]
    warm = single_scale(settings, consistency.frame_iterations)
    return Job(warm, content, styles, stop=stop, start=start, extra_terms=terms).run(stylizer).image


def _warm_start(
    clip: Clip, results: Sequence[np.ndarray], consistency: Consistency, settings: Settings
) -> tuple[torch.Tensor, list[tuple[str, TemporalLoss, float]]]:
    """Frame t's starting image (each pixel from the nearest earlier result that saw it, moved
    along the flow; pixels none saw from frame t itself, as a start from the content would
    take it, in the last result's colours under `--init palette`) and its temporal term, if any."""
    index = len(results)
    earlier = 1 if consistency.mode == "warm" else min(consistency.long_term, index)
    frames = clip.flow_frames
    motions = [motion(frames[index], frames[index - k], clip.size) for k in range(1, earlier + 1)]
    warped = torch.cat([_warped(results[index - k], m, settings) for k, m in enumerate(motions, 1)])
    seen = long_term_weights([torch.from_numpy(m.visible)[None] for m in motions])
    now = as_optimised(to_tensor(Image.fromarray(clip.frames[index])), settings)
    palette = start_palette(settings, [to_tensor(Image.fromarray(results[-1]))], [1.0])
    if palette is not None:
        now = recolor(now, *palette)
    start = (seen * warped).sum(0, keepdim=True) + (1 - seen.sum(0, keepdim=True)) * now
    if consistency.mode != "temporal" or consistency.temporal_weight == 0:
        return start, []
    reliable = long_term_weights([torch.from_numpy(m.reliable)[None] for m in motions])
    return start, [("temporal", TemporalLoss(warped, reliable), consistency.temporal_weight)]


@torch.no_grad()
def _loss_of(
    stylizer: Stylizer, content: Image.Image, style: ImageInput, start: torch.Tensor, overrides: dict[str, Any]
) -> float:
    """The content and style loss of the starting image (the first style's, if several): the
    scale the temporal term is weighted against."""
    objective = stylizer.objective(content, style, **overrides)
    return float(objective(start.to(stylizer.device))["total"])


def _warped(result: np.ndarray, moved: Motion, settings: Settings) -> torch.Tensor:
    """An earlier result moved onto the current frame's grid, as the run optimises it."""
    return warp(as_optimised(to_tensor(Image.fromarray(result)), settings), moved.flow).clamp(0, 1)
