"""The Laplacian-pyramid parameterisation: an exact pyramid, large shapes that move as fast as
strokes, and runs that go coarse to fine, tile and resume exactly."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from snapshots import SnapshotAt

from impasto import ImpastoError, Settings, stylize
from impasto.optim.laplacian import COARSEST, LaplacianAdam, decompose, level_sizes, pyramid_size, reconstruct


@pytest.mark.parametrize("shape", [(1, 3, 45, 70), (1, 3, 2, 2), (1, 3, 128, 96)])
def test_the_pyramid_reconstructs_its_image_exactly(shape):
    image = torch.rand(shape)
    levels = decompose(image)
    assert torch.allclose(reconstruct(levels), image, atol=1e-6)
    assert min(levels[-1].shape[-2:]) <= max(COARSEST, min(shape[-2:]))
    assert sum(level.numel() for level in levels) == pyramid_size(shape)
    assert [tuple(level.shape[-2:]) for level in levels] == level_sizes(*shape[-2:])


def fit(optimizer_class, target: torch.Tensor, steps: int) -> float:
    image = torch.full_like(target, 0.5).requires_grad_(True)
    optimizer = optimizer_class([image], lr=0.01)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (image - target).pow(2).mean()
        loss.backward()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    return (image.detach() - target).pow(2).mean().item()


def test_a_large_shape_is_painted_in_far_fewer_steps_than_pixel_by_pixel():
    target = torch.full((1, 3, 64, 64), 0.5)
    target[..., :, :32] = 0.9  # a light half: one large shape, no detail
    assert fit(LaplacianAdam, target, 10) < 0.2 * fit(torch.optim.Adam, target, 10)


def test_it_takes_adam_and_says_so_in_one_line():
    with pytest.raises(ImpastoError, match="parameterization laplacian is optimised with --optimizer adam") as error:
        Settings(parameterization="laplacian")
    assert "\n" not in str(error.value) and error.value.setting == "parameterization"
    assert Settings(parameterization="laplacian", optimizer="adam").parameterization == "laplacian"


def squeezenet(weights, **changes) -> Settings:
    values = {"size": 48, "iterations": 8, "lr": 0.05, "stop_tolerance": 0, **changes}
    return Settings(
        model="squeezenet1_1", weights=str(weights), optimizer="adam", parameterization="laplacian", **values
    )


@pytest.mark.slow
def test_a_coarse_to_fine_run_resumes_exactly(content_path, style_path, squeezenet_weights):
    settings = squeezenet(squeezenet_weights, scales=2)
    events = []
    keep = SnapshotAt(3, 1, also=events.append)
    full = np.asarray(stylize(content_path, style_path, settings, callback=keep))
    resumed = np.asarray(stylize(content_path, style_path, settings, resume=keep.resume))
    assert np.array_equal(full, resumed)
    style = [e.losses["style"] for e in events if e.scale == 0]
    assert style[-1] < style[0]


def test_it_runs_in_tiles_when_memory_is_short(content_path, style_path, squeezenet_weights, caplog):
    settings = squeezenet(squeezenet_weights, size=80, iterations=3, precision="fp32", style_loss="gram-relative")
    whole = np.asarray(stylize(content_path, style_path, settings), float)
    with caplog.at_level(logging.WARNING, logger="impasto"):
        tiled = np.asarray(stylize(content_path, style_path, Settings(**{**settings.to_dict(), "max_memory": 0.004})))
    assert "tiles of" in caplog.text
    assert np.abs(tiled - whole).max() <= 2


@pytest.mark.slow
def test_it_combines_with_the_other_new_losses(content_path, style_path, squeezenet_weights):
    events = []
    settings = squeezenet(squeezenet_weights, iterations=12, content_loss="self-similarity", style_loss="swd")
    stylize(content_path, style_path, settings, callback=events.append)
    assert events[-1].losses["style"] < events[0].losses["style"]
    assert events[-1].losses["content"] > 0  # the layout was moved, and is held
