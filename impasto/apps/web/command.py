"""`impasto serve`'s work (its options are `impasto.apps.commands.serve`'s): the server's
configuration, checked before it starts, and the server, which listens on 127.0.0.1 unless
told otherwise, prints its address and opens nothing; the networks' weights are the server's
to choose, and the page starts with a network that can run here (offline: the built-in one)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from impasto.apps.web.auth import server_token, url_with_token
from impasto.apps.web.config import (
    ServerConfig,
    default_data_folder,
    is_loopback,
)
from impasto.errors import ImpastoError
from impasto.features.availability import Availability, availability
from impasto.features.cache import unavailable
from impasto.features.registry import BUILTIN_MODELS, MODELS, spec
from impasto.features.weights import names_a_file
from impasto.settings import Settings


def config_from(args: argparse.Namespace) -> ServerConfig:
    """The server's configuration, with each weights file checked to exist now, not at the first job."""
    scaling = _scaling(args)
    weights = {model: getattr(args, f"weights_{model}") for model in MODELS if getattr(args, f"weights_{model}")}
    if args.weights:
        weights[args.model or Settings.model] = args.weights
    for model, path in weights.items():
        if names_a_file(path) and not Path(path).is_file():
            raise ImpastoError(f"weights file for {model} not found: {path}: check the path")
    if not 0 < args.port < 65536:
        raise ImpastoError(f"--port must be between 1 and 65535, got {args.port}")
    if args.max_upload_mb < 1 or args.max_size < 1:
        raise ImpastoError("--max-upload-mb and --max-size must be at least 1")
    states = {model: availability(model, weights.get(model)) for model in MODELS}
    model = _start_model(args.model, states)
    return ServerConfig(
        data=(args.data or default_data_folder()).expanduser().resolve(),
        host=args.host,
        port=args.port,
        model=model,
        weights={model: str(Path(path).resolve()) if names_a_file(path) else path for model, path in weights.items()},
        labels={name: state.label() for name, state in states.items()},
        device=args.device,
        max_upload_bytes=args.max_upload_mb * 2**20,
        max_size=args.max_size,
        token=server_token(args.host, args.token),
        **scaling,
    )


def _scaling(args: argparse.Namespace) -> dict[str, Any]:
    """Where and how many jobs run at once, refused in one line when it cannot be."""
    for name in ("workers", "cpus_per_worker"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ImpastoError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.backend == "local" and (args.address or args.cpus_per_worker):
        raise ImpastoError(
            "--address and --cpus-per-worker are for --backend ray: add --backend ray, or leave them out"
        )
    if args.backend == "ray":
        from impasto.apps.ray_pool.cluster import import_ray

        import_ray()  # before anything is touched: a missing Ray is a one-line error that says how to install it
    return {
        "workers": args.workers,
        "backend": args.backend,
        "address": args.address,
        "cpus_per_worker": args.cpus_per_worker,
    }


def _start_model(chosen: str | None, states: dict[str, Availability]) -> str:
    """The network the page starts with: the one chosen if it can run (else the one-line error),
    else the default network if it can, else the built-in one, saying why."""
    if chosen is not None:
        if not states[chosen].runs:
            raise unavailable(chosen, states[chosen].reason)
        return chosen
    if states[Settings.model].runs:
        return Settings.model
    missing, fallback = states[Settings.model], BUILTIN_MODELS[0]
    print(
        f"impasto: {spec(missing.model).display} weights are not cached and cannot be downloaded ({missing.reason}): "
        f"the page starts with {states[fallback].label()}; to offer {spec(missing.model).display} too, "
        f"put its file at {missing.path}",
        file=sys.stderr,
    )
    return fallback


def serve(config: ServerConfig) -> int:
    """Runs the server until Ctrl-C; the running job is then kept as interrupted. The address
    is taken first, then the data folder (locked for this server alone)."""
    from impasto.apps.web import serving
    from impasto.apps.web.events import EventHub
    from impasto.apps.web.server import create_app

    with serving.listening_socket(config.host, config.port) as sock:
        if not is_loopback(config.host):
            print(
                f"impasto: listening on {config.host}: only a browser given the token below gets in; beyond a "
                "trusted network, put a reverse proxy with TLS in front (see the web app's docs)",
                file=sys.stderr,
                flush=True,
            )
        hub = EventHub()
        app = create_app(config, hub=hub)
        url = url_with_token(config.url, config.token)  # the one place the token is shown
        print(f"impasto: serving {url}  (data: {config.data}; Ctrl-C to stop)", flush=True)
        serving.run(app, sock, on_exit=hub.close)
    return 0
