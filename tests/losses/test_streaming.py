"""Losses taken as the network computes each layer: the same values and gradients as taking
them from the returned feature maps, with and without checkpointing."""

import pytest
import torch

from impasto.defaults import resolve
from impasto.engine.targets import build_objective
from impasto.features.registry import build_extractor
from impasto.losses.objective import Term
from impasto.losses.terms import channel_moments
from impasto.settings import Settings


@pytest.mark.parametrize("model", ["vgg19", "squeezenet1_1"])
@pytest.mark.parametrize("style_loss", ["w2", "gram", "hist"])
@pytest.mark.parametrize("checkpointing", [False, True])
def test_streamed_losses_equal_losses_of_the_returned_features(model, style_loss, checkpointing):
    torch.manual_seed(0)
    settings = resolve(Settings(model=model, style_loss=style_loss, tv_weight=0.1))
    layers = (*settings.content_layers, *settings.style_layers)
    extractor = build_extractor(model, layers, None)
    content, style = torch.rand(1, 3, 64, 80), torch.rand(1, 3, 72, 72)
    objective = build_objective(extractor, content, [style], [1.0], settings)
    assert set(objective.streamed) == set(layers)
    extractor.checkpointing = checkpointing
    image = (content + 0.1 * torch.randn_like(content)).requires_grad_(True)

    streamed = objective(image)
    streamed["total"].backward()
    streamed_grad, image.grad = image.grad.clone(), None
    features = extractor(image)
    assert set(features) == set(layers)  # nothing consumed: every layer returned
    direct = {term.name: term.weight * term.module(image, features) for term in objective.terms}
    sum(direct.values()).backward()

    for name, value in direct.items():
        assert streamed[name].item() == pytest.approx(value.item(), rel=1e-5)
    assert torch.allclose(streamed_grad, image.grad, rtol=1e-4, atol=1e-6 * image.grad.abs().max().item())


def test_a_term_that_reads_features_itself_turns_streaming_off():
    settings = resolve(Settings(model="squeezenet1_1"))
    extractor = build_extractor("squeezenet1_1", (*settings.content_layers, *settings.style_layers), None)

    class ReadsFire2(torch.nn.Module):
        layers = ("fire2",)

        def forward(self, image, features):
            return features["fire2"].mean()

    objective = build_objective(
        extractor,
        torch.rand(1, 3, 64, 64),
        [torch.rand(1, 3, 64, 64)],
        [1.0],
        settings,
        extra_terms=[Term("fire2", ReadsFire2(), 1.0)],
    )
    assert objective.streamed == {}
    values = objective(torch.rand(1, 3, 64, 64))
    assert values["fire2"].item() > 0 and values["style"].item() > 0


def test_channel_moments_gradient_matches_autograd():
    features = torch.randn(2, 5, 7, 9, requires_grad=True)
    mean_weights, gram_weights = torch.randn(2, 5), torch.randn(2, 5, 5)
    mean, gram = channel_moments(features)
    (fused,) = torch.autograd.grad((mean * mean_weights).sum() + (gram * gram_weights).sum(), features)
    flat = features.reshape(2, 5, 63)
    plain = (flat.mean(-1) * mean_weights).sum() + (flat @ flat.transpose(1, 2) / 63 * gram_weights).sum()
    (expected,) = torch.autograd.grad(plain, features)
    assert torch.allclose(fused, expected, atol=1e-5)
