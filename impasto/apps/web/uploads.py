"""Uploads from browsers, trusted for nothing: limited in bytes while they stream in, typed
by what Pillow recognises in their content (never by their name), refused over the CLI's
pixel limit, and stored under a name made from their content hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import unicodedata
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PIL import Image

from impasto.apps.web.store import valid_id
from impasto.errors import ImpastoError
from impasto.image.io import load_image

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp", "GIF": ".gif"}
"""Image formats accepted, by Pillow's name, with the suffix they are stored under; no
others are even tried (some Pillow plugins hand files to outside programs)."""
THUMB_SIDE = 256


class UploadRefused(ImpastoError):
    """An upload that is not kept; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def display_name(raw: str | None) -> str:
    """The name a browser gave its file, for showing only: last path part, printable, short."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:80] or "image"


def too_large(name: str, limit: int) -> UploadRefused:
    return UploadRefused(f"{name} is over the {limit // 2**20} MB upload limit: use a smaller file", 413)


async def receive(chunks: AsyncIterator[bytes], folder: Path, name: str, limit: int) -> Path:
    """Streams an upload into a new file in `folder`, stopping as soon as it passes `limit` bytes."""
    target = folder / f"{uuid.uuid4().hex}.part"
    received = 0
    try:
        with open(target, "xb") as file:
            async for chunk in chunks:
                received += len(chunk)
                if received > limit:
                    raise too_large(name, limit)
                file.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if received == 0:
        target.unlink()
        raise UploadRefused(f"{name} is empty: choose an image file", 400)
    return target


def admit(received: Path, name: str, folder: Path) -> dict[str, Any]:
    """Checks a received file is an image of a known format within the pixel limit, and keeps
    it (with a thumbnail) under its content's name; the received file is consumed either way."""
    try:
        suffix = _sniff(received, name)
        try:
            image = load_image(received)
        except ImpastoError as error:  # its message names our temporary file: name the user's
            raise UploadRefused(str(error).replace(str(received), name), 415) from None
        upload_id = _digest(received)
        stored = folder / f"{upload_id}{suffix}"
        thumb = image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        thumb.save(folder / f"{upload_id}.thumb.jpg", quality=85)
        os.replace(received, stored)
    finally:
        received.unlink(missing_ok=True)
    return {"id": upload_id, "name": name, "width": image.width, "height": image.height}


def _sniff(path: Path, name: str) -> str:
    """The stored suffix for the accepted format whose reader recognises the file's content.

    Formats are tried one by one, so that an image too large for Pillow's default limit
    still names its format here; `load_image` then applies impasto's own pixel limit.
    """
    for kind, suffix in FORMATS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                Image.open(path, formats=[kind]).close()
        except Image.DecompressionBombError:
            return suffix
        except (OSError, SyntaxError, ValueError, EOFError):
            continue
        return suffix
    raise UploadRefused(f"{name} is not a PNG, JPEG, WebP, TIFF, BMP or GIF image: choose a picture file", 415)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def stored_upload(folder: Path, upload_id: str) -> Path | None:
    """The stored file of an upload id, or None for a malformed or unknown id."""
    if not valid_id(upload_id):
        return None
    for suffix in FORMATS.values():
        candidate = folder / f"{upload_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def link_or_copy(source: Path, target: Path) -> None:
    """Puts a stored upload into a job's folder without duplicating its bytes where possible."""
    with contextlib.suppress(FileExistsError):
        try:
            os.link(source, target)
        except OSError:
            target.write_bytes(source.read_bytes())
