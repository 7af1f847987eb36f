"""Opening the files a run is given (images, masks, weights, checkpoints, records) with one
set of one-line errors: missing, a folder, a pipe or device, empty, unreadable, a link loop.

The file is opened once and checked through its descriptor, so what was checked is what is
read, even if the path changes meanwhile.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from impasto.errors import ImpastoError


def open_input(path: str | os.PathLike[str], what: str, setting: str | None = None) -> BinaryIO:
    """`path` opened for reading if it is a readable, non-empty regular file.

    `what` names the file in messages ("content image", "weights file"); messages start
    with `setting` when given, so that apps can show it as their own flag or field.
    """
    source = Path(path)
    label = f"{setting + ' ' if setting else ''}{what} {source}"
    if str(path) == "":
        raise ImpastoError(f"{setting + ' ' if setting else ''}{what} is an empty path: give a file", setting)
    try:  # non-blocking, so that a pipe without a writer is reported instead of waited for
        descriptor = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ImpastoError(f"{label} {_why(source, error)}", setting) from error
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise ImpastoError(f"{label} is a folder: give a file", setting)
        if not stat.S_ISREG(info.st_mode):
            raise ImpastoError(f"{label} is not a regular file (a pipe, socket or device): give a file", setting)
        if info.st_size == 0:
            raise ImpastoError(
                f"{label} is empty (0 bytes): give a complete file, re-exported or re-downloaded", setting
            )
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_input(path: str | os.PathLike[str], what: str, setting: str | None = None) -> bytes:
    """The whole content of `path`, with `open_input`'s checks and messages."""
    with open_input(path, what, setting) as opened:
        try:
            return opened.read()
        except OSError as error:
            label = f"{setting + ' ' if setting else ''}{what} {Path(path)}"
            raise ImpastoError(f"{label} {_why(Path(path), error)}", setting) from error


def _why(path: Path, error: OSError) -> str:
    """What went wrong opening or reading `path`, and what to do, for the end of a message."""
    if isinstance(error, IsADirectoryError):
        return "is a folder: give a file"
    if error.errno == errno.ELOOP:
        return "is a symbolic link loop: point it at a real file"
    if isinstance(error, FileNotFoundError):
        if os.path.islink(path):
            return f"is a broken symbolic link (to {os.readlink(path)}): point it at a real file"
        return "does not exist: check the path"
    if isinstance(error, NotADirectoryError):
        return "does not exist: a part of its path is a file, not a folder"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied; check its permissions"
    if error.errno == errno.ENAMETOOLONG:
        return "has a name too long for the file system: check the path"
    return f"cannot be read ({error.strerror or error}): check the disk and the file"


def short_stem(path: str | os.PathLike[str], limit: int = 80) -> str:
    """A file's stem cut to `limit` bytes (whole characters), for the names impasto makes from
    it: a default output name from two long input names still fits the file system."""
    return os.fsencode(Path(path).stem)[:limit].decode(errors="ignore") or "image"
