"""Spatial control: masked Gram matrices, and each style kept to its own region."""

import pytest
import torch
from PIL import Image

from impasto import ImpastoError, Settings, stylize
from impasto.features.registry import build_extractor
from impasto.image.io import load_image, resize_longest, to_tensor
from impasto.image.masks import content_regions, fit_mask
from impasto.losses.terms import MaskedStyleLoss, gram_matrix, masked_gram


def test_masked_gram_of_a_full_mask_is_the_gram_and_a_half_mask_sees_only_its_half():
    features = torch.rand(1, 4, 6, 8)
    assert torch.allclose(masked_gram(features, torch.ones(1, 1, 6, 8))[0], gram_matrix(features)[0], atol=1e-6)
    left = torch.zeros(1, 1, 6, 8)
    left[..., :4] = 1
    assert torch.allclose(masked_gram(features, left)[0], gram_matrix(features[..., :4])[0], atol=1e-6)


def test_masks_are_area_averaged_down_to_each_feature_map():
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1
    small = fit_mask(mask, 2, 2)
    assert small.shape == (1, 1, 2, 2) and torch.equal(small[0, 0], torch.tensor([[1.0, 0.0], [1.0, 0.0]]))


def test_masked_style_loss_is_zero_when_each_region_has_its_target():
    features = torch.rand(1, 3, 4, 4)
    masks = torch.zeros(2, 1, 4, 4)
    masks[0, ..., :2], masks[1, ..., 2:] = 1, 1
    loss = MaskedStyleLoss(masked_gram(features, masks), masks, [1.0, 1.0])
    assert loss(features).item() == pytest.approx(0, abs=1e-9)
    assert loss(features.flip(-1)).item() > 0


def test_one_mask_for_two_styles_splits_the_content(tmp_path):
    path = tmp_path / "mask.png"
    mask = Image.new("L", (8, 4), 0)
    mask.paste(255, (0, 0, 4, 4))
    mask.save(path)
    regions = content_regions([load_image(path)], 2, (8, 4))
    assert regions.shape == (2, 1, 4, 8)
    assert regions[0, ..., :4].min() == 1 and regions[0, ..., 4:].max() == 0
    assert torch.equal(regions[1], 1 - regions[0])
    with pytest.raises(ImpastoError, match="one mask per style"):
        content_regions([load_image(path)] * 2, 3, (8, 4))
    with pytest.raises(ImpastoError, match="black everywhere"):
        content_regions([Image.new("L", (8, 4), 0)], 1, (8, 4))


def texture(colour: tuple[int, int, int], seed: int) -> Image.Image:
    """A noisy texture of one hue, as a stand-in artwork."""
    noise = torch.rand(48, 48, 1, generator=torch.Generator().manual_seed(seed))
    pixels = (noise * torch.tensor(colour)).to(torch.uint8).numpy()
    return Image.fromarray(pixels)


def test_each_style_moves_only_its_own_region(content_path, tmp_path, squeezenet_weights):
    content = load_image(content_path)
    mask = Image.new("L", content.size, 0)
    mask.paste(255, (0, 0, content.width // 2, content.height))
    mask.save(tmp_path / "left.png")
    red, blue = texture((255, 40, 0), 1), texture((0, 40, 255), 2)
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=64,
        iterations=40,
        content_mask=(str(tmp_path / "left.png"),),
        style_weight=1e4,
        style_loss="gram",  # masks: a Gram loss
    )
    result = to_tensor(stylize(content, [red, blue], settings))
    start = to_tensor(resize_longest(content, 64))
    half = result.shape[-1] // 2
    redness = lambda image: (image[:, 0] - image[:, 2]).mean().item()  # noqa: E731
    assert redness(result[..., :half]) > redness(start[..., :half]) + 0.1
    assert redness(result[..., half:]) < redness(start[..., half:]) - 0.1
    # each half's style statistics are nearer its own style than the other one's
    net = build_extractor("squeezenet1_1", ["fire2"], torch.load(squeezenet_weights), "caffe")
    gram = lambda image: gram_matrix(net(image)["fire2"])  # noqa: E731
    distance = lambda a, b: (gram(a) - gram(to_tensor(b))).pow(2).sum().item()  # noqa: E731
    assert distance(result[..., :half], red) < distance(result[..., :half], blue)
    assert distance(result[..., half:], blue) < distance(result[..., half:], red)


def test_style_masks_must_match_the_styles(content_path, style_path, tmp_path):
    Image.new("L", (8, 8), 255).save(tmp_path / "m.png")
    settings = Settings(weights="random", size=32, iterations=1, style_mask=(str(tmp_path / "m.png"),) * 2)
    with pytest.raises(ImpastoError, match="style_mask has 2 file"):
        stylize(content_path, style_path, settings)
