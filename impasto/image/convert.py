"""The one conversion of every picture impasto is given (a Pillow image of any mode, a NumPy
array) to what the engine works on: 8-bit sRGB RGB, upright per its EXIF orientation,
colour-managed through its embedded ICC profile, transparency composited over white.

High-depth data is scaled, not clipped: integers are taken as 16-bit; floats as 0..1, 0..255
or 0..65535, the smallest of those ranges that holds their largest value (NaN as 0).
A damaged or mismatched ICC profile is ignored (the pixels are taken as sRGB), as browsers do.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms, ImageOps

WHITE = (255, 255, 255, 255)
ARRAY_TYPES = "HxW, HxWx3 or HxWx4 of uint8, uint16 or float"
_SPACES = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK", "LAB": "Lab "}
"""Image modes an ICC transform reads, with the profile colour space each needs."""


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile outputs are tagged with (LittleCMS's built-in one)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def to_rgb(image: Image.Image) -> Image.Image:
    """`image` as upright 8-bit sRGB RGB (see the module docstring)."""
    profile = image.info.get("icc_profile")
    image = _upright(image)
    if image.mode == "F" or image.mode.startswith("I"):
        image = Image.fromarray(to_8bit(np.asarray(image)))
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
    """A NumPy picture (see ARRAY_TYPES) as a Pillow image, for `to_rgb`."""
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    shape_ok = values.ndim == 2 or (values.ndim == 3 and values.shape[2] in (3, 4))
    if not shape_ok or values.dtype.kind not in "uf" or (values.dtype.kind == "u" and values.itemsize > 2):
        raise TypeError(f"{what}: a NumPy image must be {ARRAY_TYPES}, got shape {values.shape} of {values.dtype}")
    pixels = np.ascontiguousarray(values if values.dtype == np.uint8 else to_8bit(values))
    return Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB" if pixels.shape[2] == 3 else "RGBA")


def to_8bit(values: np.ndarray) -> np.ndarray:
    """High-depth values as uint8: integers taken as 16-bit, floats by their range (module docstring)."""
    if values.dtype.kind == "f":
        values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=65535.0, neginf=0.0)
        peak = float(values.max(initial=0.0))
        full_scale = next((s for s in (1.0, 255.0) if peak <= s), 65535.0)
    else:
        values, full_scale = values.astype(np.float64), 65535.0
    return np.round(np.clip(values, 0.0, full_scale) * (255.0 / full_scale)).astype(np.uint8)


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
    return image.convert("RGB") if transform is None else ImageCms.applyTransform(image, transform)


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
