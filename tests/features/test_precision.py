"""Reduced precision: bf16 results match fp32 ones in loss, and options resolve sensibly."""

from pathlib import Path

import pytest
import torch

from impasto import ImpastoError, Settings, stylize
from impasto.engine.stylizer import reference_objective
from impasto.features.precision import Precise, resolve_precision
from impasto.image.io import load_image, to_tensor


def fp32_loss(image, content: Path, style: Path, settings: Settings) -> float:
    """The total loss of an 8-bit result, measured in fp32 by the run's network."""
    with torch.no_grad():
        return reference_objective(content, style, settings)(to_tensor(image))["total"].item()


@pytest.mark.skipif(resolve_precision("auto", torch.device("cpu")) != "bf16", reason="no bf16 on this CPU")
def test_bf16_final_loss_within_two_percent_of_fp32(content_path, style_path, squeezenet_weights) -> None:
    settings = Settings(model="squeezenet1_1", weights=str(squeezenet_weights), size=80, iterations=40, device="cpu")
    start = fp32_loss(load_image(content_path), content_path, style_path, settings)
    losses = {}
    for precision in ("fp32", "bf16"):
        run = Settings(**{**settings.to_dict(), "precision": precision})
        losses[precision] = fp32_loss(stylize(content_path, style_path, run), content_path, style_path, settings)
    assert losses["fp32"] < 0.5 * start  # the runs did stylise
    assert abs(losses["bf16"] - losses["fp32"]) <= 0.02 * losses["fp32"]


def test_precise_network_returns_features_close_to_fp32() -> None:
    from impasto.features.registry import build_extractor

    extractor = build_extractor("vgg19", ("relu1_1", "relu3_1"), None)
    image = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    reference = extractor(image)
    features = Precise(extractor, "bf16", torch.device("cpu"), "vgg19")(image)
    for name, value in reference.items():
        assert features[name].dtype == torch.bfloat16
        error = (features[name].float() - value).norm() / value.norm()
        assert error < 0.05


def test_squeezenet_runs_channels_last_in_fp32_on_cpu_with_the_same_gradient() -> None:
    from impasto.features.registry import build_extractor

    image = torch.rand(1, 3, 64, 48, generator=torch.Generator().manual_seed(0))
    gradients = []
    for layout in ("contiguous", "channels-last"):
        extractor = build_extractor("squeezenet1_1", ("relu1", "fire5"), None)
        network = Precise(
            extractor, "fp32", torch.device("cpu"), "squeezenet1_1" if layout == "channels-last" else "vgg19"
        )
        assert network.channels_last == (layout == "channels-last")
        pixels = image.clone().requires_grad_(True)
        sum(feature.pow(2).mean() for feature in network(pixels).values()).backward()
        gradients.append(pixels.grad)
    assert torch.allclose(*gradients, rtol=1e-4, atol=1e-6)
    assert not Precise(build_extractor("vgg19", ("relu1_1",), None), "fp32", torch.device("cpu"), "vgg19").channels_last


def test_auto_precision_resolves_per_device() -> None:
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    assert resolve_precision("auto", torch.device("mps")) == "fp32"
    assert resolve_precision("auto", torch.device("cpu")) in ("bf16", "fp32")


def test_unknown_precision_is_a_clear_error() -> None:
    with pytest.raises(ImpastoError, match="precision 'fp8' is unknown"):
        Settings(precision="fp8")
