"""Atomic writing of small files (logs, sidecars): the old file is replaced whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import ImpastoError


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Writes `data` to a temporary file beside `path`, then renames it over `path`."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ImpastoError(f"Cannot write {target}: folder {target.parent} does not exist; create it first")
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(error, OSError):
            raise ImpastoError(f"Could not write {target} ({error.strerror}): check free space and permissions") from error
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """`write_bytes_atomic` for UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
