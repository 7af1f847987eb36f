"""Feature networks: named layers, truncation, frozen parameters, loading by index."""

import pytest
import torch

from impasto.errors import ImpastoError
from impasto.features.networks import CAFFE_FEATURE_SCALE, Normalize, squeezenet1_1_layers, vgg19_layers
from impasto.features.registry import REGISTRY, build_extractor, layer_names


def test_vgg19_has_16_convs_and_5_pools_named_like_the_paper():
    names = layer_names("vgg19")
    convs = [n for n in names if n.startswith("conv")]
    assert len(convs) == 16 and sum(n.startswith("pool") for n in names) == 5
    assert convs[0] == "conv1_1" and convs[-1] == "conv5_4" and "relu4_2" in names


def test_extractor_stops_at_the_deepest_wanted_layer_and_is_frozen():
    extractor = build_extractor("vgg19", ["relu1_1", "relu3_1"], None)
    assert extractor.names[-1] == "relu3_1"
    assert not any(p.requires_grad for p in extractor.parameters())
    assert not extractor.training
    features = extractor(torch.rand(1, 3, 32, 32))
    assert set(features) == {"relu1_1", "relu3_1"} and features["relu3_1"].shape == (1, 256, 8, 8)


def test_unknown_layer_names_the_choices():
    with pytest.raises(ImpastoError, match="unknown layer 'conv9_9'.*conv1_1"):
        build_extractor("vgg19", ["conv9_9"], None)


def test_squeezenet_layers_and_defaults_exist():
    names = layer_names("squeezenet1_1")
    for model, defaults in REGISTRY.items():
        assert set(defaults.content_layers + defaults.style_layers) <= set(layer_names(model))
    extractor = build_extractor("squeezenet1_1", ["fire9"], None)
    assert extractor(torch.rand(1, 3, 64, 64))["fire9"].shape[1] == 512
    assert names[:3] == ["conv1", "relu1", "pool1"]


@pytest.mark.parametrize("model, builder", [("vgg19", vgg19_layers), ("squeezenet1_1", squeezenet1_1_layers)])
def test_state_dict_in_torchvision_layout_loads_by_index(model, builder):
    reference = torch.nn.Sequential(*(m for _, m in builder(width=0.25)))
    state = {f"features.{k}": v for k, v in reference.state_dict().items()}
    extractor = build_extractor(model, [layer_names(model)[-1]], state)
    image = torch.rand(1, 3, 48, 48)
    expected = reference(Normalize("torchvision")(image))
    assert torch.allclose(extractor(image)[layer_names(model)[-1]], expected)


def test_caffe_preprocessing_is_bgr_0_255_minus_mean_and_features_rescaled():
    image = torch.rand(1, 3, 4, 4)
    caffe = Normalize("caffe")(image)
    assert torch.allclose(caffe[:, 0], image[:, 2] * 255 - 103.939, atol=1e-3)
    assert torch.allclose(caffe[:, 2], image[:, 0] * 255 - 123.68, atol=1e-3)
    reference = torch.nn.Sequential(*(m for _, m in vgg19_layers(width=2 / 64)))
    state = {f"features.{k}": v for k, v in reference.state_dict().items()}
    features = build_extractor("vgg19", ["conv1_1"], state, "caffe")(image)["conv1_1"]
    expected = reference[0](caffe) / CAFFE_FEATURE_SCALE
    assert torch.allclose(features, expected, atol=1e-4)


def test_wrong_network_file_is_a_clear_error():
    state = {
        f"features.{k}": v for k, v in torch.nn.Sequential(*(m for _, m in squeezenet1_1_layers())).state_dict().items()
    }
    with pytest.raises(ImpastoError, match="for this --model"):
        build_extractor("vgg19", ["relu1_1"], state, source="sq.pth")


@pytest.mark.parametrize("model", ["vgg19", "squeezenet1_1"])
def test_checkpointing_keeps_the_gradient_and_saves_memory(model):
    from impasto.optim.memory import activation_bytes_per_pixel

    extractor = build_extractor(model, REGISTRY[model].style_layers + REGISTRY[model].content_layers, None)
    image = torch.rand(1, 3, 64, 80, requires_grad=True)
    results = []
    for checkpointing in (False, True):
        extractor.checkpointing, image.grad = checkpointing, None
        loss = sum(f.pow(2).mean() for f in extractor(image).values())
        loss.backward()
        results.append((loss.item(), image.grad.clone(), activation_bytes_per_pixel(extractor, torch.device("cpu"))))
    (plain_loss, plain_grad, plain_bytes), (kept_loss, kept_grad, kept_bytes) = results
    assert plain_loss == kept_loss and torch.equal(plain_grad, kept_grad)
    assert kept_bytes < 0.7 * plain_bytes


@pytest.mark.parametrize("model", list(REGISTRY))
def test_the_catalogues_layer_names_are_the_builders(model):
    """Settings validate layers against the catalogue, which must name what the builder builds."""
    entry = REGISTRY[model]
    assert [name for name, _ in entry.build()] == list(entry.network.layers)
    assert [name for name, _ in entry.build(pooling="avg", width=0.1)] == list(entry.network.layers)
