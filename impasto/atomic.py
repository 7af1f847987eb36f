"""Atomic file writing: a user's file is replaced whole or not at all, never half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from impasto.errors import ImpastoError


def file_mode(target: Path) -> int:
    """Permission bits for a written file: the replaced file's, else the umask's default."""
    with contextlib.suppress(FileNotFoundError):
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def replacing(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path beside `target` to write to; when the block ends, the file is
    flushed to disk, given `target`'s permissions and renamed over it. On any error or
    interruption the temporary file is removed and `target` is left as it was."""
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(descriptor)
    try:
        yield Path(temp_name)
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temp_name, file_mode(target))
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Writes `data` to `path` atomically."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ImpastoError(f"Cannot write {target}: folder {target.parent} does not exist; create it first")
    try:
        with replacing(target) as temp:
            temp.write_bytes(data)
    except OSError as error:
        raise ImpastoError(f"Could not write {target} ({error.strerror}): check free space and permissions") from error
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """`write_bytes_atomic` for UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"))
