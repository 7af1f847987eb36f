"""Tests for impasto.images: loading and mode conversion, tensors, resizing, safe saving."""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from impasto.errors import ImpastoError
from impasto.image import io as images
from impasto.image.io import (
    SUPPORTED_SUFFIXES,
    check_output_path,
    load_image,
    resize_longest,
    save_image,
    to_image,
    to_tensor,
)

EXAMPLE_PHOTO = Path(__file__).resolve().parents[2] / "examples" / "tubingen.jpg"


def _noise(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _saved(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    assert image.mode == "RGB"
    return [tuple(int(v) for v in p) for p in np.asarray(image).reshape(-1, 3)]


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


# --- load_image: mode conversion -------------------------------------------------------


def test_rgb_jpeg_loads_as_rgb(tmp_path: Path) -> None:
    image = load_image(_saved(_noise(), tmp_path / "photo.jpg"))
    assert image.mode == "RGB" and image.size == (64, 48)


def test_real_photo_loads() -> None:
    image = load_image(EXAMPLE_PHOTO)
    assert image.mode == "RGB" and image.size == (1024, 768)


def test_greyscale_l(tmp_path: Path) -> None:
    grey = Image.fromarray(np.array([[0, 100, 255]], dtype=np.uint8))
    assert _pixels(load_image(_saved(grey, tmp_path / "grey.png"))) == [
        (0, 0, 0),
        (100, 100, 100),
        (255, 255, 255),
    ]


def test_greyscale_with_alpha_over_white(tmp_path: Path) -> None:
    la = Image.fromarray(np.array([[[100, 0], [100, 255], [0, 128]]], dtype=np.uint8), "LA")
    pixels = _pixels(load_image(_saved(la, tmp_path / "la.png")))
    assert pixels[0] == (255, 255, 255)
    assert pixels[1] == (100, 100, 100)
    assert all(abs(v - 127) <= 1 for v in pixels[2])


def test_rgba_composited_over_white(tmp_path: Path) -> None:
    rgba = Image.fromarray(np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128]]], dtype=np.uint8), "RGBA")
    pixels = _pixels(load_image(_saved(rgba, tmp_path / "rgba.png")))
    assert pixels[0] == (255, 255, 255)
    assert pixels[1] == (0, 0, 255)
    assert all(abs(v - 127) <= 1 for v in pixels[2])


def test_palette(tmp_path: Path) -> None:
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * (254 * 3))
    palette.putpixel((1, 0), 1)
    path = _saved(palette, tmp_path / "palette.png")
    assert Image.open(path).mode == "P"
    assert _pixels(load_image(path)) == [(10, 20, 30), (200, 100, 50)]


def test_palette_transparency_over_white(tmp_path: Path) -> None:
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * (254 * 3))
    palette.putpixel((1, 0), 1)
    path = _saved(palette, tmp_path / "palette.gif", transparency=0)
    assert _pixels(load_image(path)) == [(255, 255, 255), (200, 100, 50)]


def test_cmyk(tmp_path: Path) -> None:
    cmyk = Image.fromarray(np.array([[[0, 0, 0, 0], [255, 0, 0, 0], [0, 0, 0, 255]]], dtype=np.uint8), "CMYK")
    path = _saved(cmyk, tmp_path / "cmyk.tif")
    assert Image.open(path).mode == "CMYK"
    assert _pixels(load_image(path)) == [(255, 255, 255), (0, 255, 255), (0, 0, 0)]


def test_one_bit(tmp_path: Path) -> None:
    bits = Image.new("1", (2, 1))
    bits.putpixel((1, 0), 1)
    assert _pixels(load_image(_saved(bits, tmp_path / "bits.png"))) == [(0, 0, 0), (255, 255, 255)]


@pytest.mark.parametrize(
    ("dtype", "name", "expected_mode"),
    [
        (np.uint16, "grey16.png", "I;16"),
        (np.dtype(">u2"), "grey16b.tif", "I;16B"),
        (np.int32, "grey32.tif", "I"),
    ],
)
def test_sixteen_bit_grey_scaled_not_clipped(tmp_path: Path, dtype: np.dtype, name: str, expected_mode: str) -> None:
    grey = Image.fromarray(np.array([[0, 32768, 65535, 257]], dtype=dtype))
    path = _saved(grey, tmp_path / name)
    assert Image.open(path).mode == expected_mode
    assert _pixels(load_image(path)) == [(0, 0, 0), (128, 128, 128), (255, 255, 255), (1, 1, 1)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5, 1.0], [0, 128, 255]),  # 0..1 floats
        ([0.0, 0.5, 1.02], [0, 128, 255]),  # a resampling overshoot is clipped, not taken as 0..255
        ([-0.03, 0.25, 0.75], [0, 64, 191]),
    ],
)
def test_float_grey_is_read_as_0_to_1(tmp_path: Path, values: list[float], expected: list[int]) -> None:
    path = _saved(Image.fromarray(np.array([values], dtype=np.float32)), tmp_path / "float.tif")
    assert Image.open(path).mode == "F"
    assert _pixels(load_image(path)) == [(v, v, v) for v in expected]


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ([0.0, 100.0, 255.0], "has float pixel values from 0 to 255, but float pictures are read as 0..1: divide"),
        ([0.0, 32768.0, 65535.0], "has float pixel values from 0 to 65535, but float pictures are read as 0..1"),
        ([-5.0, 0.5, 0.5], "has float pixel values from -5 to 0.5"),
        ([0.0, float("nan"), 0.5], "has NaN or infinite pixel values: replace them"),
        ([0.0, float("inf"), 0.5], "has NaN or infinite pixel values"),
    ],
)
def test_float_grey_outside_0_to_1_is_refused(tmp_path: Path, values: list[float], needle: str) -> None:
    path = _saved(Image.fromarray(np.array([values], dtype=np.float32)), tmp_path / "float.tif")
    with pytest.raises(ImpastoError, match=re.escape(f"content image {path} {needle}")):
        load_image(path, "content image")


def test_exif_orientation_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = _saved(_noise(40, 20), tmp_path / "rotated.jpg", exif=exif)
    assert Image.open(path).size == (40, 20)
    assert load_image(path).size == (20, 40)


# --- load_image: errors ----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImpastoError, match=r"nowhere\.jpg does not exist: check the path"):
        load_image(tmp_path / "nowhere.jpg")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(ImpastoError, match=r"folder\.png is a folder: give a file"):
        load_image(folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"this is just text\n", r"notes\.jpg is not an image format"), (b"", r"notes\.jpg is empty \(0 bytes\)")],
)
def test_not_an_image(tmp_path: Path, content: bytes, message: str) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(content)
    with pytest.raises(ImpastoError, match=message):
        load_image(fake)


def test_truncated_jpeg(tmp_path: Path) -> None:
    whole = io.BytesIO()
    _noise(256, 256).save(whole, "JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(ImpastoError, match=r"cut\.jpg is corrupt or truncated") as caught:
        load_image(cut)
    assert "\n" not in str(caught.value)


def test_truncated_png(tmp_path: Path) -> None:
    whole = io.BytesIO()
    _noise(256, 256).save(whole, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(ImpastoError, match=r"cut\.png is corrupt or truncated"):
        load_image(cut)


def test_too_many_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(_noise(30, 30), tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_INPUT_PIXELS", 800)
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImpastoError, match=r"big\.png is too large .*downscale it"):
        load_image(path)
    assert Image.MAX_IMAGE_PIXELS == limit  # Pillow's own limit is restored
    monkeypatch.setattr(images, "MAX_INPUT_PIXELS", 900)
    assert load_image(path).size == (30, 30)


@pytest.mark.parametrize("side", [25_000, 40_000])  # over the limit, and over twice the limit
def test_png_header_claiming_huge_size(tmp_path: Path, side: int) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(side, side))
    with pytest.raises(ImpastoError, match=r"bomb\.png is too large"):
        load_image(bomb)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(_noise(), tmp_path / "secret.png")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImpastoError, match=r"input image .*secret\.png cannot be read: permission denied"):
        load_image(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _saved(_noise(), tmp_path / "secret.png")
    path.chmod(0)
    try:
        with pytest.raises(ImpastoError, match=r"secret\.png: permission denied"):
            load_image(path)
    finally:
        path.chmod(0o644)


# --- tensors and resizing --------------------------------------------------------------


def test_to_tensor_shape_dtype_range() -> None:
    tensor = to_tensor(_noise(5, 3), device=torch.device("cpu"))
    assert tensor.shape == (1, 3, 3, 5) and tensor.dtype == torch.float32
    assert tensor.is_contiguous()
    assert 0.0 <= tensor.min() and tensor.max() <= 1.0
    assert tensor[0, :, 1, 2].mul(255).round().tolist() == list(_noise(5, 3).getpixel((2, 1)))


def test_to_tensor_rejects_non_rgb() -> None:
    with pytest.raises(ValueError, match="RGB"):
        to_tensor(Image.new("RGBA", (2, 2)))


def test_round_trip_is_exact() -> None:
    image = _noise(17, 9)
    assert np.array_equal(np.asarray(to_image(to_tensor(image))), np.asarray(image))


def test_to_image_accepts_3d_other_dtypes_and_grad() -> None:
    tensor = torch.full((3, 2, 4), 0.5, dtype=torch.float64, requires_grad=True)
    image = to_image(tensor)
    assert image.mode == "RGB" and image.size == (4, 2)
    assert _pixels(image)[0] == (128, 128, 128)
    assert to_image(torch.zeros(1, 3, 2, 2, dtype=torch.bfloat16)).size == (2, 2)


def test_to_image_clamps_and_rounds() -> None:
    values = torch.tensor([-1.0, 2.0, 0.4 / 255, 0.6 / 255, float("nan")]).reshape(1, 1, 1, 5)
    assert [p[0] for p in _pixels(to_image(values.expand(1, 3, 1, 5)))] == [0, 255, 0, 1, 0]


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4, 4), (1, 4, 4, 4), (1, 1, 4, 4)])
def test_to_image_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="tensor"):
        to_image(torch.zeros(shape))


@pytest.mark.parametrize(
    ("size", "longest", "expected"),
    [
        ((400, 200), 100, (100, 50)),
        ((200, 400), 100, (50, 100)),
        ((300, 300), 512, (512, 512)),
        ((1000, 3), 10, (10, 1)),
        ((640, 480), 640, (640, 480)),
    ],
)
def test_resize_longest(size: tuple[int, int], longest: int, expected: tuple[int, int]) -> None:
    assert resize_longest(Image.new("RGB", size), longest).size == expected


def test_resize_longest_rejects_zero() -> None:
    with pytest.raises(ImpastoError, match="at least 1 pixel"):
        resize_longest(Image.new("RGB", (4, 4)), 0)


# --- check_output_path -----------------------------------------------------------------


def test_supported_suffixes() -> None:
    assert dict(SUPPORTED_SUFFIXES) == {
        ".png": "PNG",
        ".jpg": "JPEG",
        ".jpeg": "JPEG",
        ".tif": "TIFF",
        ".tiff": "TIFF",
        ".webp": "WEBP",
    }


def test_check_output_path_accepts_and_returns_path(tmp_path: Path) -> None:
    assert check_output_path(str(tmp_path / "out.PNG")) == tmp_path / "out.PNG"


@pytest.mark.parametrize("name", ["out.gif", "out"])
def test_check_output_path_bad_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ImpastoError, match=rf"{name}: unsupported file type .*\.png.*\.webp"):
        check_output_path(tmp_path / name)


def test_check_output_path_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImpastoError, match=r"out\.png: folder .*missing does not exist; create it"):
        check_output_path(tmp_path / "missing" / "out.png")


def test_check_output_path_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImpastoError, match=r"out\.png: .*file is a file, not a folder"):
        check_output_path(tmp_path / "file" / "out.png")


def test_check_output_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImpastoError, match=r"out\.png is a folder"):
        check_output_path(tmp_path / "out.png")


def test_check_output_path_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(ImpastoError, match=r"out\.png: folder .* is not writable"):
        check_output_path(tmp_path / "out.png")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_check_output_path_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ImpastoError, match="not writable"):
            check_output_path(folder / "out.png")
    finally:
        folder.chmod(0o755)


# --- save_image ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "exact"),
    [
        (".png", True),
        (".tif", True),
        (".tiff", True),
        (".jpg", False),
        (".jpeg", False),
        (".webp", False),
    ],
)
def test_save_image_formats_read_back(tmp_path: Path, suffix: str, exact: bool) -> None:
    y, x = np.mgrid[0:24, 0:32]
    image = Image.fromarray(np.stack([x * 8, y * 10, 255 - x * 4], axis=-1).astype(np.uint8))
    path = tmp_path / f"out{suffix}"
    assert save_image(image, str(path)) == path
    with Image.open(path) as saved:
        assert saved.format == SUPPORTED_SUFFIXES[suffix]
        difference = np.abs(np.asarray(saved.convert("RGB"), int) - np.asarray(image, int))
    assert difference.max() == 0 if exact else difference.mean() < 3
    assert os.listdir(tmp_path) == [path.name]


def test_save_image_png_text(tmp_path: Path) -> None:
    text = {"style": "starry", "note": "naïve ✓"}  # the second needs an iTXt chunk
    path = save_image(_noise(), tmp_path / "out.png", png_text=text)
    with Image.open(path) as saved:
        assert isinstance(saved, PngImagePlugin.PngImageFile)
        assert saved.text == text


def test_save_image_png_text_ignored_for_jpeg(tmp_path: Path) -> None:
    path = save_image(_noise(), tmp_path / "out.jpg", png_text={"style": "starry"})
    assert Image.open(path).format == "JPEG"


def test_save_image_replaces_existing_file_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")
    path.chmod(0o640)
    save_image(_noise(), path)
    assert Image.open(path).size == (64, 48)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_image_new_file_follows_umask(tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        path = save_image(_noise(), tmp_path / "out.png")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_save_leaves_existing_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    path = tmp_path / "keep.png"
    path.write_bytes(b"the user's precious original")

    def half_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        Path(fp).write_bytes(b"\x89PNG half written")  # type: ignore[arg-type]
        raise failure

    monkeypatch.setattr(Image.Image, "save", half_save)
    if isinstance(failure, OSError):
        with pytest.raises(ImpastoError, match=r"Could not save .*keep\.png \(.*No space left"):
            save_image(_noise(), path)
    else:
        with pytest.raises(KeyboardInterrupt):
            save_image(_noise(), path)
    assert path.read_bytes() == b"the user's precious original"
    assert os.listdir(tmp_path) == ["keep.png"]


def test_save_image_too_large_for_format(tmp_path: Path) -> None:
    with pytest.raises(ImpastoError, match=r"Could not save .*wide\.webp"):
        save_image(Image.new("RGB", (16384, 1)), tmp_path / "wide.webp")
    assert os.listdir(tmp_path) == []


def test_save_image_checks_path_first(tmp_path: Path) -> None:
    with pytest.raises(ImpastoError, match="unsupported file type"):
        save_image(_noise(), tmp_path / "out.bmp")
    assert os.listdir(tmp_path) == []
