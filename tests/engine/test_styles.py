"""Several styles with blend weights, and the style scale."""

import pytest
import torch

from impasto import ImpastoError, Settings, stylize
from impasto.apps.commands.options import settings_from
from impasto.apps.commands.stylize import StylizeCommand
from impasto.defaults import resolve
from impasto.engine.targets import build_objective, scale_inputs, style_weights
from impasto.features.registry import build_extractor
from impasto.image.io import load_image
from impasto.losses.terms import gram_matrix

LAYERS = ("relu1_1", "relu2_1")


def test_blend_weights_are_normalised_and_counted():
    assert style_weights(None, 4) == [0.25] * 4
    assert style_weights((3.0, 1.0), 2) == [0.75, 0.25]
    with pytest.raises(ImpastoError, match="style_blend has 1 weights for 2 style"):
        style_weights((1.0,), 2)
    with pytest.raises(ImpastoError, match="style_blend"):
        Settings(style_blend=(0.0, 0.0))


def test_blend_of_one_and_zero_equals_a_single_style_run(content_path, style_path, tmp_path):
    from conftest import shrunk

    other = shrunk("the_scream.jpg", 80, tmp_path)
    settings = Settings(weights="random", size=40, iterations=6, style_layers=LAYERS)
    single = stylize(content_path, style_path, settings)
    blended = stylize(content_path, [style_path, other], Settings(**{**settings.to_dict(), "style_blend": (1, 0)}))
    assert single.tobytes() == blended.tobytes()
    mixed = stylize(content_path, [style_path, other], Settings(**{**settings.to_dict(), "style_blend": (1, 1)}))
    assert mixed.tobytes() != single.tobytes()


def test_blended_targets_are_the_weighted_mean_of_the_grams():
    net = build_extractor("vgg19", LAYERS, None)
    content, a, b = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24), torch.rand(1, 3, 16, 16)
    settings = resolve(
        Settings(weights="random", content_layers=("relu2_1",), style_layers=LAYERS, style_loss="gram-relative")
    )
    objective = build_objective(net, content, [a, b], [0.75, 0.25], settings)
    expected = 0.75 * gram_matrix(net(a)["relu2_1"]) + 0.25 * gram_matrix(net(b)["relu2_1"])
    assert torch.allclose(objective.term("style").module.losses["relu2_1"].target, expected, atol=1e-6)


def test_blended_w2_targets_are_the_weighted_mean_of_the_feature_means():
    net = build_extractor("vgg19", LAYERS, None)
    content, a, b = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24), torch.rand(1, 3, 16, 16)
    settings = resolve(Settings(weights="random", content_layers=("relu2_1",), style_layers=LAYERS, style_loss="w2"))
    objective = build_objective(net, content, [a, b], [0.75, 0.25], settings)
    expected = 0.75 * net(a)["relu2_1"].mean((0, 2, 3)) + 0.25 * net(b)["relu2_1"].mean((0, 2, 3))
    assert torch.allclose(objective.term("style").module.losses["relu2_1"].mean, expected, atol=1e-6)


def test_style_scale_resizes_the_style_relative_to_each_scale(content_path, style_path):
    content, style = load_image(content_path), load_image(style_path)
    for scale in (0.5, 2.0):
        inputs = scale_inputs(content, [style], 64, Settings(style_scale=scale), torch.device("cpu"))
        assert max(inputs.styles[0].shape[-2:]) == round(64 * scale)
        assert max(inputs.content.shape[-2:]) == 64
    with pytest.raises(ImpastoError, match="style_scale"):
        Settings(style_scale=0)


def test_the_command_line_takes_several_styles_and_the_new_options():
    parser = StylizeCommand().parser()
    args = parser.parse_args(
        [
            "c.jpg",
            "a.jpg",
            "b.jpg",
            "--style-blend",
            "2,1",
            "--style-scale",
            "1.5",
            "--scales",
            "3",
            "--preserve-color",
            "luminance",
            "--normalize-vgg",
            "--content-mask",
            "m.png",
            "--pooling",
            "avg",
        ]
    )
    settings = settings_from(args)
    assert args.style == ["a.jpg", "b.jpg"]
    assert settings.style_blend == (2.0, 1.0) and settings.style_scale == 1.5 and settings.scales == 3
    assert settings.normalize_vgg is True and settings.content_mask == ("m.png",) and settings.pooling == "avg"
    assert settings_from(parser.parse_args(["c.jpg", "a.jpg"])).normalize_vgg is False
