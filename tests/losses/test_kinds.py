"""The loss-kind registry: each style and content loss its factory builds matches its own target
best, and the kinds that take no masks are refused with them, naming those that do."""

from __future__ import annotations

import pytest
import torch

from impasto.defaults import resolve
from impasto.engine.targets import build_objective
from impasto.errors import ImpastoError
from impasto.features.registry import build_extractor
from impasto.losses.kinds import CONTENT_LOSSES, STYLE_LOSSES, StyleTargets
from impasto.settings import Settings


def features(seed: int, scale: float = 1.0) -> torch.Tensor:
    """(1, 8, 16, 16) non-negative features, like a ReLU layer's."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(1, 8, 16, 16, generator=generator) * scale


@pytest.mark.parametrize("name", list(STYLE_LOSSES))
def test_every_style_loss_is_lowest_at_its_own_style(name: str) -> None:
    style = features(0)
    loss = STYLE_LOSSES[name].factory(StyleTargets([style], [None], [1.0], None, seed=0, content=style))
    at_style, elsewhere = float(loss(style)), float(loss(features(1, scale=3.0)))
    assert abs(at_style) < 1e-3 * elsewhere  # zero up to rounding (W2 takes matrix square roots)


@pytest.mark.parametrize("name", list(CONTENT_LOSSES))
def test_every_content_loss_is_zero_at_the_photo_and_positive_elsewhere(name: str) -> None:
    photo = features(0)
    loss = CONTENT_LOSSES[name].factory(photo, 0, True)
    assert float(loss(photo)) == pytest.approx(0, abs=1e-6) and float(loss(features(1))) > 0


@pytest.mark.parametrize("name", [name for name, kind in STYLE_LOSSES.items() if not kind.masks])
def test_a_style_loss_without_masks_refuses_them_naming_those_with(name: str) -> None:
    layers = ("relu1_1",)
    settings = resolve(Settings(weights="random", content_layers=layers, style_layers=layers, style_loss=name))
    image = torch.rand(1, 3, 16, 16)
    with pytest.raises(ImpastoError) as error:
        build_objective(build_extractor("vgg19", layers, None), image, [image], [1.0], settings, None, [image[0, :1]])
    takers = [other for other, kind in STYLE_LOSSES.items() if kind.masks]
    assert str(error.value) == f"style_loss {name} does not take masks: use {' or '.join(takers)}"
    assert error.value.setting == "style_loss"
