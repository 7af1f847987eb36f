"""`impasto serve`: the local web app. Listens on 127.0.0.1 unless told otherwise, prints
its address and opens nothing; the networks' weights are the server's to choose, and the
page starts with a network that can run here (offline: the built-in one)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from impasto.apps.cli import guarded
from impasto.apps.web.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_SIZE,
    MAX_UPLOAD_BYTES,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impasto serve",
        description="Serve the impasto web page: upload a photo and artworks, tune the settings, "
        "watch the result evolve, and keep a gallery of runs.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; "
        "0.0.0.0 opens the page to your network)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help=f"folder for uploads, results and the job database (default: {default_data_folder()})",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        help=f"the network the page starts with (default: {Settings.model} where its weights are cached or "
        f"downloadable, else {BUILTIN_MODELS[0]}, which is built in); the page offers all",
    )
    parser.add_argument(
        "--weights", metavar="FILE", help="weights file for --model ('official': torchvision's download)"
    )
    for model in MODELS:
        parser.add_argument(
            f"--weights-{model}",
            dest=f"weights_{model}",
            metavar="FILE",
            help=f"weights file for {model} (default: its built-in weights, else the official ones, downloaded once)",
        )
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:N, mps, or auto (default); jobs run one at a time"
    )
    parser.add_argument(
        "--max-upload-mb",
        type=int,
        default=MAX_UPLOAD_BYTES // 2**20,
        metavar="MB",
        help="largest upload accepted (default: %(default)s)",
    )
    parser.add_argument(
        "--max-size",
        type=int,
        default=MAX_SIZE,
        metavar="PX",
        help="largest output size a page may ask for (default: %(default)s)",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


def config_from(args: argparse.Namespace) -> ServerConfig:
    """The server's configuration, with each weights file checked to exist now, not at the first job."""
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
    )


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
                f"impasto: warning: listening on {config.host}: anyone who can reach this machine on port "
                f"{config.port} can upload images and run jobs",
                file=sys.stderr,
                flush=True,
            )
        hub = EventHub()
        app = create_app(config, hub=hub)
        print(f"impasto: serving {config.url}  (data: {config.data}; Ctrl-C to stop)", flush=True)
        serving.run(app, sock, on_exit=hub.close)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: serve(config_from(args)), args.debug)
