"""What a Ray worker runs: one Stylizer, loaded once, turning jobs sent as bytes into PNG bytes."""

from __future__ import annotations

import dataclasses
import io
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image

from impasto import __version__
from impasto.apps.tally import RunTally
from impasto.engine import Job, Stylizer
from impasto.errors import ImpastoError
from impasto.settings import Settings


class Task(Protocol):
    """Work a pool can run: anything with a `key` whose `run` turns a worker's Stylizer into a
    PoolResult (a still image is a PoolJob; a video's shot is another kind)."""

    @property
    def key(self) -> Any: ...  # read-only, so that frozen dataclasses qualify

    def run(self, stylizer: Stylizer) -> PoolResult: ...


@dataclass(frozen=True)
class PoolJob:
    """A stylisation to run: encoded images (PNG, JPEG, ...), Settings overrides, and the
    caller's `key`, handed back with the result."""

    content: bytes
    styles: tuple[bytes, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    key: Any = None

    def run(self, stylizer: Stylizer) -> PoolResult:
        """The stylised image as PNG bytes, with its final weighted losses: one engine `Job`."""
        tally = RunTally()
        styles = [decode(style) for style in self.styles]
        finish = Job(stylizer.given(**self.overrides), decode(self.content), styles, [tally]).run(stylizer)
        return PoolResult(self.key, png=encode_png(finish.image), losses=tally.losses)


@dataclass(frozen=True)
class PoolResult:
    """A job's result as PNG bytes with its final weighted losses, or its one-line error."""

    key: Any
    png: bytes | None = None
    frames: tuple[bytes, ...] = ()  # a video shot's frames, as PNG bytes
    losses: Mapping[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = ""
    error: str | None = None
    attempts: int = 1


def one_line(error: BaseException) -> str:
    """The error as one line: its own message for an ImpastoError, else its type and message."""
    text = " ".join(str(error).split())
    return text if isinstance(error, ImpastoError) else f"{type(error).__name__}: {text}"


def decode(data: bytes) -> Image.Image:
    """Encoded image bytes as an RGB image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def encode_png(image: Image.Image) -> bytes:
    """An image as PNG bytes (lossless, quickly compressed) to send to or from a worker."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class StylizerWorker:
    """The body of one Ray actor: a Stylizer loaded once, from the driver's settings and
    weights bytes. A failure to load is kept and reported by `ready`, not raised, so the
    driver can show it as one line."""

    def __init__(
        self, settings: dict[str, Any], weights_name: str | None, weights: bytes | None, threads: int | None
    ) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.stylizer: Stylizer | None = None
        self.error: str | None = None
        try:
            with tempfile.TemporaryDirectory(prefix="impasto-worker-") as folder:
                chosen = Settings.from_dict(settings)
                if weights is not None:  # under its own name, which may tell its format ('*caffe*')
                    path = Path(folder) / (weights_name or "weights.pth")
                    path.write_bytes(weights)
                    chosen = dataclasses.replace(chosen, weights=str(path))
                self.stylizer = Stylizer(chosen)  # reads the weights once, now
        except Exception as error:  # reported to the driver by ready()
            self.error = one_line(error)

    def ready(self) -> dict[str, Any]:
        """The worker's impasto version, device, weights checksum, and any error from loading."""
        if self.stylizer is None:
            return {"version": __version__, "error": self.error}
        return {
            "version": __version__,
            "device": str(self.stylizer.device),
            "weights_sha256": self.stylizer.weights_sha256,
            "error": None,
        }

    def run(self, task: Task) -> PoolResult:
        """Runs one task; a bad input or setting comes back as the result's error."""
        if self.stylizer is None:
            return PoolResult(task.key, error=f"the worker could not start: {self.error}")
        device = str(self.stylizer.device)
        began = time.perf_counter()
        try:
            result = task.run(self.stylizer)
        except Exception as error:  # one failed task must not end the worker
            return PoolResult(task.key, error=one_line(error), device=device)
        return dataclasses.replace(result, seconds=time.perf_counter() - began, device=device)
