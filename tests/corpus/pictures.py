"""Odd but valid pictures, built on the spot (no binary files in the repository), each with the
pixels Pillow's own documented operations make of it: the reference impasto must match.

`FORMATS[name](folder) -> (path, reference)`: the file written under `folder` and the
(H, W, 3) uint8 array it must be read as.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

WIDTH, HEIGHT = 40, 30
ADOBE_RGB_D50 = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
"""Adobe RGB (1998): the red, green and blue primaries in XYZ, adapted to D50 (a wide gamut)."""


def noise(mode: str = "RGB", size: tuple[int, int] = (WIDTH, HEIGHT), seed: int = 0) -> Image.Image:
    """Random pixels in any 8-bit mode, smooth enough for lossy formats to stay near them."""
    rng = np.random.default_rng(seed)
    bands = len(Image.new(mode, (1, 1)).getbands())
    coarse = rng.integers(0, 256, (size[1] // 5 + 1, size[0] // 5 + 1, bands), dtype=np.uint8)
    values = np.kron(coarse, np.ones((5, 5, 1), np.uint8))[: size[1], : size[0]]
    return Image.fromarray(values[..., 0] if bands == 1 else values, mode if bands > 1 else "L").convert(mode)


def over_white(image: Image.Image) -> np.ndarray:
    """Pillow's own compositing of an image with transparency over white."""
    rgba = image.convert("RGBA")
    return np.asarray(Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB"))


def rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def icc_profile(columns: tuple[tuple[float, float, float], ...], gamma: float = 563 / 256) -> bytes:
    """A minimal ICC v2 RGB display profile: primaries (XYZ, D50) and one gamma curve."""

    def xyz(values: tuple[float, ...]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    description = b"impasto test profile\0"
    tags = {
        b"desc": b"desc\0\0\0\0" + struct.pack(">I", len(description)) + description + b"\0" * 78,
        b"wtpt": xyz((0.9642, 1.0, 0.8249)),
        b"rXYZ": xyz(columns[0]),
        b"gXYZ": xyz(columns[1]),
        b"bXYZ": xyz(columns[2]),
        b"rTRC": b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0",
        b"cprt": b"text\0\0\0\0no copyright\0",
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags.items():
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(
        ">I4sI4s4s4s12s4s", size, b"\0" * 4, 0x02100000, b"mntr", b"RGB ", b"XYZ ", b"\0" * 12, b"acsp"
    )
    header += b"\0" * 28 + struct.pack(">iii", 63190, 65536, 54061)  # rendering intent 0, illuminant D50
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + data


def converted(image: Image.Image, profile: bytes) -> np.ndarray:
    """Pillow's ImageCms conversion of `image` from `profile` to sRGB."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return rgb(ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"))


def _saved(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def _reference(path: Path, how: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    with Image.open(path) as opened:
        return how(opened)


def _sixteen_bit_grey(folder: Path) -> tuple[Path, np.ndarray]:
    values = (np.arange(WIDTH * HEIGHT, dtype=np.uint32).reshape(HEIGHT, WIDTH) * 54).astype(np.uint16)
    path = _saved(Image.fromarray(values), folder / "grey16.png")
    grey = np.round(values / 65535 * 255).astype(np.uint8)
    return path, np.stack([grey] * 3, -1)


def _sixteen_bit_pgm(folder: Path) -> tuple[Path, np.ndarray]:
    values = (np.arange(WIDTH * HEIGHT, dtype=np.uint32).reshape(HEIGHT, WIDTH) * 50).astype(">u2")
    path = folder / "grey16.pgm"
    path.write_bytes(f"P5 {WIDTH} {HEIGHT} 65535\n".encode() + values.tobytes())
    grey = np.round(values.astype(float) / 65535 * 255).astype(np.uint8)
    return path, np.stack([grey] * 3, -1)


def _float_tiff(folder: Path) -> tuple[Path, np.ndarray]:
    values = np.linspace(0, 1, WIDTH * HEIGHT, dtype=np.float32).reshape(HEIGHT, WIDTH)
    path = _saved(Image.fromarray(values), folder / "float.tif")
    grey = np.round(values.astype(float) * 255).astype(np.uint8)
    return path, np.stack([grey] * 3, -1)


def _exif_rotated(orientation: int) -> Callable[[Path], tuple[Path, np.ndarray]]:
    def build(folder: Path) -> tuple[Path, np.ndarray]:
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = _saved(noise(), folder / f"rotated{orientation}.png", exif=exif)
        return path, _reference(path, lambda opened: rgb(ImageOps.exif_transpose(opened)))

    return build


def _huge_exif(folder: Path) -> tuple[Path, np.ndarray]:
    exif = Image.Exif()
    exif[0x0112] = 8
    exif[0x010E] = "x" * 60_000  # ImageDescription: a 60 kB EXIF block
    path = _saved(noise(), folder / "huge_exif.jpg", exif=exif, quality=95)
    return path, _reference(path, lambda opened: rgb(ImageOps.exif_transpose(opened)))


def _wide_gamut(folder: Path) -> tuple[Path, np.ndarray]:
    profile = icc_profile(ADOBE_RGB_D50)
    image = noise()
    path = _saved(image, folder / "adobe_rgb.png", icc_profile=profile)
    return path, converted(image, profile)


def _grey_with_colour_profile(folder: Path) -> tuple[Path, np.ndarray]:
    profile = icc_profile(ADOBE_RGB_D50)
    image = noise("L")
    path = _saved(image, folder / "grey_adobe.png", icc_profile=profile)
    return path, converted(image.convert("RGB"), profile)


def _bogus_profile(folder: Path) -> tuple[Path, np.ndarray]:
    image = noise()
    return _saved(image, folder / "bogus_icc.png", icc_profile=b"not an ICC profile at all"), rgb(image)


def _apng(folder: Path) -> tuple[Path, np.ndarray]:
    frames = [noise(seed=1), noise(seed=2)]
    path = _saved(frames[0], folder / "animated.png", save_all=True, append_images=frames[1:], duration=100)
    return path, rgb(frames[0])


def _gif_transparent(folder: Path) -> tuple[Path, np.ndarray]:
    image = noise("P")
    path = _saved(image, folder / "transparent.gif", transparency=7)
    return path, _reference(path, over_white)


def _cmyk_jpeg(folder: Path) -> tuple[Path, np.ndarray]:
    path = _saved(noise("CMYK"), folder / "cmyk.jpg", quality=95)
    return path, _reference(path, rgb)


def _arithmetic_jpeg(folder: Path) -> tuple[Path, np.ndarray]:
    encoder = shutil.which("cjpeg")
    if encoder is None:
        pytest.skip("no cjpeg here to write an arithmetic-coded JPEG")
    source = _saved(noise(), folder / "source.ppm")
    path = folder / "arithmetic.jpg"
    subprocess.run([encoder, "-arithmetic", "-outfile", str(path), str(source)], check=True)
    source.unlink()
    return path, _reference(path, rgb)


def _plain(name: str, mode: str, **options: object) -> Callable[[Path], tuple[Path, np.ndarray]]:
    """A format whose reference is Pillow's plain conversion (over white where it has alpha)."""

    def build(folder: Path) -> tuple[Path, np.ndarray]:
        path = _saved(noise(mode), folder / name, **options)
        return path, _reference(
            path, lambda opened: over_white(opened) if opened.has_transparency_data else rgb(opened)
        )

    return build


FORMATS: dict[str, Callable[[Path], tuple[Path, np.ndarray]]] = {
    "progressive-jpeg": _plain("progressive.jpg", "RGB", progressive=True, quality=90),
    "arithmetic-jpeg": _arithmetic_jpeg,
    "cmyk-jpeg": _cmyk_jpeg,
    "apng-first-frame": _apng,
    "bmp": _plain("picture.bmp", "RGB"),
    "ico": _plain("icon.ico", "RGBA", sizes=[(WIDTH, HEIGHT)]),
    "ppm": _plain("picture.ppm", "RGB"),
    "pgm-16-bit": _sixteen_bit_pgm,
    "tga": _plain("picture.tga", "RGBA"),
    "pcx": _plain("picture.pcx", "RGB"),
    "tiff-cmyk": _plain("cmyk.tif", "CMYK"),
    "tiff-float": _float_tiff,
    "png-16-bit-grey": _sixteen_bit_grey,
    "png-grey-alpha": _plain("grey_alpha.png", "LA"),
    "png-rgba": _plain("rgba.png", "RGBA"),
    "png-one-bit": _plain("bits.png", "1"),
    "webp-alpha": _plain("alpha.webp", "RGBA", lossless=True),
    "gif-transparent": _gif_transparent,
    "exif-rotated-90": _exif_rotated(6),
    "exif-mirrored": _exif_rotated(2),
    "exif-huge-block": _huge_exif,
    "icc-wide-gamut": _wide_gamut,
    "icc-colour-profile-on-grey": _grey_with_colour_profile,
    "icc-bogus": _bogus_profile,
}
