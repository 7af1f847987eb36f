"""Tiled evaluation: the same loss and gradient as a whole-image one, hence no seams."""

import logging

import numpy as np
import pytest
import torch

from impasto import ImpastoError, Settings, stylize
from impasto.features.registry import REGISTRY, build_extractor
from impasto.losses.objective import Objective, paper_terms
from impasto.losses.terms import ContentLoss, StyleLoss, gram_matrix
from impasto.losses.tiled import TiledObjective, tiles
from impasto.optim.memory import activation_bytes_per_pixel


def vgg_objective(height: int, width: int) -> tuple[Objective, torch.Tensor]:
    net = REGISTRY["vgg19"]
    extractor = build_extractor("vgg19", (*net.content_layers, *net.style_layers), None)
    generator = torch.Generator().manual_seed(0)
    content = torch.nn.functional.avg_pool2d(torch.rand(1, 3, height, width, generator=generator), 5, 1, 2)
    style = torch.rand(1, 3, height, width, generator=generator)
    with torch.no_grad():
        targets, styles = extractor(content), extractor(style)
    objective = Objective(
        extractor,
        paper_terms(
            {name: ContentLoss(targets[name]) for name in net.content_layers},
            {name: StyleLoss(gram_matrix(styles[name])) for name in net.style_layers},
            [1.0] * len(net.style_layers),
            1.0,
            1e3,
            0.1,
        ),
    )
    return objective, (content + 0.1 * torch.randn(content.shape, generator=generator)).clamp(0, 1)


def test_tiles_cover_the_image_once() -> None:
    layout = tiles(200, 130, 64, halo=96)
    covered = np.zeros((200, 130), int)
    for tile in layout:
        top, bottom, left, right = tile.core
        covered[top:bottom, left:right] += 1
        assert tile.window[0] <= top and tile.window[1] >= bottom
    assert (covered == 1).all() and len(layout) == 4 * 3


def test_tiled_loss_and_gradient_match_the_whole_image() -> None:
    objective, image = vgg_objective(176, 224)
    pixels = image.clone().requires_grad_(True)
    whole = objective(pixels)
    whole["total"].backward()
    expected, pixels.grad = pixels.grad.clone(), None
    tiled = TiledObjective(objective, core=64, halo=REGISTRY["vgg19"].halo)(pixels)
    tiled["total"].backward()
    for name in ("content", "style", "tv", "total"):
        assert tiled[name].item() == pytest.approx(whole[name].item(), rel=1e-4)
    assert ((pixels.grad - expected).norm() / expected.norm()).item() < 1e-3


def test_bf16_halves_activation_memory() -> None:
    from impasto.features.precision import Precise

    extractor = build_extractor("vgg19", ("relu1_1", "relu3_1"), None)
    fp32 = activation_bytes_per_pixel(extractor, torch.device("cpu"))
    bf16 = activation_bytes_per_pixel(Precise(extractor, "bf16", torch.device("cpu"), "vgg19"), torch.device("cpu"))
    assert 0.4 < bf16 / fp32 < 0.75


def test_memory_guard_tiles_and_says_so_without_seams(content_path, style_path, squeezenet_weights, caplog) -> None:
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        iterations=4,
        device="cpu",
        precision="fp32",
        style_loss="gram-relative",
    )
    whole = np.asarray(stylize(content_path, style_path, settings), float)
    small = Settings(**{**settings.to_dict(), "max_memory": 0.004})
    with caplog.at_level(logging.WARNING, logger="impasto"):
        tiled = np.asarray(stylize(content_path, style_path, small), float)
    assert "evaluating it in" in caplog.text and "tiles of" in caplog.text
    assert np.abs(tiled - whole).max() <= 2  # the same image, up to rounding: no seams


def test_losses_without_a_tiled_form_say_which_loss_tiles(content_path, style_path, squeezenet_weights) -> None:
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        iterations=2,
        device="cpu",
        precision="fp32",  # bf16 (picked by auto where the CPU has it) halves the need and may fit
        style_loss="w2",
        max_memory=0.004,
    )
    with pytest.raises(ImpastoError, match="style-loss gram-relative"):
        stylize(content_path, style_path, settings)


def test_max_memory_must_be_positive() -> None:
    with pytest.raises(ImpastoError, match="max_memory"):
        Settings(max_memory=0)
