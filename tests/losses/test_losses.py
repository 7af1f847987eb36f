"""The paper's losses, checked against values worked out by hand on tiny tensors."""

import pytest
import torch

from impasto.losses.objective import Objective, paper_terms
from impasto.losses.terms import ContentLoss, StyleLoss, TotalVariationLoss, gram_matrix


def test_gram_matrix_is_channel_inner_products_over_positions():
    # Two channels over M = 2 positions: f0 = (1, 2), f1 = (3, 4).
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    # F F^T = [[1+4, 3+8], [3+8, 9+16]] = [[5, 11], [11, 25]], divided by M = 2.
    expected = torch.tensor([[[2.5, 5.5], [5.5, 12.5]]])
    assert torch.allclose(gram_matrix(features), expected)


def test_content_loss_is_mean_squared_error():
    target = torch.zeros(1, 2, 1, 2)
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    # (1 + 4 + 9 + 16) / (N * M = 4)
    assert ContentLoss(target)(features).item() == pytest.approx(7.5)


def test_style_loss_matches_the_paper_normalisation():
    style = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    generated = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    loss = StyleLoss(gram_matrix(style))(generated).item()
    # Paper: 1/(4 N^2 M^2) * sum((F F^T - S S^T)^2) with N = 2, M = 2.
    ff = torch.tensor([[5.0, 11.0], [11.0, 25.0]])
    ss = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    paper = ((ff - ss) ** 2).sum().item() / (4 * 2**2 * 2**2)
    assert loss == pytest.approx(paper)  # = (16 + 121 + 121 + 576) / 64
    assert loss == pytest.approx(834 / 64)


def test_style_loss_compares_images_of_different_sizes():
    torch.manual_seed(0)
    pattern = torch.rand(1, 4, 8, 8)
    tiled = pattern.repeat(1, 1, 2, 2)  # same statistics, four times the positions
    assert StyleLoss(gram_matrix(pattern))(tiled).item() == pytest.approx(0.0, abs=1e-10)


def test_total_variation_is_mean_squared_neighbour_difference():
    image = torch.tensor([[[[0.0, 1.0], [1.0, 3.0]]]])
    # vertical diffs: 1, 2 -> mean(1, 4) = 2.5; horizontal: 1, 2 -> 2.5
    assert TotalVariationLoss()(image).item() == pytest.approx(5.0)


def test_objective_weights_and_sums_the_terms():
    identity = torch.nn.Identity()

    class Extract(torch.nn.Module):
        def forward(self, image, consumers):
            features = {"a": identity(image), "b": identity(image) * 2}
            for name, take in consumers.items():
                take(features.pop(name))
            return features

    image = torch.tensor([[[[0.0, 1.0], [1.0, 3.0]]]])
    content = ContentLoss(torch.zeros_like(image))
    style_a, style_b = StyleLoss(torch.zeros(1, 1, 1)), StyleLoss(torch.zeros(1, 1, 1))
    objective = Objective(
        Extract(), paper_terms({"a": content}, {"a": style_a, "b": style_b}, (1.0, 3.0), 2.0, 10.0, 0.5)
    )
    terms = objective(image)
    gram_a = (0 + 1 + 1 + 9) / 4
    style = 0.25 * gram_a**2 / 4 + 0.75 * (4 * gram_a) ** 2 / 4  # layer weights normalised to sum 1
    assert terms["content"].item() == pytest.approx(2.0 * 11 / 4)
    assert terms["style"].item() == pytest.approx(10.0 * style)
    assert terms["tv"].item() == pytest.approx(0.5 * 5.0)
    assert terms["total"].item() == pytest.approx(sum(terms[k].item() for k in ("content", "style", "tv")))
