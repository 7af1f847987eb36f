"""Colour preservation: luminance-only transfer keeps the content's chrominance, and
histogram matching gives the style the content's colour mean and covariance; the palette
start gives the content the styles' colours and keeps its picture."""

import torch
from PIL import Image

from impasto import Settings, stylize
from impasto.engine.targets import scale_inputs
from impasto.image.color import combine_luminance, match_color, pooled_palette, rgb_to_yiq, yiq_to_rgb
from impasto.image.initial import initial_image
from impasto.image.io import load_image, resize_longest, to_tensor


def colour_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.reshape(3, -1).double()
    return pixels.mean(1), torch.cov(pixels, correction=0)


def test_yiq_round_trip_and_grey_has_no_chrominance():
    image = torch.rand(1, 3, 8, 8)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    grey = rgb_to_yiq(torch.full((1, 3, 4, 4), 0.4))
    assert torch.allclose(grey[:, 0], torch.tensor(0.4)) and grey[:, 1:].abs().max() < 1e-6


def test_match_color_gives_the_content_mean_and_covariance(content_path, style_path):
    content, style = to_tensor(load_image(content_path)), to_tensor(load_image(style_path))
    matched = match_color(style, content)
    mean_c, cov_c = colour_stats(content)
    mean_m, cov_m = colour_stats(matched)
    assert torch.allclose(mean_m, mean_c, atol=0.01)
    assert torch.allclose(cov_m, cov_c, atol=0.002)
    assert not torch.allclose(colour_stats(style)[0], mean_c, atol=0.05)  # it really moved


def test_palette_start_has_the_style_colours_and_the_content_picture(content_path, style_path):
    content, style = to_tensor(load_image(content_path)), to_tensor(load_image(style_path))
    start = initial_image("palette", content, palette=pooled_palette([style], [1.0]))
    mean_s, cov_s = colour_stats(style)
    mean_p, cov_p = colour_stats(start)
    assert torch.allclose(mean_p, mean_s, atol=0.02) and torch.allclose(cov_p, cov_s, atol=0.005)
    assert not torch.allclose(colour_stats(content)[0], mean_s, atol=0.05)  # it really moved
    luma = torch.stack([rgb_to_yiq(image)[0, 0].flatten() for image in (content, start)])
    assert torch.corrcoef(luma)[0, 1] > 0.8  # the same picture


def test_pooled_palette_is_the_mixture_of_the_styles():
    red, blue = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    red[:, 0], blue[:, 2] = 1, 1
    mean, cov = pooled_palette([red, blue], [0.75, 0.25])
    assert torch.allclose(mean.flatten(), torch.tensor([0.75, 0, 0.25], dtype=mean.dtype))
    both = torch.cat([red.expand(3, -1, -1, -1), blue], 0).permute(1, 0, 2, 3).reshape(3, -1).double()
    assert torch.allclose(cov, torch.cov(both, correction=0))


def test_a_flat_content_is_not_stretched_into_noise():
    flat = torch.full((1, 3, 16, 16), 0.5) + 0.001 * torch.randn(1, 3, 16, 16)
    style = torch.rand(1, 3, 16, 16)
    start = initial_image("palette", flat, palette=pooled_palette([style], [1.0]))
    assert start.std(dim=(2, 3)).max() < 0.1


def test_histogram_mode_recolours_the_styles_at_every_scale(content_path, style_path):
    content, style = load_image(content_path), load_image(style_path)
    inputs = scale_inputs(content, [style], 64, Settings(preserve_color="histogram"), torch.device("cpu"))
    mean_c, _ = colour_stats(to_tensor(resize_longest(content, 64)))
    assert torch.allclose(colour_stats(inputs.styles[0])[0], mean_c, atol=0.01)


def test_luminance_mode_keeps_the_content_chrominance(content_path, style_path, squeezenet_weights):
    settings = Settings(
        model="squeezenet1_1", weights=str(squeezenet_weights), size=64, iterations=20, preserve_color="luminance"
    )
    result = to_tensor(stylize(content_path, style_path, settings))
    content = to_tensor(resize_longest(load_image(content_path), 64))
    yiq_result, yiq_content = rgb_to_yiq(result), rgb_to_yiq(content)
    assert (yiq_result[:, 1:] - yiq_content[:, 1:]).abs().mean() < 0.01  # colours kept
    assert (yiq_result[:, 0] - yiq_content[:, 0]).abs().mean() > 0.01  # luminance stylised
    plain = rgb_to_yiq(
        to_tensor(stylize(content_path, style_path, Settings(**{**settings.to_dict(), "preserve_color": "none"})))
    )
    assert (plain[:, 1:] - yiq_content[:, 1:]).abs().mean() > 0.02  # without it the colours move


def test_combine_luminance_takes_luminance_from_one_and_chrominance_from_the_other():
    # Colours near mid-grey, so that no combination leaves the RGB gamut and gets clamped.
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.rand(1, 3, 6, 6, generator=generator) * 0.2 + 0.4 for _ in range(2))
    mixed = rgb_to_yiq(combine_luminance(a, b))
    assert torch.allclose(mixed[:, 0], rgb_to_yiq(a)[:, 0], atol=1e-5)
    assert torch.allclose(mixed[:, 1:], rgb_to_yiq(b)[:, 1:], atol=1e-5)


def test_luminance_mode_shows_intermediate_images_in_colour(content_path, style_path, squeezenet_weights):
    from impasto.image.color import rgb_to_yiq

    images = []
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=48,
        iterations=3,
        preserve_color="luminance",
        precision="fp32",
    )
    result = stylize(content_path, style_path, settings, callback=lambda it: images.append(it.pixels))
    content = to_tensor(load_image(content_path).resize(result.size, Image.LANCZOS))
    chroma = lambda t: rgb_to_yiq(t)[:, 1:]  # noqa: E731
    assert chroma(content).abs().mean() > 0.02  # a colourful photo, so grey frames would show
    for pixels in images:  # what the user sees, at every iteration, has the content's colours
        assert (chroma(pixels) - chroma(content)).abs().mean() < 0.01


def test_a_palette_run_starts_in_the_style_colours_unless_colour_is_preserved(content_path, style_path):
    starts = {}
    for preserve in ("none", "histogram"):
        log = []
        settings = Settings(weights="random", size=32, iterations=1, init="palette", preserve_color=preserve, scales=1)
        stylize(content_path, style_path, settings, callback=log.append)
        starts[preserve] = log[0].pixels
    content = to_tensor(resize_longest(load_image(content_path), 32))
    style = to_tensor(resize_longest(load_image(style_path), 32))
    assert torch.allclose(colour_stats(starts["none"])[0], colour_stats(style)[0], atol=0.03)
    assert torch.allclose(starts["histogram"], content, atol=1e-6)  # the styles already carry the photo's colours
