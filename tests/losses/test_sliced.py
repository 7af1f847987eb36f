"""The sliced Wasserstein style loss: zero at its target, blind to where activations sit, alert to their
distribution beyond two moments, scale-free, minimisable, and one choice of --style-loss."""

import pytest
import torch

from impasto import Settings, Stylizer
from impasto.losses.sliced import SlicedWassersteinStyleLoss, directions


def swd(target: torch.Tensor, seed: int = 0) -> SlicedWassersteinStyleLoss:
    return SlicedWassersteinStyleLoss([target], [1.0], seed)


def test_zero_at_the_target_and_for_any_rearrangement_of_it():
    style = torch.rand(1, 8, 12, 12)
    loss = swd(style)
    shuffled = style.flatten(2)[..., torch.randperm(144)].reshape(1, 8, 12, 12)
    assert loss(style).item() == pytest.approx(0, abs=1e-6)
    assert loss(shuffled).item() == pytest.approx(0, abs=1e-6)
    assert loss(torch.rand(1, 8, 12, 12) * 3).item() > 0.1


def test_it_sees_a_distribution_that_mean_and_covariance_miss():
    style = (torch.rand(1, 4, 16, 16) > 0.5).float() * 2 - 1  # two-valued activations
    gaussian = torch.randn(1, 4, 16, 16)  # about the same mean and covariance, another shape
    assert swd(style)(gaussian).item() > 0.05


def test_the_same_relative_mismatch_costs_the_same_at_any_feature_scale():
    target, other = torch.rand(1, 8, 12, 12), torch.rand(1, 8, 12, 12) ** 2
    assert swd(target * 1000)(other * 1000).item() == pytest.approx(swd(target)(other).item(), rel=1e-4)


def test_a_style_image_of_another_size_is_compared_by_rank():
    style = torch.rand(1, 8, 24, 24)
    smaller = style[..., ::2, ::2]  # the same distribution, a quarter of the samples
    assert swd(style)(smaller).item() < 0.02


def test_directions_are_unit_and_seeded():
    axes = directions(6, 1)
    assert torch.allclose(axes.norm(dim=0), torch.ones(6))
    assert torch.equal(axes, directions(6, 1)) and not torch.equal(axes, directions(6, 2))


def test_gradient_descent_lowers_the_loss():
    loss = swd(torch.rand(1, 8, 12, 12) ** 3)
    features = torch.rand(1, 8, 12, 12, requires_grad=True)
    optimizer = torch.optim.Adam([features], lr=0.02)
    first = loss(features).item()
    for _ in range(40):
        optimizer.zero_grad()
        loss(features).backward()
        optimizer.step()
    assert loss(features).item() < 0.5 * first


def test_blended_targets_lie_between_the_styles():
    dark, light = torch.rand(1, 4, 8, 8), torch.rand(1, 4, 8, 8) + 2
    halfway = SlicedWassersteinStyleLoss([dark, light], [1.0, 1.0], 0)
    assert halfway((dark + light) / 2).item() < halfway(dark).item()
    assert halfway((dark + light) / 2).item() < halfway(light).item()


def test_a_run_with_it_lowers_the_style_loss(content_path, style_path, squeezenet_weights):
    events = []
    settings = Settings(
        model="squeezenet1_1", weights=str(squeezenet_weights), size=64, iterations=20, style_loss="swd"
    )
    Stylizer(settings).run(content_path, style_path, callback=events.append, stop_tolerance=0)
    assert events[-1].losses["style"] < 0.7 * events[0].losses["style"]
