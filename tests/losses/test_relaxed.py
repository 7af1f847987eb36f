"""STROTSS's relaxed EMD style loss: zero at its target, blind to where vectors sit, larger for other
features, minimisable, sampled at places fixed by the seed, blended by pooling, and one choice of
--style-loss whose runs carry a palette term."""

import pytest
import torch

from impasto import Settings, Stylizer
from impasto.losses.relaxed import (
    SAMPLES,
    PaletteLoss,
    RelaxedEMDStyleLoss,
    pooled_samples,
    relaxed_emd,
    sample_indices,
    samples,
)


def remd(target: torch.Tensor, seed: int = 0) -> RelaxedEMDStyleLoss:
    return RelaxedEMDStyleLoss([target], [1.0], seed)


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_zero_at_the_target_and_for_any_rearrangement_of_it():
    style = rand(1, 8, 12, 12)
    loss = remd(style)
    shuffled = style.flatten(2)[..., torch.randperm(144, generator=torch.Generator().manual_seed(1))]
    assert loss(style).item() == pytest.approx(0, abs=1e-5)
    assert loss(shuffled.reshape(1, 8, 12, 12)).item() == pytest.approx(0, abs=1e-5)


def test_other_features_cost_more_and_farther_ones_more_still():
    style = rand(1, 8, 12, 12)
    loss = remd(style)
    near = (style + 0.1 * rand(1, 8, 12, 12, seed=1)).clamp_min(0)
    far = rand(1, 8, 12, 12, seed=2) ** 4 * 3
    assert 0.01 < loss(near).item() < loss(far).item()


def test_the_relaxed_emd_is_the_larger_of_the_two_nearest_neighbour_means():
    cost = torch.tensor([[0.0, 5.0, 1.0], [2.0, 4.0, 3.0]])
    # rows' nearest: 0, 2 -> mean 1; columns' nearest: 0, 4, 1 -> mean 5/3
    assert relaxed_emd(cost).item() == pytest.approx(5 / 3)


def test_the_moment_term_sees_a_brighter_copy_that_cosine_distance_misses():
    style = rand(1, 8, 12, 12)
    loss = remd(style)
    assert loss(style * 3).item() == pytest.approx(loss.moments(style * 3).item(), abs=1e-5)  # same directions
    assert loss.moments(style * 3).item() > 1


def test_the_gradient_reaches_the_features_and_descent_lowers_the_loss():
    loss = remd(rand(1, 8, 12, 12) ** 3)
    features = rand(1, 8, 12, 12, seed=1).requires_grad_()
    optimizer = torch.optim.Adam([features], lr=0.02)
    first = loss(features)
    first.backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    for _ in range(30):
        optimizer.zero_grad()
        loss(features).backward()
        optimizer.step()
    assert loss(features).item() < 0.5 * first.item()


def test_positions_are_at_most_the_cap_distinct_and_fixed_by_the_seed():
    indices = sample_indices(64 * 64, SAMPLES, seed=3)
    assert len(indices) == SAMPLES and len(set(indices.tolist())) == SAMPLES
    assert torch.equal(indices, sample_indices(64 * 64, SAMPLES, seed=3))
    assert not torch.equal(indices, sample_indices(64 * 64, SAMPLES, seed=4))
    assert torch.equal(sample_indices(100, SAMPLES, seed=3), torch.arange(100))  # a small layer: every position
    features = rand(1, 4, 64, 64)
    assert torch.equal(samples(features, SAMPLES, 3), samples(features, SAMPLES, 3))


def test_a_large_layer_is_compared_at_the_same_sampled_places_every_time():
    style, output = rand(1, 8, 48, 48), rand(1, 8, 48, 48, seed=1)
    loss = remd(style, seed=5)
    assert loss.target.shape == (SAMPLES, 8)
    assert loss(output).item() == loss(output).item()
    assert torch.equal(loss.target, remd(style, seed=5).target)


def test_blended_styles_pool_samples_by_weight_and_lie_between():
    dark, light = rand(1, 4, 40, 40), rand(1, 4, 40, 40, seed=1) + 2
    pooled = pooled_samples([dark, light], [3.0, 1.0], SAMPLES, 0)
    assert len(pooled) == SAMPLES and (pooled[:, 0] > 1.5).sum().item() == SAMPLES // 4
    halfway = RelaxedEMDStyleLoss([dark, light], [1.0, 1.0], 0)
    mixed = torch.cat([dark[..., :20, :], light[..., 20:, :]], dim=2)
    assert halfway(mixed).item() < min(halfway(dark).item(), halfway(light).item())


def test_the_palette_term_pulls_colours_toward_the_artworks():
    style = torch.cat([torch.ones(1, 1, 40, 40), rand(1, 1, 40, 40) * 0.3, torch.zeros(1, 1, 40, 40)], dim=1)  # reds
    palette = PaletteLoss([style], [1.0], 0)
    assert palette.layers == () and palette(style).item() < 0.05
    image = rand(1, 3, 40, 40, seed=2).requires_grad_()
    first = palette(image)
    first.backward()
    with torch.no_grad():
        moved = image - 0.5 * image.grad / image.grad.abs().max()
    assert palette(moved).item() < first.item()


def test_a_run_with_it_lowers_the_style_and_palette_terms(content_path, style_path, squeezenet_weights):
    events = []
    settings = Settings(
        model="squeezenet1_1", weights=str(squeezenet_weights), size=48, iterations=15, style_loss="remd"
    )
    Stylizer(settings).run(content_path, style_path, callback=events.append, stop_tolerance=0)
    first, last = events[0].losses, events[-1].losses
    assert last["style"] < 0.8 * first["style"] and last["palette"] < first["palette"]
