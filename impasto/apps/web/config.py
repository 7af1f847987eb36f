"""What one `impasto serve` process is allowed to do: where it keeps its data, which
networks (and whose weights) it offers, and the limits it puts on what browsers send."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Uploads over this many bytes are refused before they are read in full."""
MAX_SIZE = 2048
"""Largest output size (longest side, pixels) a browser may ask for, so one page cannot
tie the machine up for hours; `impasto serve --max-size` raises it."""


def default_data_folder() -> Path:
    """`$XDG_DATA_HOME/impasto`, else `~/.local/share/impasto` (the XDG base directory rule)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "impasto"


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """The server's side of every run: a browser picks a network by name, never a file."""

    data: Path = field(default_factory=default_data_folder)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    model: str = "vgg19"
    weights: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    """How the page's network menu names each network: where its weights come from (built in,
    cached, a download) as found at start; a network missing here is shown by its name."""
    device: str = "auto"
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_size: int = MAX_SIZE
    workers: int | None = None
    """Jobs run at once: None is one per GPU here (one on a CPU), or one per Ray worker."""
    backend: str = "local"
    """Where jobs run: "local" (this process, one thread per worker) or "ray" (Ray actors)."""
    address: str | None = None
    """The Ray cluster to join (None: $RAY_ADDRESS, else a local Ray started by the server)."""
    cpus_per_worker: int | None = None
    """CPUs Ray reserves for each worker (None: as `impasto batch` sizes its workers)."""
    token: str | None = field(default=None, repr=False)
    """The token every request must carry (`impasto.apps.web.auth`); None: none asked for,
    as on loopback by default. Kept out of the repr, so that no message or log shows it."""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
