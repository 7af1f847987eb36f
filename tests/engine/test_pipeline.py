"""End to end through the Python API with a random VGG-19: the loss falls and the style moves."""

import pytest
import torch

from impasto import ImpastoError, Settings, stylize
from impasto.features.registry import build_extractor
from impasto.image.initial import initial_image
from impasto.image.io import load_image, to_tensor
from impasto.losses.terms import gram_matrix

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


def gram_distance(extractor, a, b):
    fa, fb = extractor(to_tensor(a)), extractor(to_tensor(b.resize(a.size)))
    return sum((gram_matrix(fa[k]) - gram_matrix(fb[k])).pow(2).sum().item() for k in LAYERS)


def test_random_vgg_run_lowers_the_loss_and_moves_style_statistics(content_path, style_path):
    log = []
    settings = Settings(weights="random", size=64, iterations=25, style_layers=LAYERS, init="content")
    result = stylize(content_path, style_path, settings, callback=log.append)
    assert [it.iteration for it in log] == list(range(26))
    assert log[-1].losses["total"] < 0.2 * log[0].losses["total"]
    assert result.size == (64, 48)
    extractor = build_extractor("vgg19", LAYERS, None)
    content, style = load_image(content_path), load_image(style_path)
    assert gram_distance(extractor, result, style) < 0.5 * gram_distance(extractor, content, style)


@pytest.mark.parametrize("optimizer", ["adam", "gd"])
def test_first_order_optimisers_lower_the_loss(content_path, style_path, optimizer):
    log = []
    lr = {"adam": 0.05, "gd": 0.01}[optimizer]
    settings = Settings(  # the paper's loss: these step sizes are in its units
        weights="random", size=48, iterations=15, optimizer=optimizer, lr=lr, style_layers=LAYERS, style_loss="gram"
    )
    stylize(content_path, style_path, settings, callback=log.append)
    assert log[-1].losses["total"] < 0.7 * log[0].losses["total"]


def test_same_seed_repeats_a_run_bit_for_bit(content_path, style_path):
    settings = Settings(weights="random", size=40, iterations=5, init="gaussian", seed=7, style_layers=LAYERS)
    first = stylize(content_path, style_path, settings)
    again = stylize(content_path, style_path, settings)
    other = stylize(content_path, style_path, Settings(**{**settings.to_dict(), "seed": 8, "style_layers": LAYERS}))
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_initial_images():
    content = torch.rand(1, 3, 16, 16)
    assert torch.equal(initial_image("content", content), content)
    uniform = initial_image("uniform", content, seed=1)
    gaussian = initial_image("gaussian", content, seed=1)
    assert 0 <= uniform.min() and uniform.max() <= 1 and abs(uniform.mean().item() - 0.5) < 0.1
    assert abs(gaussian.mean().item() - 0.5) < 0.1 and not torch.equal(uniform, gaussian)
    blend = initial_image("blend", content, noise_ratio=0.25, seed=1)
    noise = 0.5 + 0.25 * torch.randn(content.shape, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(blend, (0.75 * content + 0.25 * noise).clamp(0, 1))


def test_infinite_loss_is_reported_with_a_fix(content_path, style_path):
    with pytest.raises(ImpastoError, match="loss became inf.*lower"):
        stylize(content_path, style_path, Settings(weights="random", size=32, iterations=2, style_weight=1e300))


def test_settings_validation_names_the_option():
    with pytest.raises(ImpastoError, match="^optimizer 'sgdx' is unknown"):
        Settings(optimizer="sgdx")
    with pytest.raises(ImpastoError, match="init_noise_ratio"):
        Settings(init_noise_ratio=2)
    with pytest.raises(ImpastoError, match="one per layer"):
        Settings(style_layer_weights=(1, 2))
