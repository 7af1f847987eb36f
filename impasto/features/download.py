"""Download a file over HTTP(S) with a checksum and a progress report, and ask quickly
whether a download could start at all (the check before a run that needs one)."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from impasto.errors import ImpastoError

CONNECT_TIMEOUT_S = 10.0
OFFLINE_VARIABLE = "IMPASTO_OFFLINE"
"""Set (to anything but 0 or empty) to never touch the network: a needed download fails at once."""
_CHUNK = 1 << 20
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)

Progress = Callable[[int, int | None], None]
"""Told (bytes so far, total bytes or None) as a download goes; the CLI draws it as a bar."""


class DownloadFailed(ImpastoError):
    """The network did not deliver the file; `reason` says why in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot download {url} ({reason})")
        self.url, self.reason = url, reason


def one_line(error: BaseException) -> str:
    """A short single-line reason for an error (URLError's wrapped reason, not its repr)."""
    reason = error.reason if type(error) is urllib.error.URLError else error  # HTTPError's str is already good
    text = " ".join(str(reason).split())
    return text or type(error).__name__


def offline() -> bool:
    """Whether $IMPASTO_OFFLINE forbids the network."""
    return os.environ.get(OFFLINE_VARIABLE, "") not in ("", "0")


def probe(url: str) -> str | None:
    """None if `url` answers a HEAD request now, else why not: a quick check (one round trip,
    at most CONNECT_TIMEOUT_S to connect) that a download could start."""
    if offline():
        return f"{OFFLINE_VARIABLE} is set"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=CONNECT_TIMEOUT_S):
            return None
    except _NETWORK_ERRORS as error:
        return one_line(error)


def matches(digest: str, expected: str) -> bool:
    """Whether a full hex digest agrees with an expected one (or with its prefix)."""
    return digest.startswith(expected.lower())


def cache_write_error(folder: Path, error: OSError) -> ImpastoError:
    return ImpastoError(
        f"cannot write to the weights cache {folder} ({one_line(error)}): set IMPASTO_CACHE to a writable folder"
    )


def download(url: str, dest: Path, expected_sha256: str, *, progress: Progress | None = None) -> Path:
    """Download `url` to `dest` via a temp file, keeping it only if its SHA-256 matches;
    `DownloadFailed` when the network does not deliver it (then nothing is written)."""
    if offline():
        raise DownloadFailed(url, f"{OFFLINE_VARIABLE} is set")
    dest = Path(dest)
    try:
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            _save(response, total, url, dest, expected_sha256, progress)
    except _NETWORK_ERRORS as error:
        raise DownloadFailed(url, one_line(error)) from error
    return dest


def _save(
    response: BinaryIO, total: int | None, url: str, dest: Path, expected_sha256: str, progress: Progress | None
) -> None:
    """Streams a response (`total` bytes, if known) into `dest` through a temp file beside it, reporting progress."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as error:
        raise cache_write_error(dest.parent, error) from error
    digest, done = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if not matches(digest.hexdigest(), expected_sha256):
            raise ImpastoError(
                f"download of {url} is corrupt (sha256 {digest.hexdigest()}, expected {expected_sha256}) "
                "and was deleted: run again to retry, or pass --weights FILE"
            )
        os.replace(tmp_name, dest)
    except _NETWORK_ERRORS:
        raise  # the connection broke: `download` says so
    except OSError as error:
        raise cache_write_error(dest.parent, error) from error
    finally:
        Path(tmp_name).unlink(missing_ok=True)
