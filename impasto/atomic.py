"""Atomic file writing: a user's file is replaced whole or not at all, never half-written,
and, unless replacing is asked for, an existing file is never replaced, even one that
another program created while the run was going."""

from __future__ import annotations

import contextlib
import errno
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


TEMP_NAME_BYTES = 96
"""Temporary names carry at most this much of the target's name, so any legal name can be written."""
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV)


def _temp_prefix(target: Path) -> str:
    """`.NAME.` with NAME cut to TEMP_NAME_BYTES bytes (whole characters)."""
    return "." + os.fsencode(target.name)[:TEMP_NAME_BYTES].decode(errors="ignore") + "."


@contextlib.contextmanager
def replacing(target: Path, suffix: str = "", replace: bool = True) -> Iterator[Path]:
    """Yields a temporary path beside `target` to write to; when the block ends, the file is
    flushed to disk, given `target`'s permissions and renamed over it (with `replace` False it
    is linked into place instead, which fails if `target` exists by then). On any error or
    interruption the temporary file is removed and `target` is left as it was."""
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target), suffix=suffix)
    os.close(descriptor)
    try:
        yield Path(temp_name)
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temp_name, file_mode(target))
        if replace:
            os.replace(temp_name, target)
        else:
            _place_new(Path(temp_name), target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)


def _place_new(temp: Path, target: Path) -> None:
    """Gives `temp` the name `target` unless a file of that name exists (atomically where the
    file system has hard links)."""
    try:
        os.link(temp, target)
        return
    except FileExistsError:
        pass
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        if not os.path.lexists(target):
            os.replace(temp, target)
            return
    raise ImpastoError(
        f"{target} was created by another program during the run, so it was left alone: choose another name"
    )


def check_writable(target: Path, suffix: str = "") -> None:
    """Checks, before a long run, that `target` can be written the way `replacing` writes it:
    its name fits the file system and a temporary file can be made (and removed) beside it."""
    folder = target.parent
    if not folder.is_dir():
        raise ImpastoError(f"Cannot write {target}: folder {folder} does not exist; create it first")
    check_name(target)
    try:
        descriptor, temp_name = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(target), suffix=suffix)
    except OSError as error:
        raise ImpastoError(f"Cannot write {target}: {_unwritable(folder, error)}") from error
    os.close(descriptor)
    os.unlink(temp_name)


def check_name(target: Path) -> None:
    """A one-line error if `target`'s name is longer than its folder's file system allows."""
    try:
        limit = os.pathconf(target.parent if target.parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    length = len(os.fsencode(target.name))
    if length > limit:
        raise ImpastoError(
            f"{target.name[:24]}... is {length} bytes long, more than the {limit} this file system allows; "
            "choose a shorter name"
        )


def read_only(folder: Path) -> bool:
    """Whether `folder` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _unwritable(folder: Path, error: OSError) -> str:
    if error.errno == errno.EROFS or read_only(folder):
        return f"folder {folder} is on a read-only file system; write somewhere else"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left in {folder} (the disk or quota is full); free some space"
    if isinstance(error, PermissionError):
        return f"folder {folder} is not writable; check its permissions"
    return f"{error.strerror or error}; check the folder {folder}"


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, replace: bool = True) -> Path:
    """Writes `data` to `path` atomically (never over an existing file unless `replace`)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ImpastoError(f"Cannot write {target}: folder {target.parent} does not exist; create it first")
    try:
        with replacing(target, replace=replace) as temp:
            temp.write_bytes(data)
    except OSError as error:
        raise ImpastoError(f"Could not write {target} ({error.strerror}): check free space and permissions") from error
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str, replace: bool = True) -> Path:
    """`write_bytes_atomic` for UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"), replace)
