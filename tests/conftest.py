"""Shared fixtures: small real images from ../shared/images and the real SqueezeNet weights."""

from pathlib import Path

import pytest
import torch
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared"
IMAGES = SHARED / "images"
SQUEEZENET_WEIGHTS = SHARED / "models" / "squeezenet1_1-caffe.pth"


@pytest.fixture(autouse=True)
def seeded_torch() -> None:
    """Every test draws the same random tensors whatever ran before it: no test passes by chance."""
    torch.manual_seed(0)


def shrunk(name: str, size: int, folder: Path) -> Path:
    """A copy of a shared image with its longest side at `size` px, saved under `folder`."""
    image = Image.open(IMAGES / name).convert("RGB")
    image.thumbnail((size, size), Image.LANCZOS)
    path = folder / f"{Path(name).stem}_{size}.png"
    image.save(path)
    return path


@pytest.fixture
def content_path(tmp_path: Path) -> Path:
    return shrunk("tubingen.jpg", 80, tmp_path)


@pytest.fixture
def style_path(tmp_path: Path) -> Path:
    return shrunk("starry_night.jpg", 80, tmp_path)


@pytest.fixture
def squeezenet_weights() -> Path:
    if not SQUEEZENET_WEIGHTS.exists():
        pytest.skip("the real SqueezeNet weights are not beside the repo")
    return SQUEEZENET_WEIGHTS
