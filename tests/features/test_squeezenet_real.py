"""A real stylisation with the ImageNet SqueezeNet 1.1 weights beside the repo."""

from impasto import Settings, Stylizer, stylize
from impasto.defaults import resolve
from impasto.image.io import load_image, to_tensor
from impasto.losses.terms import gram_matrix


def test_real_weights_move_the_image_toward_the_style(tmp_path, squeezenet_weights):
    from conftest import shrunk

    content, style = shrunk("tubingen.jpg", 128, tmp_path), shrunk("starry_night.jpg", 128, tmp_path)
    settings = Settings(model="squeezenet1_1", weights=str(squeezenet_weights), size=128, iterations=60, init="content")
    log = []
    result = stylize(content, style, settings, callback=log.append)
    first, last = log[0].losses, log[-1].losses
    assert last["style"] < first["style"] / 5
    assert last["content"] < first["style"] / 4  # the scene is kept: content stays bounded
    assert last["total"] < first["total"] / 3

    extractor = Stylizer(settings).objective(content, style).extractor
    layers = resolve(settings).style_layers
    grams = {
        name: {k: gram_matrix(v) for k, v in extractor(to_tensor(image.resize(result.size))).items() if k in layers}
        for name, image in (("result", result), ("content", load_image(content)), ("style", load_image(style)))
    }
    distance = lambda a, b: sum((grams[a][k] - grams[b][k]).pow(2).sum().item() for k in layers)  # noqa: E731
    assert distance("result", "style") < 0.3 * distance("content", "style")
