"""Shared fixtures: small real images from examples/ and the real SqueezeNet weights built into the package.

Nothing here reads outside the checkout: a clone with nothing beside it runs every test.
"""

import lzma
from importlib.resources import files
from pathlib import Path

import pytest
import torch
from PIL import Image

from impasto.features.registry import REGISTRY

IMAGES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def seeded_torch() -> None:
    """Every test draws the same random tensors whatever ran before it: no test passes by chance."""
    torch.manual_seed(0)


def shrunk(name: str, size: int, folder: Path) -> Path:
    """A copy of an example image with its longest side at `size` px, saved under `folder`."""
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


def squeezenet_file() -> bytes:
    """The real SqueezeNet 1.1 (Caffe) weights file: the package's built-in copy, decompressed."""
    builtin = REGISTRY["squeezenet1_1"].builtin
    assert builtin is not None, "SqueezeNet 1.1 is the network built into the package"
    return lzma.decompress((files("impasto.features") / "builtin" / builtin.resource).read_bytes())


@pytest.fixture(scope="session")
def squeezenet_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SqueezeNet 1.1 (Caffe) weights as a plain .pth file, as a user would name it with --weights."""
    path = tmp_path_factory.mktemp("weights") / "squeezenet1_1-caffe.pth"
    path.write_bytes(squeezenet_file())
    return path
