"""The network-free quality measures rank images sensibly."""

import numpy as np
import torch
from conftest import IMAGES
from PIL import Image

from benchmarks.measures import blur, content_similarity, style_distance, style_distances_by_level


def load(name: str, size: int = 128) -> torch.Tensor:
    image = Image.open(IMAGES / name).convert("RGB")
    image.thumbnail((size, size), Image.LANCZOS)
    return torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1) / 255


def test_the_style_image_is_closest_to_itself():
    style, photo = load("starry_night.jpg"), load("tubingen.jpg")
    others = [photo, torch.rand_like(photo), blur(style, 3.0), load("the_scream.jpg")]
    own = style_distance(style, style)
    assert own < 1e-6
    assert all(own < style_distance(other, style) for other in others)


def test_a_blurred_style_is_farther_than_the_style_but_closer_than_a_photo():
    style, photo = load("starry_night.jpg"), load("tubingen.jpg")
    assert style_distance(style, style) < style_distance(blur(style, 1.0), style) < style_distance(photo, style)


def test_levels_tell_strokes_from_layout():
    style = load("starry_night.jpg", 256)
    blurred = style_distances_by_level(blur(style, 2.0), style)  # same layout, no strokes
    mirrored = style_distances_by_level(style.flip(-1), style)  # same strokes, another layout
    assert blurred[0] > 5 * blurred[-1]
    assert mirrored[-1] > 5 * mirrored[0]
    assert abs(sum(blurred) / len(blurred) - style_distance(blur(style, 2.0), style)) < 1e-6


def test_the_photo_is_most_similar_to_itself():
    photo, style = load("tubingen.jpg"), load("starry_night.jpg")
    noisy = (photo + 0.3 * torch.randn_like(photo)).clamp(0, 1)
    own = content_similarity(photo, photo)
    assert abs(own - 1) < 1e-5
    assert own > content_similarity(noisy, photo) > content_similarity(torch.rand_like(photo), photo)
    assert content_similarity(noisy, photo) > content_similarity(style, photo)


def test_fine_grain_barely_lowers_content_similarity():
    photo = load("tubingen.jpg")
    grain = (photo + 0.05 * torch.randn_like(photo)).clamp(0, 1)
    assert content_similarity(grain, photo) > 0.95
