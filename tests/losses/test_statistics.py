"""The normalised style losses: zero at their target, the same for any feature scale, and minimisable."""

import pytest
import torch

from impasto.losses.statistics import HistogramStyleLoss, WassersteinStyleLoss, moments, sorted_quantiles
from impasto.losses.terms import ContentLoss, StyleLoss, gram_matrix


def w2(target: torch.Tensor) -> WassersteinStyleLoss:
    return WassersteinStyleLoss(*moments(target))


def hist(target: torch.Tensor) -> HistogramStyleLoss:
    return HistogramStyleLoss(gram_matrix(target), sorted_quantiles(target))


def relative_gram(target: torch.Tensor) -> StyleLoss:
    return StyleLoss(gram_matrix(target), relative=True)


LOSSES = [w2, hist, relative_gram]


@pytest.mark.parametrize("make", LOSSES)
def test_zero_at_the_target_and_positive_elsewhere(make):
    target = torch.rand(1, 8, 12, 12)
    loss = make(target)
    assert loss(target).item() == pytest.approx(0, abs=2e-3)
    assert loss(torch.rand(1, 8, 12, 12) * 3).item() > 0.1


@pytest.mark.parametrize("make", LOSSES)
def test_the_same_relative_mismatch_costs_the_same_at_any_feature_scale(make):
    target, other = torch.rand(1, 8, 12, 12), torch.rand(1, 8, 12, 12) ** 2
    small, large = make(target)(other), make(target * 1000)(other * 1000)
    assert large.item() == pytest.approx(small.item(), rel=1e-3)


def test_relative_content_loss_is_scale_free_and_the_paper_one_is_not():
    target, other = torch.rand(1, 4, 6, 6), torch.rand(1, 4, 6, 6)
    assert ContentLoss(target * 50, relative=True)(other * 50).item() == pytest.approx(
        ContentLoss(target, relative=True)(other).item(), rel=1e-5
    )
    assert ContentLoss(target * 50)(other * 50).item() == pytest.approx(
        2500 * ContentLoss(target)(other).item(), rel=1e-5
    )


@pytest.mark.parametrize("make", [w2, hist])
def test_gradient_descent_lowers_the_loss(make):
    target = torch.rand(1, 6, 10, 10) ** 3
    features = torch.rand(1, 6, 10, 10, requires_grad=True)
    loss = make(target)
    optimizer = torch.optim.Adam([features], lr=0.02)
    first = loss(features).item()
    for _ in range(100):
        optimizer.zero_grad()
        loss(features).backward()
        optimizer.step()
    assert loss(features).item() < 0.3 * first


def test_w2_separates_a_shifted_mean_that_a_gram_matrix_partly_absorbs():
    target = torch.randn(1, 4, 16, 16) + 2
    shifted = target - target.mean((2, 3), keepdim=True)  # same spread, mean 0
    assert w2(target)(shifted).item() > 0.5
