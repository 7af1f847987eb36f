"""Property: any NumPy array or PIL image of a supported type, with any values, either becomes
the picture Pillow's own operations make of it under impasto's documented convention (uint8
0..255, uint16 and 16-bit modes 0..65535, float and mode F 0..1 with slight overshoot
clipped, bool black or white), within rounding, or is refused with one line of
ImpastoError that says what to do. Never a black or white picture by surprise."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from corpus.pictures import over_white
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from impasto import ImpastoError
from impasto.image.convert import FLOAT_SLACK
from impasto.image.io import as_image

SIDES = st.integers(1, 6)
SHAPES = st.tuples(SIDES, SIDES, st.sampled_from([0, 1, 3, 4]))  # 0: HxW grey
EIGHT_BIT_MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "La", "CMYK", "YCbCr", "LAB", "HSV"]
SIXTEEN_BIT_MODES = ["I;16", "I;16B", "I"]
RUN = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def floats() -> st.SearchStrategy[float]:
    """Mostly 0..1 with the overshoot resampling makes; sometimes another range, or not a number."""
    return st.one_of(
        st.floats(-0.05, 1.05),
        st.floats(-2.0, 1000.0),
        st.sampled_from([np.nan, np.inf, -np.inf, 1.02, 255.0, 65535.0]),
    )


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    height, width, channels = draw(SHAPES)
    shape = (height, width, channels) if channels else (height, width)
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float16, np.float32, np.float64, np.bool_]))
    count = int(np.prod(shape))
    if dtype is np.bool_:
        values = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    elif dtype in (np.uint8, np.uint16):
        values = draw(st.lists(st.integers(0, np.iinfo(dtype).max), min_size=count, max_size=count))
    else:
        values = draw(st.lists(floats(), min_size=count, max_size=count))
    with np.errstate(over="ignore"):  # a float16 beyond 65504 is infinite: refused like any infinity
        return np.array(values, dtype=dtype).reshape(shape)


@st.composite
def images(draw: st.DrawFn) -> Image.Image:
    height, width, _ = draw(SHAPES)
    mode = draw(st.sampled_from([*EIGHT_BIT_MODES, *SIXTEEN_BIT_MODES, "F"]))
    count = height * width
    if mode == "F":
        values = draw(st.lists(floats(), min_size=count, max_size=count))
        return Image.fromarray(np.array(values, np.float32).reshape(height, width), "F")
    if mode == "I":
        values = draw(st.lists(st.integers(-70000, 70000) | st.integers(0, 65535), min_size=count, max_size=count))
        return Image.fromarray(np.array(values, np.int32).reshape(height, width), "I")
    if mode.startswith("I;16"):
        values = np.array(draw(st.lists(st.integers(0, 65535), min_size=count, max_size=count)), np.uint16)
        order = ">u2" if mode == "I;16B" else "<u2"
        return Image.frombytes(mode, (width, height), values.astype(order).tobytes())
    size = count * len(Image.new(mode, (1, 1)).getbands()) if mode != "1" else (width + 7) // 8 * height
    image = Image.frombytes(mode, (width, height), draw(st.binary(min_size=size, max_size=size)))
    if mode in ("P", "PA"):
        image.putpalette(draw(st.binary(min_size=768, max_size=768)))
    return image


def sixteen_bit(channel: np.ndarray) -> Image.Image:
    """Pillow's own linear mapping of 0..65535 onto 0..255 (mode I, `point`), as an L image."""
    return Image.fromarray(channel.astype(np.int32), "I").point(lambda v: v * (255 / 65535)).convert("L")


def unit_float(channel: np.ndarray) -> Image.Image:
    """Pillow's own linear mapping of 0..1 onto 0..255 (mode F, `point`, clipped by `convert`)."""
    return Image.fromarray(channel.astype(np.float32), "F").point(lambda v: v * 255).convert("L")


def reference_of_array(values: np.ndarray) -> np.ndarray:
    """Each channel as Pillow maps its type's range to 8 bits; then grey, RGB or RGBA over white."""
    planes = values[..., None] if values.ndim == 2 else values
    if planes.shape[2] == 1:
        planes = planes[..., 0:1]
    if values.dtype == np.uint8:
        bands = [Image.fromarray(planes[..., i], "L") for i in range(planes.shape[2])]
    elif values.dtype == np.bool_:
        bands = [Image.fromarray(planes[..., i]).convert("L") for i in range(planes.shape[2])]
    elif values.dtype == np.uint16:
        bands = [sixteen_bit(planes[..., i]) for i in range(planes.shape[2])]
    else:
        bands = [unit_float(planes[..., i]) for i in range(planes.shape[2])]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[len(bands)]
    return reference_of_image(Image.merge(mode, bands))


def reference_of_image(image: Image.Image) -> np.ndarray:
    """Pillow's own conversion of an image to RGB: over white where it has alpha, through a
    Lab profile for LAB, by `point` for the 16-bit and float modes."""
    if image.mode.startswith("I;16"):
        return reference_of_image(sixteen_bit(np.asarray(image)))
    if image.mode == "I":
        return reference_of_image(sixteen_bit(np.asarray(image)))
    if image.mode == "F":
        return reference_of_image(unit_float(np.asarray(image)))
    if image.mode == "LAB":
        lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
        return np.asarray(ImageCms.profileToProfile(image, lab, ImageCms.createProfile("sRGB"), outputMode="RGB"))
    if image.mode in ("La", "RGBa"):
        return over_white(image.convert(image.mode.upper()))
    return over_white(image) if image.has_transparency_data else np.asarray(image.convert("RGB"))


def refusal_expected(values: np.ndarray) -> bool:
    """Whether these samples lie outside their type's convention (float beyond the slack, 16-bit beyond 0..65535)."""
    if values.dtype.kind == "f":
        finite = np.isfinite(values).all()
        return not finite or values.min() < -FLOAT_SLACK or values.max() > 1 + FLOAT_SLACK
    if values.dtype.kind == "i":
        return values.min() < 0 or values.max() > 65535
    return False


def check(source: np.ndarray | Image.Image, samples: np.ndarray, reference: object) -> None:
    if refusal_expected(samples):
        event("refused")
        try:
            as_image(source, "content image")
        except ImpastoError as error:
            message = str(error)
            assert "\n" not in message and message.startswith("content image"), message
            assert ("NaN" in message) != bool(np.isfinite(samples).all()), message
            assert "read as 0..1" in message or "0..65535" in message or "NaN" in message, message
            return
        raise AssertionError(f"{samples.dtype} values from {samples.min()} to {samples.max()} were accepted")
    event("converted")
    converted = np.asarray(as_image(source, "content image"), np.int16)
    expected = np.asarray(reference(), np.int16)
    assert converted.shape == expected.shape
    assert np.abs(converted - expected).max() <= 1, (converted, expected)


@RUN
@given(arrays())
def test_any_array_is_what_pillow_makes_of_it_or_one_line(values: np.ndarray) -> None:
    event(str(values.dtype))
    check(values, values, lambda: reference_of_array(values))


@RUN
@given(images())
def test_any_pil_image_is_what_pillow_makes_of_it_or_one_line(image: Image.Image) -> None:
    event(image.mode)
    samples = np.asarray(image) if image.mode == "F" or image.mode.startswith("I") else np.zeros(1, np.uint8)
    check(image, samples, lambda: reference_of_image(image))


@RUN
@given(images())
def test_an_image_file_is_read_as_the_image_it_holds(image: Image.Image) -> None:
    """A file goes through the same conversion as the PIL image it holds (TIFF stores these modes as they are)."""
    if image.mode in ("RGBa", "La", "PA", "HSV", "LAB", "I;16B", "RGBX"):
        return  # modes TIFF does not store as they are
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "picture.tif"
        image.save(path)
        with Image.open(path) as stored:
            stored.load()
        samples = np.asarray(stored) if stored.mode == "F" or stored.mode.startswith("I") else np.zeros(1, np.uint8)
        check(path, samples, lambda: reference_of_image(stored))
