"""The folder of finished frames (`OUTPUT_frames/`, one PNG per frame) that makes a video
run resumable: frames found there are reused, and a description of the run, kept beside
them, stops a rerun with other options, or with an input that has changed since (the
inputs count by the SHA-256 of their content), from mixing frames of two different runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from impasto.atomic import write_text_atomic
from impasto.engine.preflight import mask_checksums
from impasto.errors import ImpastoError
from impasto.features.weights import weights_sha256
from impasto.image.io import load_image, save_image
from impasto.settings import Settings

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


def input_checksums(video: str, styles: Sequence[str], settings: Settings) -> dict[str, str]:
    """The SHA-256 of each input a run's frames are made from, by key: `video` (of its chosen
    frames as decoded), `style N`, `content_mask N`, `style_mask N` and `weights`."""
    sums = {"video": video, **{f"style {i + 1}": s for i, s in enumerate(styles)}, **mask_checksums(settings)}
    return {**sums, "weights": weights_sha256(settings.model, settings.weights)}


class FrameStore:
    """Finished frames of one run, `000001.png` ..., written atomically. `names` names the
    run's inputs (the keys of its description's `inputs`) in messages."""

    def __init__(self, folder: Path, run: dict[str, Any], names: Mapping[str, str] | None = None) -> None:
        self.folder = folder
        self.run = json.loads(json.dumps(run))  # as it reads back from disk: lists, not tuples
        self.names = dict(names or {})

    def check(self) -> None:
        """Before any work, changing nothing: the folder is missing or holds this run's frames,
        not a file, another run's frames, frames of inputs since changed, or a user's files."""
        if not self.folder.exists():
            return
        if not self.folder.is_dir():
            raise ImpastoError(f"{self.folder} is a file: move it away, the video's frames are kept there")
        described = self.folder / RUN_FILE
        if described.exists():
            self._check(_read(described))
        elif any(self.folder.iterdir()):
            raise ImpastoError(
                f"{self.folder} holds files that are not a video run's frames: move them away, or choose another "
                "--output (its frames are kept in OUTPUT_frames)"
            )

    def open(self) -> int:
        """Creates the folder (after `check`); returns how many frames it holds."""
        self.check()
        self.folder.mkdir(exist_ok=True)
        described = self.folder / RUN_FILE
        if not described.exists():
            write_text_atomic(described, json.dumps(self.run, indent=1, sort_keys=True))
        for leftover in self.folder.glob(".*.png"):  # temporary files of a write that was killed
            leftover.unlink(missing_ok=True)
        return sum(1 for _ in self.folder.glob("[0-9]*.png"))

    def _check(self, kept: Any) -> None:
        """Frames of another run, or made from inputs that have changed since, are not reused."""
        if kept == self.run:
            return
        ours, theirs = self.run.get("inputs", {}), kept.get("inputs") if isinstance(kept, dict) else None
        options = {k: v for k, v in self.run.items() if k != "inputs"}
        if isinstance(theirs, dict) and options == {k: v for k, v in kept.items() if k != "inputs"}:
            changed = next((k for k in ours if theirs.get(k) != ours[k]), None) or next(iter(theirs), "video")
            raise ImpastoError(
                f"{self.folder} holds frames made from another version of {self.names.get(changed, changed)} "
                "(it has changed since): delete the folder to start afresh, or restore the file to go on"
            )
        raise ImpastoError(
            f"{self.folder} holds frames of a run with other options: rerun with those options "
            "to go on, or delete the folder to start afresh"
        )

    def path(self, index: int) -> Path:
        return self.folder / f"{index + 1:06d}.png"

    def load(self, index: int, size: tuple[int, int]) -> Image.Image | None:
        """Frame `index` (0-based) if it was finished before, else None; one of another
        (width, height) than `size` is an error."""
        path = self.path(index)
        if not path.exists():
            return None
        try:
            image = load_image(path, "kept frame")
        except ImpastoError as error:  # impasto's own file, damaged since: what is wrong, without the reader's fix
            raise ImpastoError(
                f"{str(error).rsplit(': ', 1)[0]}: delete it and rerun, which makes that frame again "
                f"(or delete {self.folder} to start afresh)"
            ) from None
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
