"""16-bit RGB files for print work, which Pillow cannot write: PNG (with an ICC profile and
text chunks) and TIFF (Deflate, with an ICC profile), encoded from a (H, W, 3) uint16 array."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_png16(pixels: np.ndarray, icc_profile: bytes, text: Mapping[str, str] | None = None) -> bytes:
    """A 16-bit RGB PNG: rows "Up"-filtered and deflated, tagged with `icc_profile` (iCCP),
    `text` as UTF-8 iTXt chunks."""
    height, width, _ = pixels.shape
    rows = pixels.astype(">u2").view(np.uint8).reshape(height, width * 6)
    filtered = np.empty((height, width * 6 + 1), np.uint8)
    filtered[:, 0] = 2  # PNG filter type 2, "Up": each byte minus the one above it
    filtered[:, 1:] = rows
    filtered[1:, 1:] -= rows[:-1]
    chunks = [
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)),
        _chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(icc_profile)),
        *(
            _chunk(b"iTXt", key.encode("latin-1") + b"\0\1\0\0\0" + zlib.compress(value.encode("utf-8")))
            for key, value in (text or {}).items()
        ),
        _chunk(b"IDAT", zlib.compress(filtered.tobytes(), 6)),
        _chunk(b"IEND", b""),
    ]
    return PNG_SIGNATURE + b"".join(chunks)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_tiff16(pixels: np.ndarray, icc_profile: bytes) -> bytes:
    """A little-endian 16-bit RGB TIFF, one Deflate strip, with its ICC profile (tag 34675)."""
    height, width, _ = pixels.shape
    strip = zlib.compress(pixels.astype("<u2").tobytes(), 6)
    bits_at = 8 + 2 + 12 * 11 + 4  # after the header and the directory of 11 fields
    icc_at = bits_at + 6
    strip_at = icc_at + len(icc_profile) + len(icc_profile) % 2  # values start on word boundaries
    fields = [  # (tag, type, count, value or offset); types: 3 SHORT, 4 LONG, 7 UNDEFINED
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 3, bits_at),
        (259, 3, 1, 8),  # 8: Deflate
        (262, 3, 1, 2),
        (273, 4, 1, strip_at),
        (277, 3, 1, 3),
        (278, 4, 1, height),  # 2: RGB
        (279, 4, 1, len(strip)),
        (284, 3, 1, 1),
        (34675, 7, len(icc_profile), icc_at),
    ]
    # a single SHORT sits left-justified in its 4-byte slot: little-endian, the same bytes as a LONG
    directory = struct.pack("<H", len(fields)) + b"".join(struct.pack("<HHII", *f) for f in fields) + b"\0" * 4
    values = struct.pack("<3H", 16, 16, 16) + icc_profile + b"\0" * (len(icc_profile) % 2)
    return b"II*\0" + struct.pack("<I", 8) + directory + values + strip
