"""Short real-looking clips the video tests make for themselves (H.264 MP4, 320x240, 15 fps, 30 frames),
cut from the example images so that nothing beside the checkout is needed:

- `pan`: a camera moving across the Tübingen photo (global motion, fine texture);
- `box`: a print of the Tübingen photo slid over a still of The Shipwreck (a large object moving, disocclusion);
- `walkers`: five small figures crossing a still of The Scream at different speeds, passing in front of
  each other (small moving objects, occlusion).

Each is one shot; any two are different scenes, so joining them makes real cuts.
"""

import math
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from conftest import IMAGES
from PIL import Image

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 15, 30


def example(name: str, width: int, height: int) -> np.ndarray:
    """An example image scaled to cover width x height and cropped there from its centre (H, W, 3 uint8)."""
    image = Image.open(IMAGES / name).convert("RGB")
    scale = max(width / image.width, height / image.height)
    image = image.resize((math.ceil(image.width * scale), math.ceil(image.height * scale)), Image.LANCZOS)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return np.asarray(image.crop((left, top, left + width, top + height)))


def pan() -> list[np.ndarray]:
    """A window sliding 4 px right and 2 px down per frame across the photo."""
    photo = example("tubingen.jpg", WIDTH + 4 * FRAMES, HEIGHT + 2 * FRAMES)
    return [photo[2 * i : 2 * i + HEIGHT, 4 * i : 4 * i + WIDTH].copy() for i in range(FRAMES)]


def box() -> list[np.ndarray]:
    """A 112x84 print moving 5 px right per frame along a gentle curve over a still background."""
    table, card = example("shipwreck.jpg", WIDTH, HEIGHT), example("tubingen.jpg", 112, 84)
    frames = []
    for i in range(FRAMES):
        frame = table.copy()
        x, y = 20 + 5 * i, 70 + round(30 * math.sin(i / 6))
        frame[y : y + 84, x : x + 112] = card
        frames.append(frame)
    return frames


def walkers() -> list[np.ndarray]:
    """Five 12x30 figures (each a body and a head of its own colours) crossing the still both ways."""
    scene = example("the_scream.jpg", WIDTH, HEIGHT)
    figures = [(10, 150, 3, (200, 40, 40)), (300, 160, -4, (30, 60, 170)), (60, 140, 2, (240, 230, 210)),
               (250, 155, -2, (20, 20, 20)), (120, 170, 5, (60, 150, 60))]  # fmt: skip
    frames = []
    for i in range(FRAMES):
        frame = scene.copy()
        for start, top, speed, colour in figures:
            x = start + speed * i
            frame[top + 8 : top + 30, x : x + 12] = colour  # the body
            frame[top : top + 8, x + 3 : x + 9] = (225, 180, 150)  # the head
        frames.append(frame)
    return frames


CLIPS: dict[str, Callable[[], list[np.ndarray]]] = {"pan": pan, "box": box, "walkers": walkers}


def write_mp4(frames: list[np.ndarray], path: Path) -> Path:
    """`frames` as an H.264 MP4 at FPS, as a camera or an editor would write it."""
    writer = imageio_ffmpeg.write_frames(str(path), (WIDTH, HEIGHT), fps=FPS, codec="libx264", quality=8)
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"pan" | "box" | "walkers": the clip's MP4}, made once per session."""
    folder = tmp_path_factory.mktemp("clips")
    return {name: write_mp4(make(), folder / f"{name}.mp4") for name, make in CLIPS.items()}
