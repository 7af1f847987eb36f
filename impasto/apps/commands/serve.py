"""`impasto serve`: the local web app (`impasto.apps.web`), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
from pathlib import Path

from impasto.apps.commands.backend import backend_arguments
from impasto.apps.commands.base import Command


class ServeCommand(Command):
    """Serves the web page until Ctrl-C; the networks' weights are the server's to choose."""

    name = "serve"
    summary = "a local web page to upload images, tune the settings and watch the result"
    description = (
        "Serve the impasto web page: upload a photo and artworks, tune the settings, "
        "watch the result evolve, and keep a gallery of runs."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from impasto.apps.web.config import MAX_SIZE, MAX_UPLOAD_BYTES, default_data_folder
        from impasto.features.registry import BUILTIN_MODELS, MODELS
        from impasto.settings import Settings

        _access_arguments(parser)
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
                help=f"weights file for {model} (default: its built-in weights, else the official ones, "
                "downloaded once)",
            )
        parser.add_argument(
            "--device",
            default="auto",
            help="cpu, cuda, cuda:N, mps, or auto (default: each local worker on its own GPU where there are several)",
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
        _scaling_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        from impasto.apps.web.command import config_from, serve

        return serve(config_from(args))


def _access_arguments(parser: argparse.ArgumentParser) -> None:
    """Who can reach the page: --host, --port, and the --token they must give."""
    from impasto.apps.web.config import DEFAULT_HOST, DEFAULT_PORT

    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; "
        "0.0.0.0 opens the page to your network, to those given its token)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--token",
        help="the token every request must carry (default: $IMPASTO_TOKEN, else one generated when --host is "
        "not loopback, and none on loopback); the address printed at start-up holds it",
    )


def _scaling_arguments(parser: argparse.ArgumentParser) -> None:
    """--backend, --address and --workers as `impasto batch` has them, and --cpus-per-worker."""
    scaling = backend_arguments(
        parser,
        "jobs",
        workers_help="jobs run at once, each on its own worker (default: one per GPU, else 1; with --backend "
        "ray: one Ray worker per GPU, else one per 2 CPUs)",
    )
    scaling.add_argument(
        "--cpus-per-worker",
        type=int,
        metavar="N",
        help="CPUs each Ray worker reserves, and its torch threads (default: the cluster's CPUs shared evenly)",
    )
