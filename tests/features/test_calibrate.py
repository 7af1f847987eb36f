"""Average pooling that keeps max pooling's magnitude, and the normalised network."""

import torch
import torch.nn.functional as F

from impasto import Settings, stylize
from impasto.features.calibrate import calibrate
from impasto.features.networks import ScaledAvgPool
from impasto.features.registry import build_extractor
from impasto.image.io import load_image, to_tensor


def images(content_path, style_path):
    return [to_tensor(load_image(content_path)), to_tensor(load_image(style_path))]


def test_normalised_net_has_mean_activation_one_per_filter(content_path, style_path, squeezenet_weights):
    layers = ["relu1", "fire2", "fire5"]
    net = build_extractor("squeezenet1_1", layers, torch.load(squeezenet_weights), "caffe")
    before = net(images(content_path, style_path)[0])
    calibrate(net, images(content_path, style_path), normalize_filters=True)
    with torch.no_grad():
        per_image = [net(x) for x in images(content_path, style_path)]
    for layer in layers:
        # inside the net (before the one global feature scale) every filter averages 1
        means = torch.stack([f[layer].mean((0, 2, 3)) for f in per_image]).mean(0) * net.feature_scale
        alive = means > 0
        assert alive.float().mean() > 0.9
        assert torch.allclose(means[alive], torch.ones(()), atol=1e-3)
        # ReLU commutes with positive scaling: each channel's pattern is unchanged
        channel = int(alive.nonzero()[0])
        a, b = before[layer][0, channel], per_image[0][layer][0, channel]
        assert torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1] > 0.999


def test_average_pooling_is_rescaled_to_max_poolings_magnitude(content_path, style_path):
    net = build_extractor("vgg19", ["relu2_1"], None, pooling="avg")
    pool = next(m for m in net.layers if isinstance(m, ScaledAvgPool))
    x = images(content_path, style_path)[0]
    calibrate(net, [x], normalize_filters=False)
    assert pool.gain.item() > 1
    pre_pool = torch.nn.Sequential(*net.layers[:4])(net.normalize(x))  # conv1_1 .. relu1_2
    with torch.no_grad():
        assert torch.allclose(pool(pre_pool).mean(), F.max_pool2d(pre_pool, 2, 2).mean(), rtol=1e-4)


def test_normalised_avg_pooled_vgg_run_lowers_the_loss(content_path, style_path):
    log = []
    settings = Settings(
        weights="random",
        size=48,
        iterations=15,
        pooling="avg",
        normalize_vgg=True,
        style_layers=("relu1_1", "relu2_1", "relu3_1"),
    )
    stylize(content_path, style_path, settings, callback=log.append)
    assert log[-1].losses["total"] < 0.5 * log[0].losses["total"]
