"""The Ray backend of `impasto video`: each shot of the clip (see `shot_bounds`) runs on a
worker of a StylizerPool, shots in parallel; finished frames come back as PNG bytes and are
kept on disk here, by the driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from impasto.apps.ray_pool import PoolResult, StylizerPool, decode, encode_png
from impasto.apps.video.io import Clip
from impasto.apps.video.shots import shot_bounds
from impasto.apps.video.store import FrameStore, KeptFrames
from impasto.apps.video.stylize import Consistency, FrameDone, stylize_frames
from impasto.engine import Stylizer
from impasto.errors import ImpastoError


@dataclass(frozen=True)
class ShotJob:
    """One shot to stylise on a worker: its frames, the styles as encoded bytes, the frames
    of it finished before (PNG bytes by index within the shot) and the run's options. `key`
    is the shot's (first, end) frame indices in the clip."""

    clip: Clip
    styles: tuple[bytes, ...]
    consistency: Consistency
    kept: Mapping[int, bytes] = field(default_factory=dict)
    key: Any = None

    def run(self, stylizer: Stylizer) -> PoolResult:
        """Every frame of the shot, as PNG bytes."""
        store = KeptFrames({index: decode(png) for index, png in self.kept.items()})
        styles = [decode(style) for style in self.styles]
        frames = stylize_frames(stylizer, self.clip, styles, store, self.consistency)
        return PoolResult(self.key, frames=tuple(encode_png(Image.fromarray(frame)) for frame in frames))


def stylize_shots_on_ray(
    pool: StylizerPool,
    clip: Clip,
    styles: Sequence[Image.Image],
    store: FrameStore,
    consistency: Consistency,
    *,
    on_frame: Callable[[FrameDone], None] | None = None,
) -> list[np.ndarray]:
    """Stylises the clip's shots on the pool's workers, keeps each shot's frames in `store`
    as it comes back, and returns every frame in order. Shots whose frames are all in
    `store` are not sent; a shot partly done goes on from its kept frames."""
    frames: dict[int, np.ndarray] = {}
    encoded_styles = tuple(encode_png(style) for style in styles)

    def shots() -> Iterator[ShotJob]:
        for first, end in shot_bounds(clip.frames):
            loaded = {index - first: store.load(index, clip.size) for index in range(first, end)}
            kept = {index: image for index, image in loaded.items() if image is not None}
            if len(kept) == end - first:
                _collect(
                    first, [np.asarray(kept[i]) for i in range(end - first)], True, frames, on_frame, len(clip.frames)
                )
                continue
            pngs = {index: encode_png(image) for index, image in kept.items()}
            yield ShotJob(clip.between(first, end), encoded_styles, consistency, pngs, (first, end))

    for result in pool.map(shots()):
        first, end = result.key
        if result.error is not None:
            raise ImpastoError(f"frames {first + 1}-{end} failed on a Ray worker: {result.error}")
        shot = [np.asarray(decode(png)) for png in result.frames]
        for index, frame in enumerate(shot, first):
            if not store.path(index).exists():
                store.save(index, Image.fromarray(frame))
        _collect(first, shot, False, frames, on_frame, len(clip.frames), result.seconds / max(1, len(shot)))
    return [frames[index] for index in range(len(clip.frames))]


def _collect(
    first: int,
    shot: Sequence[np.ndarray],
    reused: bool,
    frames: dict[int, np.ndarray],
    on_frame: Callable[[FrameDone], None] | None,
    total: int,
    seconds: float = 0.0,
) -> None:
    """Files a shot's frames under their clip indices and reports each one."""
    for index, frame in enumerate(shot, first):
        frames[index] = frame
        if on_frame is not None:
            on_frame(FrameDone(index, total, seconds, reused))
