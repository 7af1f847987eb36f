"""Reading frames from a video (resampled to square pixels, so the result keeps the shape the
input is shown at), and writing frames as an MP4 (H.264, with the input's audio copied
across) or a GIF, atomically. Uses the ffmpeg binary of imageio-ffmpeg."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import subprocess
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
from PIL import Image

from impasto.atomic import replacing
from impasto.errors import ImpastoError

VIDEO_SUFFIXES = (".mp4", ".gif")


FLOW_DETAIL = 2.0
"""Optical flow is found on frames this many times the output's size (at most the input's)."""


@dataclass(frozen=True)
class Clip:
    """The frames chosen from a video, resized, and what is needed to write them back."""

    frames: list[np.ndarray]  # (H, W, 3) uint8 RGB at the output size, even sides (H.264 wants them)
    flow_frames: list[np.ndarray]  # the same frames, larger where the input allows, for optical flow
    fps: float  # the output's frame rate: the input's, divided by the subsampling step
    source: Path
    start_seconds: float  # where the chosen frames begin in the input
    has_audio: bool
    digest: str = ""  # SHA-256 of the chosen frames as decoded: what a run's kept frames were made from

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the output frames."""
        return self.frames[0].shape[1], self.frames[0].shape[0]

    def between(self, first: int, end: int) -> Clip:
        """Frames `first` to `end` (exclusive) as a clip of their own."""
        return dataclasses.replace(self, frames=self.frames[first:end], flow_frames=self.flow_frames[first:end])


@dataclass(frozen=True)
class Cut:
    """Which frames to take: from index `start` (0-based), every `every`-th, at most `count`."""

    start: int = 0
    count: int | None = None
    every: int = 1

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ImpastoError(f"--start must be zero or positive, got {self.start}")
        if self.count is not None and self.count < 1:
            raise ImpastoError(f"--frames must be at least 1, got {self.count}")
        if self.every < 1:
            raise ImpastoError(f"--every must be at least 1, got {self.every}")

    def takes(self, index: int) -> bool:
        return index >= self.start and (index - self.start) % self.every == 0


def output_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """The (width, height) of frames scaled to `longest`, each side rounded to an even number."""
    scale = longest / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _decoded(path: Path) -> Generator[Any, None, None]:
    """imageio-ffmpeg's reader (its metadata dict first, then raw RGB frames as bytes), with one-line errors."""
    if not path.is_file():
        raise ImpastoError(f"Input video not found: {path}: check the path")
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        yield next(reader)
        yield from reader
    except (OSError, RuntimeError, StopIteration) as error:
        message = (str(error).strip().splitlines() or [type(error).__name__])[-1][-160:]
        raise ImpastoError(
            f"Cannot read video {path} ({message}): give a video file ffmpeg can decode, such as an MP4"
        ) from error
    finally:
        reader.close()


def pixel_aspect(path: Path) -> float:
    """The video's sample (pixel) aspect ratio, width over height: 1 for square pixels, 2 for
    pixels shown twice as wide as tall (ffmpeg's "SAR 2:1"); 1 when ffmpeg names none."""
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True)
    streams = [line for line in probe.stderr.decode(errors="replace").splitlines() if " Video: " in line]
    found = re.search(r"\[SAR (\d+):(\d+) DAR", streams[0]) if streams else None
    numerator, denominator = (int(found[1]), int(found[2])) if found else (1, 1)
    return numerator / denominator if numerator and denominator else 1.0


def read_clip(path: str | os.PathLike[str], size: int, cut: Cut = Cut()) -> Clip:
    """The frames `cut` picks from the video at `path`, in square pixels at the shape the
    video is shown at, their longest side about `size`."""
    source = Path(path)
    decoded = _decoded(source)
    meta = next(decoded)
    width, height = meta["size"]
    fps = float(meta.get("fps") or 0) or 25.0
    shown_width = max(1, round(width * pixel_aspect(source)))  # pixels as wide as the player shows them
    shown = output_size(shown_width, height, size)
    detail = output_size(shown_width, height, min(max(shown_width, height), round(max(shown) * FLOW_DETAIL)))
    frames: list[np.ndarray] = []
    flow_frames: list[np.ndarray] = []
    digest = hashlib.sha256(f"{width}x{height}".encode())
    with contextlib.closing(decoded):
        for index, raw in enumerate(decoded):
            if cut.count is not None and len(frames) == cut.count:
                break
            if cut.takes(index):
                digest.update(raw)
                frame = Image.fromarray(np.frombuffer(raw, np.uint8).reshape(height, width, 3))
                frames.append(np.asarray(frame.resize(shown, Image.Resampling.LANCZOS)))
                larger = frame.resize(detail, Image.Resampling.LANCZOS) if detail != shown else None
                flow_frames.append(frames[-1] if larger is None else np.asarray(larger))
    if not frames:
        raise ImpastoError(f"{source} has no frames from --start {cut.start} (it is shorter than that): lower --start")
    audio = bool(meta.get("audio_codec"))
    return Clip(frames, flow_frames, fps / cut.every, source, cut.start / fps, audio, digest.hexdigest())


def check_video_path(path: str | os.PathLike[str]) -> Path:
    """An .mp4 or .gif output path in an existing folder (the shared pre-flight checks the rest)."""
    target = Path(path)
    if target.suffix.lower() not in VIDEO_SUFFIXES:
        raise ImpastoError(f"Cannot write {target}: give the output an .mp4 or .gif name")
    if not target.parent.is_dir():
        raise ImpastoError(f"Cannot write {target}: folder {target.parent} does not exist; create it first")
    return target


def gif_delays(fps: float, count: int) -> list[int]:
    """Each frame's delay in ms for a GIF at `fps`: GIF counts in hundredths of a second, so
    the delays are whole hundredths that alternate (37.3 ms: 40, 40, 30, ...) to keep the
    running time to within 10 ms; never under 20 ms, which players slow to 100 ms."""
    ends = [round(100 * (i + 1) / fps) for i in range(count)]
    return [max(2, end - start) * 10 for start, end in zip([0, *ends], ends)]


def write_video(frames: Sequence[np.ndarray], path: Path, clip: Clip) -> Path:
    """Writes `frames` at the clip's frame rate to `path` (.mp4 or .gif), atomically; an
    MP4 gets the input's audio from where the clip starts, for as long as the frames last."""
    suffix = path.suffix.lower()
    try:
        with replacing(path, suffix) as temp:
            if suffix == ".gif":
                delays = gif_delays(clip.fps, len(frames))
                iio.imwrite(temp, np.stack(frames), extension=".gif", duration=delays, loop=0)
            elif clip.has_audio:
                silent = temp.with_name(f"{temp.name}.video.mp4")
                try:
                    _write_mp4(frames, silent, clip.fps)
                    _mux_audio(silent, clip, len(frames) / clip.fps, temp)
                finally:
                    silent.unlink(missing_ok=True)
            else:
                _write_mp4(frames, temp, clip.fps)
    except OSError as error:
        raise ImpastoError(f"Could not write {path} ({error}): check free space and permissions") from error
    return path


def _write_mp4(frames: Sequence[np.ndarray], path: Path, fps: float) -> None:
    height, width = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=8, macro_block_size=2
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _mux_audio(video: Path, clip: Clip, seconds: float, output: Path) -> None:
    """Copies the input's audio (from the clip's start, `seconds` long) beside `video`'s stream."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(video),
        "-ss", f"{clip.start_seconds:.6f}", "-t", f"{seconds:.6f}", "-i", str(clip.source),
        "-map", "0:v", "-map", "1:a?", "-c", "copy", "-shortest", "-f", "mp4", str(output),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:  # an audio codec MP4 cannot hold as it is: re-encode it as AAC
        at = command.index("-c")
        command[at : at + 2] = ["-c:v", "copy", "-c:a", "aac"]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise ImpastoError(
            f"Could not copy the audio of {clip.source} ({' '.join(done.stderr.split())[-200:]}): write a .gif, or remove the "
            "clip's audio with ffmpeg -an first"
        )
