"""Official weights served from this machine, so that download tests run the real network code
and never leave it: a network's URL pointed at a local HTTP server holding a small stand-in
file (registered under that file's digest), or at a closed local port (the connection is refused)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from impasto.features.download import OFFLINE_VARIABLE
from impasto.features.registry import REGISTRY


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """Serves `folder` over HTTP on 127.0.0.1 (GET and HEAD); yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def unreachable(monkeypatch: pytest.MonkeyPatch, model: str) -> str:
    """Points `model`'s official URL at a closed local port; returns the URL."""
    url = f"http://127.0.0.1:{closed_port()}/{REGISTRY[model].filename}"
    monkeypatch.setitem(REGISTRY, model, dataclasses.replace(REGISTRY[model], url=url))
    return url


def unreachable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty weights cache under `tmp_path`, downloads allowed but VGG-19's URL closed: the offline
    case every front end must name before any work. Returns the cache folder (not made)."""
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(OFFLINE_VARIABLE, raising=False)
    unreachable(monkeypatch, "vgg19")
    return tmp_path / "cache"


def served(monkeypatch: pytest.MonkeyPatch, model: str, base_url: str, folder: Path, data: bytes) -> str:
    """Puts `data` in the served `folder` as `model`'s official file, registered under its digest; returns its URL."""
    source = REGISTRY[model]
    (folder / source.filename).write_bytes(data)
    url = f"{base_url}/{source.filename}"
    changed = dataclasses.replace(source, url=url, sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(REGISTRY, model, changed)
    return url
