"""Where the web app's jobs run: a `Backend` has `workers` slots, each running one job at a
time. `local` runs them in the server's process (`impasto.apps.web.backends.local`), `ray`
on Ray actors (`impasto.apps.web.backends.remote`), so that the server loads no network."""

from __future__ import annotations

from typing import TYPE_CHECKING

from impasto.apps.web.backends.base import Backend
from impasto.apps.web.config import ServerConfig

if TYPE_CHECKING:
    from impasto.apps.web.backends.local import Stylizers


def backend_for(config: ServerConfig, stylizers: Stylizers | None = None) -> Backend:
    """The server's backend; `stylizers` (local only) may be shared between apps."""
    if config.backend == "ray":
        from impasto.apps.web.backends.remote import RayBackend

        return RayBackend(config)
    from impasto.apps.web.backends.local import LocalBackend, Stylizers

    return LocalBackend(config, stylizers or Stylizers(config))
