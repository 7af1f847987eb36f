"""The corpus: odd and hostile inputs and situations, each with its exact outcome.

- every hostile command line gives one line of error naming the file or option and the fix,
  a non-zero exit, no traceback, no new or changed file, and (unless the problem is in the
  weights themselves) comes before the network is built;
- every odd but valid picture is read exactly as Pillow's own operations convert it, whether
  given as a path, a PIL image of its mode, or a NumPy array.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from corpus.app_cases import APP_CASES
from corpus.cases import CASES
from corpus.hostile import Corpus
from corpus.pictures import FORMATS, noise, over_white
from PIL import Image, ImageOps

import impasto.apps.single
import impasto.apps.video.command
from impasto.apps.cli import main
from impasto.errors import ImpastoError
from impasto.image.convert import to_8bit
from impasto.image.io import as_image, read_image


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (hidden ones too) with its kind, and a regular file's bytes' hash."""
    entries = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = os.lstat(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else None
            link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
            entries[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode), digest, link)
    return entries


class NoWork:
    """Stands in for the Stylizer: a case that must fail before any weights are loaded fails the test here."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the network was built before the error was found")


@pytest.mark.filterwarnings("error::UserWarning")  # a warning would be more lines on the terminal
@pytest.mark.parametrize("name", sorted({**CASES, **APP_CASES}))
def test_hostile_command_line_gives_one_line_before_any_work(name, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    corpus = Corpus(tmp_path)
    try:
        case = {**CASES, **APP_CASES}[name](corpus)
        if not case.after_weights:
            monkeypatch.setattr(impasto.apps.single, "Stylizer", NoWork)
            monkeypatch.setattr(impasto.apps.video.command, "Stylizer", NoWork)
        before = snapshot(tmp_path)
        try:
            code = main(case.argv)
        except SystemExit as exit:  # argparse's own refusals
            code = exit.code
        err = capsys.readouterr().err
        assert snapshot(tmp_path) == before  # no file created, changed or left behind
    finally:
        for cleanup in corpus.cleanups:
            cleanup()
    lines = err.strip().splitlines()
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith("impasto: error: ") and "Traceback" not in err, err
    for needle in case.needles:
        assert needle in lines[0], lines[0]
    for wrong in case.absent:
        assert wrong not in lines[0], lines[0]
    assert "weights_only" not in err and "<PIL" not in err


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_odd_picture_is_read_as_pillow_converts_it(name, tmp_path) -> None:
    path, reference = FORMATS[name](tmp_path)
    assert np.array_equal(np.asarray(read_image(path).image), reference)


def test_wide_gamut_profile_changes_the_colours(tmp_path) -> None:
    """The wide-gamut reference is not the raw pixels: the profile is really applied."""
    path, reference = FORMATS["icc-wide-gamut"](tmp_path)
    with Image.open(path) as raw:
        difference = np.abs(reference.astype(int) - np.asarray(raw.convert("RGB"), int))
    assert difference.mean() > 5


PIL_MODES = {  # mode -> Pillow's own conversion of a picture in that mode (the reference)
    "I;16": lambda image: np.stack([to_8bit(np.asarray(image))] * 3, -1),
    "I": lambda image: np.stack([to_8bit(np.asarray(image))] * 3, -1),
    "F": lambda image: np.stack([np.round(np.asarray(image, float) * 255).astype(np.uint8)] * 3, -1),
    "RGBA": over_white,
    "LA": over_white,
    "PA": over_white,
    "La": lambda image: over_white(image.convert("LA")),
    "RGBa": lambda image: over_white(image.convert("RGBA")),
    "CMYK": lambda image: np.asarray(image.convert("RGB")),
    "YCbCr": lambda image: np.asarray(image.convert("RGB")),
    "HSV": lambda image: np.asarray(image.convert("RGB")),
}


def _in_mode(mode: str) -> Image.Image:
    if mode in ("I;16", "I"):
        values = (np.arange(40 * 30).reshape(30, 40) * 54).astype(np.uint16 if mode == "I;16" else np.int32)
        return Image.fromarray(values)
    if mode == "F":
        return Image.fromarray(np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(30, 40))
    return noise("RGBA").convert(mode) if "A" in mode or "a" in mode else noise().convert(mode)


@pytest.mark.parametrize("mode", sorted(PIL_MODES))
def test_pil_image_of_any_mode_takes_the_path_a_file_takes(mode) -> None:
    image = _in_mode(mode)
    assert np.array_equal(np.asarray(as_image(image)), PIL_MODES[mode](image))


def test_pil_image_is_turned_upright_like_a_file(tmp_path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    noise().save(tmp_path / "turned.jpg", exif=exif)
    with Image.open(tmp_path / "turned.jpg") as opened:
        expected = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
        assert np.array_equal(np.asarray(as_image(opened)), expected)
    assert np.array_equal(np.asarray(read_image(tmp_path / "turned.jpg").image), expected)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.full((20, 20, 3), 128, np.uint8), 128),
        (np.full((20, 20), 65535, np.uint16), 255),
        (np.full((20, 20, 3), 0.5, np.float32), 128),
        (np.full((20, 20, 3), 1.02), 255),  # a resampling overshoot, clipped
        (np.full((20, 20, 3), -0.01, np.float16), 0),
        (np.full((20, 20), True), 255),
        (np.dstack([np.zeros((20, 20, 3)), np.zeros((20, 20))]), 255),  # transparent: white
    ],
    ids=[
        "uint8",
        "uint16-grey",
        "float-unit",
        "float-overshoot",
        "float16-undershoot",
        "bool",
        "float-rgba-transparent",
    ],
)
def test_numpy_arrays_are_accepted(values, expected) -> None:
    image = as_image(values)
    assert image.mode == "RGB" and image.size == (20, 20)
    assert np.all(np.asarray(image) == expected)


@pytest.mark.parametrize(
    "source",
    [None, 3, b"bytes", np.zeros((4, 4), np.int64), np.zeros((4, 4, 2)), np.zeros(7)],
    ids=["none", "int", "bytes", "int64-array", "two-channels", "one-dimension"],
)
def test_other_inputs_are_a_type_error_naming_what_is_accepted(source) -> None:
    with pytest.raises(TypeError, match=r"content image.*(file path, a PIL image or a NumPy array|must be HxW)"):
        as_image(source, "content image")


def test_float_photo_with_one_overshoot_is_stylised_not_black() -> None:
    """The API case: a 0..1 float photo with one resampled value of 1.02 stays a 0..1 photo."""
    from impasto import Settings, stylize

    photo = np.asarray(noise(size=(32, 24)), np.float64) / 255
    photo[0, 0, 0] = 1.02
    settings = Settings(model="squeezenet1_1", weights="random", size=32, iterations=1, style_weight=0, init="content")
    expected = np.asarray(noise(size=(32, 24)), int).copy()
    expected[0, 0, 0] = 255  # the overshoot, clipped
    assert np.abs(np.asarray(stylize(photo, noise(seed=2), settings), int) - expected).max() <= 1


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (np.full((8, 8, 3), np.nan), "has NaN or infinite pixel values: replace them"),
        (np.full((8, 8), -np.inf, np.float32), "has NaN or infinite pixel values"),
        (np.full((8, 8, 3), 200.0), "float pixel values from 200 to 200, but float pictures are read as 0..1: divide"),
        (np.full((8, 8), 40000.0), "from 40000 to 40000"),
        (np.full((8, 8, 3), -3.0), "from -3 to -3"),
        (Image.fromarray(np.full((8, 8), 255.0, np.float32)), "float pictures are read as 0..1"),  # convert("F")
        (Image.fromarray(np.full((8, 8), np.nan, np.float32)), "has NaN or infinite pixel values"),
        (Image.fromarray(np.full((8, 8), 70000, np.int32)), "beyond the 16-bit range 0..65535"),
        (Image.fromarray(np.full((8, 8), -1, np.int32)), "from -1 to -1, beyond the 16-bit range"),
    ],
    ids=[
        "nan",
        "minus-infinity",
        "float-0-255",
        "float-16-bit",
        "float-negative",
        "mode-F-0-255",
        "mode-F-nan",
        "mode-I-32-bit",
        "mode-I-negative",
    ],
)
def test_pixels_outside_their_types_range_are_refused_in_one_line(source, needle) -> None:
    with pytest.raises(ImpastoError) as refused:
        as_image(source, "content image")
    message = str(refused.value)
    assert message.startswith("content image ") and needle in message and "\n" not in message


def test_a_closed_pil_image_is_named_as_closed(tmp_path) -> None:
    noise().save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as unread:  # closed before its pixels were read
        pass
    made = noise()
    made.close()
    for closed in (unread, made):
        with pytest.raises(ImpastoError, match=r"^style image is a PIL image that was already closed: pass it while"):
            as_image(closed, "style image")
    with Image.open(tmp_path / "a.png") as read:  # closed after: Pillow keeps the pixels, so it works
        read.load()
    assert np.array_equal(np.asarray(as_image(read)), np.asarray(noise()))
