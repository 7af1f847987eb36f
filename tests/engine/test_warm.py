"""`impasto.engine.warm`: the engine's starting rules as an app that makes its own start (the
video) applies them, checked against what the engine itself does."""

import dataclasses

import pytest
import torch

from impasto import Settings
from impasto.defaults import resolve
from impasto.engine import Iterate, Job, Stylizer
from impasto.engine.pyramid import Pyramid
from impasto.engine.targets import scale_inputs
from impasto.engine.warm import as_optimised, single_scale, start_palette
from impasto.image.color import recolor
from impasto.image.io import load_image, resize_longest, to_tensor

SIZE = 48


def first_pixels(settings: Settings, content_path, style_path) -> torch.Tensor:
    """The pixels a run starts from: those of its first evaluation (iteration 0)."""
    seen: list[Iterate] = []
    Job(settings, content_path, [style_path], [seen.append]).run(Stylizer(settings))
    assert seen[0].iteration == 0 and seen[0].pixels is not None
    return seen[0].pixels


@pytest.mark.parametrize("init", ["palette", "content"])
def test_a_start_from_the_content_takes_the_colours_the_engine_gives_it(init, content_path, style_path):
    settings = Settings(model="squeezenet1_1", weights="random", size=SIZE, scales=1, iterations=1, init=init)
    content = to_tensor(resize_longest(load_image(content_path), SIZE))
    style = to_tensor(resize_longest(load_image(style_path), SIZE))
    palette = start_palette(resolve(settings), [style], [1.0])
    assert (palette is None) == (init != "palette")
    expected = content if palette is None else recolor(content, *palette)
    assert torch.allclose(first_pixels(settings, content_path, style_path), expected, atol=1e-6)


def test_preserved_colours_take_no_palette():
    for kept in ("luminance", "histogram"):
        settings = Settings(model="squeezenet1_1", init="palette", preserve_color=kept)
        assert start_palette(settings, [torch.rand(1, 3, 8, 8)], [1.0]) is None


@pytest.mark.parametrize("kept", ["luminance", "none"])
def test_as_optimised_is_the_content_the_engine_optimises_against(kept, content_path, style_path):
    settings = resolve(Settings(model="squeezenet1_1", size=SIZE, preserve_color=kept))
    content, style = load_image(content_path), load_image(style_path)
    engine = scale_inputs(content, [style], SIZE, settings, torch.device("cpu")).content
    assert torch.equal(as_optimised(to_tensor(resize_longest(content, SIZE)), settings), engine)
    assert torch.equal(engine[:, 0], engine[:, 2]) == (kept == "luminance")  # grey only under luminance


def test_single_scale_runs_once_at_the_output_size():
    given = Settings(model="squeezenet1_1", size=128, scales=3, min_size=32, iterations=40, scale_iterations=(5, 5, 30))
    assert len(Pyramid.of(resolve(given))) == 3
    for iterations, expected in ((None, 40), (7, 7)):
        pyramid = Pyramid.of(resolve(single_scale(given, iterations)))
        assert (pyramid.sizes, pyramid.iterations) == ([128], [expected])
    assert single_scale(given) == dataclasses.replace(
        given, scales=1, min_size=None, scale_iterations=None
    )  # nothing else changes
