"""One server per data folder: an exclusive lock on `<data>/serve.lock`, held while the
server runs and released by the operating system however it ends (a crash included), so
a second `impasto serve` on the same folder stops before it touches the first one's jobs."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import BinaryIO

from impasto.errors import ImpastoError

LOCK_NAME = "serve.lock"
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def lock_data_folder(root: Path) -> BinaryIO:
    """Takes the data folder's lock (making the folder if need be) and writes this process's id
    into it; the lock holds until the returned file is closed. Raises a one-line ImpastoError
    if another server holds it, or the folder cannot be used."""
    path = root / LOCK_NAME
    try:
        root.mkdir(parents=True, exist_ok=True)
        file = open(path, "a+b")  # the open file is the lock: the caller closes it
    except OSError as error:
        raise ImpastoError(
            f"cannot use the data folder {root} ({error.strerror or error}): choose another with --data"
        ) from error
    try:
        _lock(file)
    except OSError as error:
        file.close()
        if error.errno not in _BUSY:
            raise ImpastoError(
                f"cannot lock the data folder {root} ({error.strerror or error}): choose another with --data"
            ) from error
        holder = _holder(path)
        raise ImpastoError(
            f"the data folder {root} is in use by another impasto serve{holder}: stop that server, "
            "or give this one another folder with --data ANOTHER_FOLDER"
        ) from None
    file.truncate(0)
    file.write(f"{os.getpid()}\n".encode())
    file.flush()
    return file


def _lock(file: BinaryIO) -> None:
    """An exclusive, non-blocking lock on the whole file (OSError with a busy errno if taken)."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _holder(path: Path) -> str:
    """ " (process N)" naming the server that holds the lock, when its file says."""
    try:
        pid = path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
