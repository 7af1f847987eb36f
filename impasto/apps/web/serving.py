"""How `impasto serve` runs the app: it takes its address first (a port in use or an
impossible host is one line naming --port or --host, before the data folder is touched),
then hands that socket to uvicorn; Ctrl-C ends the page's event streams at once, so the
server stops in a moment with no traceback."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from impasto.errors import ImpastoError

GRACE_SECONDS = 2
"""How long requests still in flight (a download) may finish after Ctrl-C."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, ready for uvicorn; a one-line ImpastoError that names
    the option and the fix if the address cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        raise _not_here(host, error) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts need no wait
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise _refusal(host, port, error) from None
    sock.set_inheritable(True)
    return sock


def _refusal(host: str, port: int, error: OSError) -> ImpastoError:
    if error.errno == errno.EADDRINUSE:
        return ImpastoError(
            f"--port {port} is already in use on {host} (another impasto serve?): "
            "stop that program, or choose a free port with --port"
        )
    if error.errno == errno.EACCES:
        return ImpastoError(f"--port {port} needs administrator rights on this system: choose a port above 1023")
    return _not_here(host, error)


def _not_here(host: str, error: OSError | UnicodeError) -> ImpastoError:
    return ImpastoError(
        f"--host {host} is not an address of this machine ({_reason(error)}): "
        "use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)"
    )


def _reason(error: OSError | UnicodeError) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


class Server(uvicorn.Server):
    """uvicorn's server, calling `on_exit` (which ends the event streams) as Ctrl-C arrives,
    since uvicorn waits for every open response before it stops."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_exit()
        super().handle_exit(sig, frame)


def run(app: ASGIApp, sock: socket.socket, on_exit: Callable[[], None]) -> None:
    """Serves `app` on the bound `sock` until Ctrl-C (or SIGTERM). No access log: its request
    lines would carry the `?token=` of a first visit."""
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=GRACE_SECONDS, server_header=False
    )
    Server(config, on_exit).run(sockets=[sock])
