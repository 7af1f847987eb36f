"""Intermediate images: saved to a folder every K iterations, sampled in memory, and
made into a GIF or MP4 of the image evolving from the start to the result."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from impasto.atomic import replacing
from impasto.errors import ImpastoError
from impasto.image.io import save_image
from impasto.optim.callbacks import Callback, Finish
from impasto.optim.events import Iterate
from impasto.planned import Planned

ANIMATION_SUFFIXES = (".gif", ".mp4")
MAX_FRAMES = 60
"""The in-memory sampler keeps at most this many frames (it thins them as the run grows)."""
MAX_FRAME_SIDE = 512
"""Sampled frames are shrunk to at most this longest side (bounded memory, sane GIF sizes)."""
FPS = 10
HOLD_SECONDS = 2.0
"""How long the animation rests on the final image."""


def frames_folder(output: str | os.PathLike[str]) -> Path:
    """`out.png` -> `out_frames/`, beside the output."""
    path = Path(output)
    return path.with_name(f"{path.stem}_frames")


def frame_name(it: Iterate) -> str:
    """Sortable names: `0000.png`, or `s1-0000.png` ... when there are several scales."""
    digits = max(4, len(str(it.iterations)))
    prefix = f"s{it.scale + 1}-" if it.scales > 1 else ""
    return f"{prefix}{it.iteration:0{digits}d}.png"


class FrameSaver(Callback):
    """Saves the current image every `every` iterations (and the first and last) into a folder."""

    def __init__(
        self, folder: Path, every: int, png_text: Callable[[], dict[str, str]] | None = None, replace: bool = True
    ) -> None:
        if every < 1:
            raise ImpastoError(f"save_every must be at least 1, got {every}", "save_every")
        self.folder = folder
        self.every = every
        self.png_text = png_text or dict
        self.replace = replace
        self.saved = 0

    def outputs(self) -> list[Planned]:
        return [Planned(self.folder, "save_every", "the frames folder", folder=True)]

    def on_iterate(self, it: Iterate) -> None:
        if it.iteration % self.every and it.iteration != it.iterations:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        save_image(it.image(), self.folder / frame_name(it), png_text=self.png_text(), replace=self.replace)
        self.saved += 1

    def on_finish(self, finish: Finish) -> None:
        finish.written.append(self.folder)


class FrameSampler(Callback):
    """Keeps every `stride`-th image in memory, doubling the stride (and dropping every
    other frame) whenever more than `max_frames` would be kept; the run's last image is
    added by `finish`. Frames are counted over all scales."""

    state_key = "sampler"

    def __init__(self, stride: int = 1, max_frames: int = MAX_FRAMES) -> None:
        self.stride = max(1, stride)
        self.max_frames = max(2, max_frames)
        self.frames: list[tuple[int, np.ndarray]] = []
        self.count = 0
        self.last: Iterate | None = None

    def on_iterate(self, it: Iterate) -> None:
        self.last = it
        if self.count % self.stride == 0:
            self.frames.append((self.count, _shrunk(it.image())))
            if len(self.frames) > self.max_frames:
                self.stride *= 2
                self.frames = [(n, f) for n, f in self.frames if n % self.stride == 0]
        self.count += 1

    def finish(self, final: Image.Image | None = None) -> list[np.ndarray]:
        """The sampled frames, ending with `final` (or the last image seen), all one size."""
        frames = [f for n, f in self.frames if n != self.count - 1]
        if final is not None:
            frames.append(_shrunk(final))
        elif self.last is not None:
            frames.append(_shrunk(self.last.image()))
        return _same_size(frames)

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps to go on sampling after a resume."""
        return {"stride": self.stride, "count": self.count, "frames": [(n, f.copy()) for n, f in self.frames]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stride, self.count = int(state["stride"]), int(state["count"])
        self.frames = [(int(n), np.asarray(f)) for n, f in state["frames"]]


class Animation(FrameSampler):
    """Samples the run's images (every `stride`-th at first) and writes them as a GIF or MP4
    when it finishes, ending on the result (or the last image of an interrupted run)."""

    def __init__(self, path: str, stride: int = 1, replace: bool = False) -> None:
        super().__init__(stride)
        self.path, self.replace = path, replace

    def outputs(self) -> list[Planned]:
        return [Planned(check_animation_path(self.path), "animate", "the animation")]

    def on_finish(self, finish: Finish) -> None:
        finish.written.append(write_animation(self.finish(finish.image), self.path, replace=self.replace))


def _shrunk(image: Image.Image) -> np.ndarray:
    image = image.copy()
    image.thumbnail((MAX_FRAME_SIDE, MAX_FRAME_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(image.convert("RGB"))


def _same_size(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Frames from several scales resized to the last frame's size (MP4 wants even sides)."""
    if not frames:
        return []
    height, width = frames[-1].shape[:2]
    size = (width - width % 2 or 2, height - height % 2 or 2)
    return [
        f if (f.shape[1], f.shape[0]) == size else np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS))
        for f in frames
    ]


def check_animation_path(path: str | os.PathLike[str]) -> Path:
    """A .gif or .mp4 path in an existing folder."""
    target = Path(path)
    if target.suffix.lower() not in ANIMATION_SUFFIXES:
        raise ImpastoError(f"animate {target}: use a .gif or .mp4 file name", "animate")
    if not target.parent.is_dir():
        raise ImpastoError(f"animate {target}: folder {target.parent} does not exist; create it first", "animate")
    return target


def write_animation(
    frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float = FPS, replace: bool = True
) -> Path:
    """Writes a GIF (the last frame shown HOLD_SECONDS) or an H.264 MP4 (the last frame
    repeated for HOLD_SECONDS), atomically (never over an existing file unless `replace`)."""
    import imageio.v3 as iio  # imported here: only animations need it

    target = check_animation_path(path)
    if not frames:
        raise ImpastoError(f"animate {target}: no frames were recorded", "animate")
    suffix = target.suffix.lower()
    with replacing(target, suffix, replace) as temp:
        if suffix == ".gif":
            durations = [1000 / fps] * (len(frames) - 1) + [1000 * HOLD_SECONDS]
            # one frame (a run stopped at its first image) is a still GIF: Pillow takes no list for it
            duration = durations if len(frames) > 1 else durations[0]
            iio.imwrite(temp, np.stack(frames), extension=".gif", duration=duration, loop=0)
        else:
            held = list(frames) + [frames[-1]] * round(fps * HOLD_SECONDS)
            iio.imwrite(temp, np.stack(held), plugin="FFMPEG", fps=fps, macro_block_size=2)
    return target
