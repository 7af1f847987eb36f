"""--activation-smoothing softmax (SWAG): the transform, every style loss wrapped by it, tiles, a tiny
real run, the default left bit for bit as it was, and the setting on the command line and in records."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
import torch

import impasto.engine.targets as targets_module
from impasto import Settings, stylize
from impasto.apps.batch.resume import Finished
from impasto.apps.commands.options import settings_arguments, settings_from
from impasto.defaults import resolve
from impasto.engine.targets import build_objective
from impasto.features.registry import REGISTRY, build_extractor
from impasto.losses.kinds import STYLE_LOSSES, StyleTargets
from impasto.losses.smoothing import SmoothedStyleLoss, smooth, with_smoothing
from impasto.losses.tiled import TiledObjective, tileable


def channel_entropy(features: torch.Tensor) -> torch.Tensor:
    """Mean over positions of the entropy of each position's channels taken as a distribution."""
    p = features / features.sum(1, keepdim=True).clamp_min(1e-12)
    return -(p * p.clamp_min(1e-12).log()).sum(1).mean()


def test_softmax_spreads_peaky_activations_over_the_channels() -> None:
    # Rectified activations where a few of 64 channels fire at each position, as in a residual net's deep stages.
    raw = torch.relu(torch.randn(1, 64, 8, 8)) * (torch.rand(1, 64, 8, 8) < 0.1)
    smoothed = smooth(raw)
    assert channel_entropy(smoothed) > channel_entropy(raw) + 1.0
    assert (smoothed > 0).all()
    torch.testing.assert_close(smoothed.sum(1), torch.full((1, 8, 8), 64.0))  # each position averages 1
    assert torch.equal(smoothed.argmax(1), raw.argmax(1))  # the strongest channel stays the strongest


def identical_targets(features: torch.Tensor, masks: bool) -> StyleTargets:
    """Two equal styles blended equally and the photo's features the output's own; where the loss takes
    masks, two content regions, each style taken from the same region: every loss of the registry
    is zero when the output has these features."""
    regions = torch.zeros(2, 1, *features.shape[-2:])
    regions[0, ..., :5], regions[1, ..., 5:] = 1, 1
    style_masks = [regions[:1], regions[1:]] if masks else [None, None]
    built = StyleTargets([features, features.clone()], style_masks, [1.0, 1.0], regions if masks else None, 0)
    names = {f.name for f in dataclasses.fields(StyleTargets)}
    return dataclasses.replace(built, content=features) if "content" in names else built


@pytest.mark.parametrize("name", tuple(STYLE_LOSSES))
def test_every_style_loss_smoothed_is_zero_for_the_artworks_own_features(name: str) -> None:
    kind = with_smoothing(STYLE_LOSSES[name], "softmax")
    features = torch.relu(torch.randn(1, 16, 9, 11)) * 3
    loss = kind.factory(identical_targets(features, kind.masks))
    assert isinstance(loss, SmoothedStyleLoss)
    assert loss(features).abs().item() < 1e-4
    assert loss(features.flip(-1) * 2).item() > 1e-3  # and it does see other features


def test_blended_styles_are_each_smoothed_then_blended() -> None:
    first, second = torch.relu(torch.randn(2, 1, 16, 9, 11)) * 3
    loss = with_smoothing(STYLE_LOSSES["w2"], "softmax").factory(
        StyleTargets([first, second], [None, None], [0.3, 0.7], None, 0)
    )
    expected = 0.3 * smooth(first).mean((0, 2, 3)) + 0.7 * smooth(second).mean((0, 2, 3))
    torch.testing.assert_close(loss.loss.mean, expected)


def test_none_leaves_the_registrys_loss_as_it_is() -> None:
    assert with_smoothing(STYLE_LOSSES["w2"], "none") is STYLE_LOSSES["w2"]


def squeezenet_objective(smoothing: str, size: tuple[int, int]) -> tuple[torch.nn.Module, torch.Tensor]:
    """A random SqueezeNet's objective with gram-relative on smoothed activations, and an image to evaluate."""
    settings = resolve(
        Settings(model="squeezenet1_1", style_loss="gram-relative", activation_smoothing=smoothing, tv_weight=0.1)
    )
    assert settings.style_layers is not None and settings.content_layers is not None
    extractor = build_extractor("squeezenet1_1", (*settings.content_layers, *settings.style_layers), None)
    generator = torch.Generator().manual_seed(0)
    content, style = torch.rand(2, 1, 3, *size, generator=generator)
    objective = build_objective(extractor, content, [style], [1.0], settings)
    return objective, (content + 0.1 * torch.randn(content.shape, generator=generator)).clamp(0, 1)


def test_smoothed_gram_losses_are_evaluated_in_tiles_with_the_whole_images_loss_and_gradient() -> None:
    objective, image = squeezenet_objective("softmax", (96, 128))
    assert tileable(objective)
    pixels = image.clone().requires_grad_(True)
    whole = objective(pixels)
    whole["total"].backward()
    expected, pixels.grad = pixels.grad.clone(), None
    tiled = TiledObjective(objective, core=32, halo=REGISTRY["squeezenet1_1"].halo)(pixels)
    tiled["total"].backward()
    for name in ("content", "style", "tv", "total"):
        assert tiled[name].item() == pytest.approx(whole[name].item(), rel=1e-4)
    assert ((pixels.grad - expected).norm() / expected.norm()).item() < 1e-3


def tiny_run(squeezenet_weights, content_path, style_path, callback=None, **overrides) -> np.ndarray:
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=40,
        iterations=12,
        device="cpu",
        precision="fp32",
        stop_tolerance=0,
        **overrides,
    )
    return np.asarray(stylize(content_path, style_path, settings, callback=callback))


def test_a_tiny_smoothed_run_stylises(squeezenet_weights, content_path, style_path) -> None:
    style = []
    tiny_run(
        squeezenet_weights,
        content_path,
        style_path,
        callback=lambda event: style.append(float(event.losses["style"])),
        activation_smoothing="softmax",
    )
    assert style[-1] < 0.5 * style[0]


def test_none_is_bit_for_bit_the_run_without_the_option(
    squeezenet_weights, content_path, style_path, monkeypatch
) -> None:
    given = tiny_run(squeezenet_weights, content_path, style_path, activation_smoothing="none")
    smoothed = tiny_run(squeezenet_weights, content_path, style_path, activation_smoothing="softmax")
    monkeypatch.setattr(targets_module, "with_smoothing", lambda kind, smoothing: kind)  # the objective without it
    without = tiny_run(squeezenet_weights, content_path, style_path)
    assert np.array_equal(given, without)
    assert not np.array_equal(smoothed, without)


def test_the_option_is_on_the_command_line_with_its_choices() -> None:
    parser = argparse.ArgumentParser()
    settings_arguments(parser)
    assert settings_from(parser.parse_args([])).activation_smoothing == "none"
    assert settings_from(parser.parse_args(["--activation-smoothing", "softmax"])).activation_smoothing == "softmax"
    assert "--activation-smoothing {none,softmax}" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["--activation-smoothing", "gaussian"])


def test_a_record_from_before_the_option_reads_as_none_and_is_the_same_batch_run() -> None:
    settings = Settings(model="squeezenet1_1", size=64, iterations=4)
    older = {k: v for k, v in resolve(settings).to_dict().items() if k != "activation_smoothing"}
    assert Settings.from_dict({k: v for k, v in settings.to_dict().items() if k != "activation_smoothing"}) == settings
    finished = Finished(settings)
    assert finished._conflict({"weights_sha256": finished.weights_sha256, "resolved": older}) is None
    smoothed = Finished(dataclasses.replace(settings, activation_smoothing="softmax"))
    conflict = smoothed._conflict({"weights_sha256": smoothed.weights_sha256, "resolved": older})
    assert conflict == "it was made with another --activation-smoothing"
