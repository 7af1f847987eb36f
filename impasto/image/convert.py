"""The one conversion of every picture impasto is given (a Pillow image of any mode, a NumPy
array) to what the engine works on: 8-bit sRGB RGB, upright per its EXIF orientation,
colour-managed through its embedded ICC profile, transparency composited over white.

Samples are read by their type's convention, never guessed from their values:
- 8-bit Pillow modes and uint8 arrays: 0..255;
- 16-bit modes (I;16 and its byte orders, and I, which Pillow opens 16-bit PGM files as) and
  uint16 arrays: 0..65535, scaled to 8 bits;
- floating point (mode F, float16/32/64 arrays): 0..1, the range of tensors; values a little
  outside it (resampling overshoot, down to -0.5 and up to 1.5) are clipped;
- bool arrays and mode 1: False black, True white.
Values beyond their type's range (a float picture in 0..255, a 32-bit integer beyond 65535)
and NaN or infinite values are refused with a one-line ImpastoError that says what to do,
never turned black or white. A damaged or mismatched ICC profile is ignored (the pixels are
taken as sRGB), as browsers do.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms, ImageOps

from impasto.errors import ImpastoError

WHITE = (255, 255, 255, 255)
ARRAY_TYPES = "HxW, HxWx3 or HxWx4 of uint8 (0..255), uint16 (0..65535), float (0..1) or bool"
FLOAT_SLACK = 0.5
"""How far outside 0..1 a float sample may lie and still be clipped (resampling overshoot):
further out, the picture is in another range and is refused."""
_SPACES = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK", "LAB": "Lab "}
"""Image modes an ICC transform reads, with the profile colour space each needs."""


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile outputs are tagged with (LittleCMS's built-in one)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def to_rgb(image: Image.Image, what: str = "image", setting: str | None = None) -> Image.Image:
    """`image` as upright 8-bit sRGB RGB (see the module docstring); a refusal names `what`
    (and is about `setting`, when given)."""
    profile = image.info.get("icc_profile")
    image = _upright(image)
    if image.mode == "F" or image.mode.startswith("I"):
        image = Image.fromarray(to_8bit(np.asarray(image), what, setting))
    if image.mode in ("La", "RGBa"):  # premultiplied alpha
        image = image.convert(image.mode.upper())
    if image.mode == "LAB":
        return _managed(image, profile or _lab_profile())
    if not image.has_transparency_data:
        return _managed(image, profile)
    rgba = image.convert("RGBA")
    colours = _managed(image.convert("L") if image.mode == "LA" else rgba.convert("RGB"), profile)
    colours.putalpha(rgba.getchannel("A"))
    return Image.alpha_composite(Image.new("RGBA", image.size, WHITE), colours).convert("RGB")


def array_to_image(values: np.ndarray, what: str = "image") -> Image.Image:
    """A NumPy picture (see ARRAY_TYPES and the module docstring) as an 8-bit Pillow image, for `to_rgb`."""
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    shape_ok = values.ndim == 2 or (values.ndim == 3 and values.shape[2] in (3, 4))
    type_ok = values.dtype.kind in "bf" or (values.dtype.kind == "u" and values.itemsize <= 2)
    if not shape_ok or not type_ok:
        fix = " (convert it with .astype(numpy.uint8) for 0..255)" if values.dtype.kind in "iu" and shape_ok else ""
        raise TypeError(f"{what}: a NumPy image must be {ARRAY_TYPES}, got shape {values.shape} of {values.dtype}{fix}")
    pixels = np.ascontiguousarray(to_8bit(values, what))
    return Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB" if pixels.shape[2] == 3 else "RGBA")


def to_8bit(values: np.ndarray, what: str = "image", setting: str | None = None) -> np.ndarray:
    """Samples as uint8 by their type's convention (module docstring): uint8 as they are, bool
    as 0 or 255, other integers as 16-bit, floats as 0..1; values beyond it are refused."""
    if values.dtype == np.uint8:
        return values
    if values.dtype.kind == "b":
        return values.astype(np.uint8) * 255
    if values.dtype.kind == "f":
        values = values.astype(np.float64)
        if not np.isfinite(values).all():
            raise ImpastoError(
                f"{what} has NaN or infinite pixel values: replace them with numbers in 0..1 "
                "(numpy.nan_to_num) or re-export the picture",
                setting,
            )
        full_scale, low, high = 1.0, -FLOAT_SLACK, 1.0 + FLOAT_SLACK
    else:
        values, full_scale = values.astype(np.float64), 65535.0
        low, high = 0.0, full_scale
    lowest, highest = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if lowest < low or highest > high:
        raise ImpastoError(f"{what} {_out_of_range(lowest, highest, full_scale)}", setting)
    return np.round(np.clip(values, 0.0, full_scale) * (255.0 / full_scale)).astype(np.uint8)


def _out_of_range(lowest: float, highest: float, full_scale: float) -> str:
    """What is wrong with samples from `lowest` to `highest` for a type read as 0..`full_scale`, and the fix."""
    if full_scale == 1.0:
        return (
            f"has float pixel values from {lowest:g} to {highest:g}, but float pictures are read as 0..1: "
            "divide 0..255 values by 255, or give the picture as 8- or 16-bit integers"
        )
    return (
        f"has integer pixel values from {lowest:g} to {highest:g}, beyond the 16-bit range 0..65535 "
        "it is read as: rescale it to 16 bits (or 0..255 as uint8)"
    )


def _upright(image: Image.Image) -> Image.Image:
    """`image` turned as its EXIF orientation says; a damaged EXIF block is ignored, as viewers do."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF parser raises many types for malformed blocks
        return image.copy()


@functools.cache
def _lab_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()


def _managed(image: Image.Image, profile: bytes | None) -> Image.Image:
    """`image` (no alpha) converted to sRGB through `profile`, or taken as sRGB without one."""
    if image.mode not in _SPACES:
        image = image.convert("RGB")
    transform = _transform(profile, image.mode) if profile else None
    if transform is None and image.mode == "L" and profile:  # a grey image tagged with a colour profile
        image = image.convert("RGB")
        transform = _transform(profile, "RGB")
    if transform is None:
        return image.convert("RGB")
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None  # None only for a transform in place
    return converted


@functools.lru_cache(maxsize=16)
def _transform(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The transform from `profile` to sRGB for `mode` images; None if the profile is damaged
    or describes another colour space."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space != _SPACES.get(mode):
            return None
        return ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), mode, "RGB", ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
