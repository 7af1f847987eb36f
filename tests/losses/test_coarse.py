"""The coarse style term of a style scale above 1: it asks for strokes as many times larger as the
scale says, it is absent at a scale of 1 or below and where the shrunk photo is too small for the
network, and a run lowers it."""

import logging
import math

import numpy as np
import pytest
import torch
from PIL import Image

from impasto import Settings, Stylizer, stylize
from impasto.image.io import to_tensor
from impasto.losses.coarse import shrink


def stripes(side: int, period: float) -> Image.Image:
    """A square of soft blue and yellow vertical stripes, `period` px apart."""
    x = torch.arange(side, dtype=torch.float32)
    wave = (0.5 + 0.5 * torch.sin(2 * math.pi * x / period)).expand(side, side)
    blue, yellow = torch.tensor([0.1, 0.2, 0.7]), torch.tensor([0.9, 0.8, 0.2])
    pixels = blue[:, None, None] * (1 - wave) + yellow[:, None, None] * wave
    return Image.fromarray((pixels.permute(1, 2, 0) * 255).round().byte().numpy())


@pytest.fixture(scope="module")
def stylizer(squeezenet_weights) -> Stylizer:
    return Stylizer(Settings(model="squeezenet1_1", weights=str(squeezenet_weights)))


def test_shrinking_scales_the_sides_and_keeps_the_colours():
    image = torch.rand(1, 3, 40, 30)
    small = shrink(image, 0.5)
    assert small.shape[-2:] == (20, 15)
    assert small.mean().item() == pytest.approx(image.mean().item(), abs=0.01)
    flat = torch.full((1, 3, 40, 30), 0.3)
    assert torch.allclose(shrink(flat, 0.5), torch.full((1, 3, 20, 15), 0.3))


def test_at_style_scale_2_the_coarse_term_prefers_strokes_twice_as_wide(stylizer):
    artwork = stripes(256, 32)  # at style scale 2 and size 64 it is read at 128 px: stripes 16 px apart
    objective = stylizer.objective(stripes(64, 16), artwork, size=64, style_scale=2)
    coarse = {period: objective(to_tensor(stripes(64, period), "cpu"))["style-coarse"].item() for period in (8, 16)}
    assert coarse[16] < 0.5 * coarse[8]


@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_no_coarse_term_at_a_style_scale_of_1_or_below(stylizer, scale):
    objective = stylizer.objective(stripes(64, 16), stripes(128, 16), size=64, style_scale=scale)
    assert [term.name for term in objective.terms] == ["content", "style", "tv"]


def test_no_coarse_term_where_the_shrunk_photo_is_too_small_for_the_network(stylizer):
    objective = stylizer.objective(stripes(64, 16), stripes(256, 16), size=24, style_scale=4)
    assert "style-coarse" not in [term.name for term in objective.terms]


def test_a_run_at_style_scale_2_lowers_the_coarse_term(stylizer, content_path, style_path):
    events = []
    stylizer.run(content_path, style_path, size=64, iterations=20, style_scale=2, callback=events.append)
    assert events[-1].losses["style-coarse"] < 0.7 * events[0].losses["style-coarse"]


def test_a_tiled_run_evaluates_the_coarse_term_whole_and_paints_the_same_image(
    content_path, style_path, squeezenet_weights, caplog
):
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        iterations=4,
        precision="fp32",
        style_loss="gram-relative",
        style_scale=2,
    )
    whole = np.asarray(stylize(content_path, style_path, settings), float)
    with caplog.at_level(logging.WARNING, logger="impasto"):
        tiled = np.asarray(
            stylize(content_path, style_path, Settings(**{**settings.to_dict(), "max_memory": 0.004})), float
        )
    assert "tiles of" in caplog.text
    assert np.abs(tiled - whole).max() <= 2
