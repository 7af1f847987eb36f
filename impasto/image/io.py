"""Image loading (every input through one conversion), conversion between PIL images and
tensors, and safe saving (8-bit or 16-bit, tagged sRGB)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import types
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from impasto.atomic import check_name, read_only, replacing
from impasto.errors import ImpastoError
from impasto.files import read_input
from impasto.image.convert import ARRAY_TYPES, array_to_image, srgb_profile, to_rgb
from impasto.image.deep import encode_png16, encode_tiff16

ImageInput = str | os.PathLike | Image.Image | np.ndarray
"""What the engine takes as an image: a file path, a PIL image of any mode, or a NumPy array
(HxW grey, HxWx3 RGB or HxWx4 RGBA). Samples are read by their type: uint8 0..255, uint16
0..65535, float 0..1 (clipped), bool black or white; see `impasto.image.convert`."""

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
DEEP_FORMATS = ("PNG", "TIFF")
"""The formats --bit-depth 16 can write."""


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


@dataclass(frozen=True)
class LoadedImage:
    """An input image read once: its path, its pixels (8-bit sRGB) and the SHA-256 of the
    very bytes they were decoded from (what provenance records)."""

    path: Path
    image: Image.Image
    sha256: str


def read_image(path: str | os.PathLike[str], what: str = "input image", setting: str | None = None) -> LoadedImage:
    """Reads any image Pillow understands, as upright 8-bit sRGB (see `impasto.image.convert`).

    Raises ImpastoError naming `what` and the file (after `setting`, when given) if it is
    missing, a folder, empty, unreadable, not an image, corrupt or truncated, or larger than
    MAX_INPUT_PIXELS.
    """
    data = read_input(path, what, setting)
    label = f"{setting + ' ' if setting else ''}{what} {Path(path)}"
    with opened_image(data, label, setting) as image:
        return LoadedImage(Path(path), to_rgb(image, label, setting), hashlib.sha256(data).hexdigest())


def load_image(path: str | os.PathLike[str], what: str = "input image", setting: str | None = None) -> Image.Image:
    """`read_image`'s pixels."""
    return read_image(path, what, setting).image


@contextlib.contextmanager
def opened_image(data: bytes, label: str, setting: str | None = None) -> Iterator[Image.Image]:
    """The decoded image in `data`; any failure to decode it or to use it inside the block
    becomes a one-line ImpastoError that starts with `label` ("content image a.jpg")."""
    try:
        with _pixel_limit(), Image.open(io.BytesIO(data)) as image:
            image.load()  # decode everything now, so that truncation is detected here
            yield image
    except ImpastoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImpastoError(
            f"{label} is too large (over {MAX_INPUT_PIXELS:,} pixels): downscale it first", setting
        ) from error
    except Image.UnidentifiedImageError as error:
        raise ImpastoError(
            f"{label} is not an image format Pillow can read: convert it to PNG or JPEG", setting
        ) from error
    except Exception as error:  # decoders raise many types for damaged files; all mean the same
        message = f"{label} is corrupt or truncated ({_one_line(error)}): re-export or re-download it"
        raise ImpastoError(message, setting) from error


def as_image(source: ImageInput, what: str = "input image") -> Image.Image:
    """Any accepted image input as upright 8-bit sRGB RGB: one conversion for paths, PIL
    images of any mode and NumPy arrays (`ImageInput`).

    Samples are read by their type, never guessed from their values: uint8 as 0..255,
    uint16 (and 16-bit Pillow modes) as 0..65535, float (and mode F) as 0..1, with slight
    overshoot clipped, bool as black or white. NaN or infinite values, and values outside
    their type's range, raise a one-line ImpastoError saying what to do.
    """
    if isinstance(source, Image.Image):
        with opened_image_of(source, what) as image:
            converted = to_rgb(image, what)
    elif isinstance(source, np.ndarray):
        converted = to_rgb(array_to_image(source, what))
    elif isinstance(source, (str, os.PathLike)):
        converted = load_image(source, what)
    else:
        raise TypeError(
            f"{what} must be a file path, a PIL image or a NumPy array ({ARRAY_TYPES}), got {type(source).__name__}"
        )
    if 0 in converted.size:
        raise ImpastoError(f"{what} has no pixels ({converted.width}x{converted.height}): give a real picture")
    return converted


@contextlib.contextmanager
def opened_image_of(image: Image.Image, what: str) -> Iterator[Image.Image]:
    """A caller's PIL image with its pixels loaded; a lazily opened file that turns out to be
    damaged gives the same one-line error as a path would."""
    try:
        image.load()
        yield image
    except ImpastoError:
        raise
    except Exception as error:
        if _was_closed(image, error):
            raise ImpastoError(
                f"{what} is a PIL image that was already closed: pass it while it is open (inside its "
                "`with Image.open(...)` block), or pass its path"
            ) from error
        raise ImpastoError(
            f"{what} is corrupt or truncated ({_one_line(error)}): re-export or re-download it"
        ) from error


def _was_closed(image: Image.Image, error: Exception) -> bool:
    """Whether Pillow failed because the caller had closed `image`: a made image says "Operation
    on closed image"; a file's image closed before its pixels were read has no file left."""
    if isinstance(error, ValueError):
        return "closed image" in str(error)
    return isinstance(error, AssertionError) and getattr(image, "fp", ...) is None


def fitted_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """(width, height) scaled so the longest side is `longest`, aspect kept, each side >= 1."""
    width, height = size
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_longest(image: Image.Image, longest: int) -> Image.Image:
    """Scale (LANCZOS, aspect kept) so the longest side is `longest` px; each side stays >= 1."""
    if longest < 1:
        raise ImpastoError(f"Image size must be at least 1 pixel, got {longest}: pass a larger size")
    return image.resize(fitted_size(image.size, longest), Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """An RGB image as a float32 (1, 3, H, W) tensor in 0..1 on `device`."""
    if image.mode != "RGB":
        raise ValueError(f"to_tensor needs an RGB image, got mode {image.mode!r}; use load_image")
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))
    tensor = pixels.to(device).permute(2, 0, 1).unsqueeze(0)
    return tensor.to(torch.float32).div_(255.0).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """An RGB image from a (1, 3, H, W) or (3, H, W) float tensor, clamped to 0..1."""
    return Image.fromarray(to_array(tensor, 8))


def to_array(picture: torch.Tensor | Image.Image, bits: int = 8) -> np.ndarray:
    """(H, W, 3) uint8 or uint16 pixels of a float tensor in 0..1 ((1, 3, H, W) or (3, H, W),
    clamped) or of a PIL image (8-bit values widened exactly, 255 -> 65535)."""
    if isinstance(picture, Image.Image):
        pixels = np.asarray(picture.convert("RGB"))
        return pixels if bits == 8 else pixels.astype(np.uint16) * 257
    tensor = picture[0] if picture.dim() == 4 and picture.shape[0] == 1 else picture
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise ValueError(f"to_image needs a (1, 3, H, W) or (3, H, W) tensor, got {tuple(picture.shape)}")
    values = tensor.detach().to("cpu", torch.float32).nan_to_num(0.0).clamp(0.0, 1.0)
    scaled = values.mul(2.0**bits - 1).round().permute(1, 2, 0).contiguous().numpy()
    return scaled.astype(np.uint8 if bits == 8 else np.uint16)


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Check, before any long run, that an image can be saved at `path`; return it as a Path."""
    target = Path(path)
    check_name(target)
    if target.is_dir():
        raise ImpastoError(f"{target} is a folder: give a file name such as {target / 'out.png'}")
    if target.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ImpastoError(
            f"{target}: unsupported file type {target.suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise ImpastoError(f"{target}: {folder} is a file, not a folder: give a path inside a folder")
        raise ImpastoError(f"{target}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        if read_only(folder):
            raise ImpastoError(f"{target}: folder {folder} is on a read-only file system; write somewhere else")
        raise ImpastoError(f"{target}: folder {folder} is not writable; check its permissions")
    return target


def save_image(
    image: Image.Image | torch.Tensor,
    path: str | os.PathLike[str],
    *,
    png_text: dict[str, str] | None = None,
    bits: int = 8,
    replace: bool = True,
) -> Path:
    """Save atomically in the format the suffix names, tagged as sRGB: an old file is replaced
    whole or not at all (and never, unless `replace`).

    `image` is a PIL image or a float tensor in 0..1; `bits` 16 writes 16-bit PNG or TIFF.
    `png_text` becomes PNG text chunks for .png and is ignored for other formats.
    """
    target = check_output_path(path)
    image_format = SUPPORTED_SUFFIXES[target.suffix.lower()]
    if bits == 16 and image_format not in DEEP_FORMATS:
        raise ImpastoError(f"bit_depth 16 needs a .png or .tif file, not {target.name}", "bit_depth")
    try:
        with replacing(target, target.suffix, replace) as temp:
            if bits == 16:
                temp.write_bytes(_encode16(to_array(image, 16), image_format, png_text))
            else:
                picture = to_image(image) if isinstance(image, torch.Tensor) else image
                picture.save(temp, format=image_format, **_save_options(image_format, png_text))
    except (OSError, ValueError) as error:
        raise ImpastoError(
            f"Could not save {target} ({_one_line(error)}): "
            "check free disk space and permissions, or try another format"
        ) from error
    return target


def _encode16(pixels: np.ndarray, image_format: str, png_text: dict[str, str] | None) -> bytes:
    if image_format == "PNG":
        return encode_png16(pixels, srgb_profile(), png_text)
    return encode_tiff16(pixels, srgb_profile())


def _save_options(image_format: str, png_text: dict[str, str] | None) -> dict[str, object]:
    """Pillow's save options: quality, the sRGB profile, and PNG text chunks."""
    options: dict[str, object] = {**_SAVE_OPTIONS.get(image_format, {}), "icc_profile": srgb_profile()}
    if image_format == "PNG" and png_text:
        info = PngImagePlugin.PngInfo()
        for key, value in png_text.items():
            info.add_text(key, value)  # falls back to iTXt for non-Latin-1 text
        options["pnginfo"] = info
    return options
