"""Image loading, conversion between PIL images and tensors, and safe saving."""

from __future__ import annotations

import contextlib
import os
import types
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin

from impasto.atomic import replacing
from impasto.errors import ImpastoError

MAX_INPUT_PIXELS = 20_000 * 20_000
"""Inputs with more pixels than this are refused as too large (decompression-bomb guard)."""

SUPPORTED_SUFFIXES: Mapping[str, str] = types.MappingProxyType(
    {
        ".png": "PNG",
        ".jpg": "JPEG",
        ".jpeg": "JPEG",
        ".tif": "TIFF",
        ".tiff": "TIFF",
        ".webp": "WEBP",
    }
)
"""Output file suffix (lower case) -> Pillow format name."""

_SAVE_OPTIONS: Mapping[str, dict[str, int]] = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
_WHITE = (255, 255, 255, 255)


def _one_line(error: BaseException) -> str:
    """The error's message with all whitespace (newlines included) collapsed."""
    return " ".join(str(error).split()) or type(error).__name__


@contextlib.contextmanager
def _pixel_limit() -> Iterator[None]:
    """Make Pillow refuse images over MAX_INPUT_PIXELS, restoring its own limit afterwards."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _high_depth_to_l(image: Image.Image) -> Image.Image:
    """Scale a 16/32-bit integer ('I', 'I;16*') or float ('F') greyscale image to 8-bit 'L'.

    Integer images are taken as 16-bit (0..65535). Float images are taken as 0..1, 0..255
    or 0..65535: the smallest of those ranges that holds their largest value.
    """
    values = np.asarray(image).astype(np.float32)
    if image.mode == "F":
        values = np.nan_to_num(values, nan=0.0, posinf=65535.0, neginf=0.0)
        peak = float(values.max(initial=0.0))
        full_scale = next((s for s in (1.0, 255.0) if peak <= s), 65535.0)
    else:
        full_scale = 65535.0
    scaled = np.round(np.clip(values, 0.0, full_scale) * (255.0 / full_scale))
    return Image.fromarray(scaled.astype(np.uint8))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, compositing transparency over white."""
    if image.mode == "F" or image.mode.startswith("I"):
        image = _high_depth_to_l(image)
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Read any image Pillow understands as 8-bit RGB, upright per its EXIF orientation.

    Raises ImpastoError (naming the file) if it is missing, a directory, unreadable, not an
    image, corrupt or truncated, or larger than MAX_INPUT_PIXELS.
    """
    source = Path(path)
    if source.is_dir():
        raise ImpastoError(f"Input image {source} is a directory: give the path of an image file")
    try:
        with _pixel_limit(), Image.open(source) as opened:
            opened.load()  # decode everything now, so that truncation is detected here
            image = ImageOps.exif_transpose(opened)
    except FileNotFoundError as error:
        raise ImpastoError(f"Input image not found: {source}: check the path") from error
    except PermissionError as error:
        raise ImpastoError(
            f"Cannot read input image {source}: permission denied; check the file's permissions"
        ) from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImpastoError(
            f"Input image {source} is too large (over {MAX_INPUT_PIXELS:,} pixels): "
            "downscale it first"
        ) from error
    except Image.UnidentifiedImageError as error:
        raise ImpastoError(
            f"Input image {source} is not an image format Pillow can read: "
            "convert it to PNG or JPEG"
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImpastoError(
            f"Input image {source} is corrupt or truncated ({_one_line(error)}): "
            "re-export or re-download it"
        ) from error
    return _to_rgb(image)


def resize_longest(image: Image.Image, longest: int) -> Image.Image:
    """Scale (LANCZOS, aspect kept) so the longest side is `longest` px; each side stays >= 1."""
    if longest < 1:
        raise ImpastoError(
            f"Image size must be at least 1 pixel, got {longest}: pass a larger size"
        )
    width, height = image.size
    scale = longest / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """An RGB image as a float32 (1, 3, H, W) tensor in 0..1 on `device`."""
    if image.mode != "RGB":
        raise ValueError(f"to_tensor needs an RGB image, got mode {image.mode!r}; use load_image")
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))
    tensor = pixels.to(device).permute(2, 0, 1).unsqueeze(0)
    return tensor.to(torch.float32).div_(255.0).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """An RGB image from a (1, 3, H, W) or (3, H, W) float tensor, clamped to 0..1."""
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise ValueError(
            f"to_image needs a (1, 3, H, W) or (3, H, W) tensor, got {tuple(tensor.shape)}"
        )
    values = tensor.detach().to("cpu", torch.float32).nan_to_num(0.0).clamp(0.0, 1.0)
    pixels = values.mul(255.0).round().to(torch.uint8).permute(1, 2, 0).contiguous()
    return Image.fromarray(pixels.numpy())


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Check, before any long run, that an image can be saved at `path`; return it as a Path."""
    target = Path(path)
    if target.is_dir():
        raise ImpastoError(
            f"Output path {target} is a directory: give a file name such as {target / 'out.png'}"
        )
    if target.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ImpastoError(
            f"Cannot save {target}: unsupported file type {target.suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise ImpastoError(f"Cannot save {target}: {folder} is a file, not a folder")
        raise ImpastoError(
            f"Cannot save {target}: folder {folder} does not exist; create it first"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImpastoError(
            f"Cannot save {target}: folder {folder} is not writable; check its permissions"
        )
    return target


def save_image(
    image: Image.Image,
    path: str | os.PathLike[str],
    *,
    png_text: dict[str, str] | None = None,
) -> Path:
    """Save atomically in the format the suffix names: an old file is replaced whole or not at all.

    `png_text` becomes PNG text chunks for .png and is ignored for other formats.
    """
    target = check_output_path(path)
    image_format = SUPPORTED_SUFFIXES[target.suffix.lower()]
    options = dict(_SAVE_OPTIONS.get(image_format, {}))
    if image_format == "PNG" and png_text:
        info = PngImagePlugin.PngInfo()
        for key, value in png_text.items():
            info.add_text(key, value)  # falls back to iTXt for non-Latin-1 text
        options["pnginfo"] = info
    try:
        with replacing(target, target.suffix) as temp:
            image.save(temp, format=image_format, **options)
    except (OSError, ValueError) as error:
        raise ImpastoError(
            f"Could not save {target} ({_one_line(error)}): "
            "check free disk space and permissions, or try another format"
        ) from error
    return target
