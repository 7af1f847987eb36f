"""The folder of finished frames (`OUTPUT_frames/`, one PNG per frame) that makes a video
run resumable: frames found there are reused, and a description of the run, kept beside
them, stops a rerun with other options from mixing frames of two different runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from impasto.atomic import write_text_atomic
from impasto.errors import ImpastoError
from impasto.image.io import load_image, save_image

RUN_FILE = "run.json"


class FrameKeeper(Protocol):
    """Where a video run finds its finished frames and keeps the new ones."""

    def load(self, index: int, size: tuple[int, int]) -> Image.Image | None: ...

    def save(self, index: int, image: Image.Image) -> None: ...


class KeptFrames:
    """Frames kept in memory (a Ray worker's, which has no disk of the driver's), by index."""

    def __init__(self, frames: dict[int, Image.Image] | None = None) -> None:
        self.frames = dict(frames or {})

    def load(self, index: int, size: tuple[int, int]) -> Image.Image | None:
        return self.frames.get(index)

    def save(self, index: int, image: Image.Image) -> None:
        self.frames[index] = image


def frames_folder(output: Path) -> Path:
    """`clip_starry.mp4` -> `clip_starry_frames/`, beside the output."""
    return output.with_name(f"{output.stem}_frames")


class FrameStore:
    """Finished frames of one run, `000001.png` ..., written atomically."""

    def __init__(self, folder: Path, run: dict[str, Any]) -> None:
        self.folder = folder
        self.run = json.loads(json.dumps(run))  # as it reads back from disk: lists, not tuples

    def open(self) -> int:
        """Creates the folder (or checks that its frames belong to this run); returns how many frames it holds."""
        if self.folder.exists() and not self.folder.is_dir():
            raise ImpastoError(f"{self.folder} is a file: move it away, the video's frames are kept there")
        self.folder.mkdir(exist_ok=True)
        described = self.folder / RUN_FILE
        if described.exists():
            if _read(described) != self.run:
                raise ImpastoError(
                    f"{self.folder} holds frames of a run with other options: rerun with those options "
                    "to go on, or delete the folder to start afresh"
                )
        else:
            write_text_atomic(described, json.dumps(self.run, indent=1, sort_keys=True))
        for leftover in self.folder.glob(".*.png"):  # temporary files of a write that was killed
            leftover.unlink(missing_ok=True)
        return sum(1 for _ in self.folder.glob("[0-9]*.png"))

    def path(self, index: int) -> Path:
        return self.folder / f"{index + 1:06d}.png"

    def load(self, index: int, size: tuple[int, int]) -> Image.Image | None:
        """Frame `index` (0-based) if it was finished before, else None; one of another
        (width, height) than `size` is an error."""
        path = self.path(index)
        if not path.exists():
            return None
        image = load_image(path)
        if image.size != size:
            width, height = image.size
            raise ImpastoError(f"{path} is {width}x{height}, not the video's size: delete {self.folder}")
        return image

    def save(self, index: int, image: Image.Image) -> None:
        save_image(image, self.path(index))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ImpastoError(f"Cannot read {path} ({error}): delete its folder to start afresh") from error
