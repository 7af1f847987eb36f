"""Hostile or mistaken command lines, each built on the spot in an empty folder, with the one
line of error it must give: naming the file or option and the fix.

`CASES[name](corpus) -> Case`. Unless `after_weights`, the error must come before the
network is built; in every case no file may be created or changed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from corpus.pictures import noise
from PIL import Image

from impasto.defaults import resolve
from impasto.optim.events import Resume
from impasto.optim.optimizers import optimizer_kind
from impasto.record.checkpoint import Checkpoint, save_checkpoint
from impasto.record.provenance import build_record
from impasto.settings import Settings

RUN = ["--model", "squeezenet1_1", "--weights", "random", "--size", "32", "--iterations", "2", "--quiet"]


@dataclass
class Case:
    argv: list[str]
    needles: tuple[str, ...]
    code: int = 1
    after_weights: bool = False
    absent: tuple[str, ...] = ()  # what the line must not say (--overwrite, where it would destroy an input)


@dataclass
class Corpus:
    """An empty folder with a content and a style picture, and a way to build command lines."""

    folder: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        noise(seed=1).save(self.folder / "content.png")
        noise(seed=2).save(self.folder / "style.png")

    def args(
        self, *extra: object, output: str = "out.png", content: str = "content.png", style: str = "style.png"
    ) -> list[str]:
        return [content, style, "-o", output, *RUN, *map(str, extra)]

    def write(self, name: str, data: bytes | str) -> Path:
        """A file of these bytes (or text), named as the command line names it (the folder is the cwd)."""
        (self.folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
        return Path(name)

    def picture(self, name: str) -> Path:
        noise().save(self.folder / name)
        return Path(name)

    def mkdir(self, name: str) -> Path:
        (self.folder / name).mkdir()
        return Path(name)

    def link(self, name: str, target: str) -> Path:
        (self.folder / name).symlink_to(target)
        return Path(name)


def _content(make: Callable[[Corpus], object], *needles: str) -> Callable[[Corpus], Case]:
    """A case whose content image is `bad.png` (or whatever `make` returns) as made by `make`."""

    def build(c: Corpus) -> Case:
        name = make(c) or "bad.png"
        return Case(c.args(content=str(name)), needles)

    return build


def _flags(
    *flags: object, needles: tuple[str, ...], code: int = 1, output: str = "out.png"
) -> Callable[[Corpus], Case]:
    return lambda c: Case(c.args(*flags, output=output), needles, code)


def _with(
    prepare: Callable[[Corpus], object],
    *flags: object,
    needles: tuple[str, ...],
    output: str = "out.png",
    after_weights: bool = False,
) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        prepare(c)
        return Case(c.args(*flags, output=output), needles, after_weights=after_weights)

    return build


def _png_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _truncated_png(c: Corpus, name: str) -> Path:
    whole = io.BytesIO()
    noise(size=(200, 150)).save(whole, "PNG")
    return c.write(name, whole.getvalue()[: len(whole.getvalue()) // 2])


# --- checkpoints: one genuine state, then broken in each way -----------------------------------


def _checkpoint(c: Corpus, **changes: object) -> Case:
    """A checkpoint of a 32 px L-BFGS run of the corpus images with `changes` to its fields."""
    pixels = torch.rand(1, 3, 24, 32)
    optimizer_name = str(changes.pop("optimizer", "lbfgs"))
    state = _optimizer_state(optimizer_name, pixels)
    settings = Settings(model="squeezenet1_1", weights="random", size=32, iterations=2)
    run = {
        "content": str(c.folder / "content.png"),
        "style": [str(c.folder / "style.png")],
        "output": str(c.folder / "out.png"),
        "settings": settings.to_dict(),
        "options": {},
    }
    path = save_checkpoint(c.folder / "saved.ckpt", Checkpoint(Resume(0, 1, pixels, state, 0.5), run, {}))
    payload = torch.load(path, weights_only=True)
    for key, value in changes.items():
        if value is _DROP:
            del payload[key]
        else:
            payload[key] = value
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path.write_bytes(buffer.getvalue())
    return Case(["--resume", "saved.ckpt", "--quiet"], ())


_DROP = object()


def _optimizer_state(name: str, pixels: torch.Tensor) -> dict:
    image = pixels.clone().requires_grad_(True)
    opt = optimizer_kind(name).build(image, 0.1, 5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (image - 0.5).pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return opt.state_dict()


def _resume(needles: tuple[str, ...], **changes: object) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        case = _checkpoint(c, **changes)
        return Case(case.argv, needles)

    return build


def _resume_file(data: bytes, *needles: str) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        c.write("saved.ckpt", data)
        return Case(["--resume", "saved.ckpt"], needles)

    return build


class _Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch pwned",))


# --- replays: one genuine record, then broken in each way ---------------------------------------


def _record(c: Corpus, **changes: object) -> dict:
    settings = Settings(model="squeezenet1_1", weights="random", size=32, iterations=2)
    record = build_record(
        settings,
        c.folder / "content.png",
        [c.folder / "style.png"],
        version="test",
        device="cpu",
        weights_sha256="random",
        resolved=resolve(settings),
    )
    record.update(changes)
    return {k: v for k, v in record.items() if v is not _DROP}


def _replay(make: Callable[[Corpus], object], *needles: str) -> Callable[[Corpus], Case]:
    return lambda c: Case(["--replay", str(make(c)), "--quiet"], needles)


def _replay_png(c: Corpus, **changes: object) -> str:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("impasto", json.dumps(_record(c, **changes)))
    noise().save(c.folder / "made.png", pnginfo=info)
    return "made.png"


# --- weights --------------------------------------------------------------------------------------


def _weights(make: Callable[[Corpus], str], *needles: str) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        argv = c.args()
        argv[argv.index("random")] = str(make(c))
        return Case(argv, needles, after_weights=True)

    return build


def _nan_weights(c: Corpus) -> str:
    from conftest import squeezenet_file

    state = torch.load(io.BytesIO(squeezenet_file()), weights_only=True)
    state["features.3.expand1x1.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, c.folder / "nan-caffe.pth")
    return "nan-caffe.pth"


def _read_only_folder(c: Corpus) -> None:
    folder = c.folder / "locked"
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a read-only file system here")
    c.cleanups.append(lambda: subprocess.run(["umount", str(folder)], check=True))


def _unreadable(name: str) -> Callable[[Corpus], Path]:
    def make(c: Corpus) -> Path:
        if os.geteuid() == 0:
            pytest.skip("root reads any file: no unreadable file to give")
        path = c.write(name, "locked away")
        (c.folder / path).chmod(0)
        c.cleanups.append(lambda: (c.folder / path).chmod(0o600))
        return path

    return make


def _mkfifo(c: Corpus) -> str:
    os.mkfifo(c.folder / "pipe.png")
    return "pipe.png"


def _black_mask(c: Corpus) -> None:
    Image.new("L", (40, 30), 0).save(c.folder / "black.png")


def _hard_link(c: Corpus) -> None:
    os.link(c.folder / "content.png", c.folder / "alias.png")
