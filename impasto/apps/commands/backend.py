"""Where a command's work runs, here or on a Ray cluster: --backend, --address and --workers,
and the checks that depend on it."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from impasto.errors import ImpastoError

if TYPE_CHECKING:
    from impasto.settings import Settings


def backend_arguments(
    parser: argparse.ArgumentParser, unit: str, workers_help: str | None = None
) -> argparse._ArgumentGroup:
    """--backend, --address and --workers: where the `unit`s (jobs, shots) run; the group, for
    a command to add its own scaling options to."""
    cluster = parser.add_argument_group("scaling out")
    cluster.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help=f'run the {unit} here (default), or on a Ray cluster: pip install "impasto[ray]"',
    )
    cluster.add_argument(
        "--address",
        metavar="ADDR",
        help="Ray cluster to join ('auto' or HOST:PORT; default: $RAY_ADDRESS, else a local Ray started for this run)",
    )
    cluster.add_argument("--workers", type=int, metavar="N",
                         help=workers_help or "Ray workers, each holding the network once (default: one per GPU, else one per 2 CPUs)")  # fmt: skip
    return cluster


def check_backend(args: argparse.Namespace) -> None:
    """Refuses Ray's options without Ray."""
    if args.backend == "local" and (args.address or args.workers):
        raise ImpastoError("--address and --workers are for --backend ray: add --backend ray, or leave them out")


def check_weights(settings: Settings, args: argparse.Namespace | None = None) -> None:
    """Before any work: the network's weights are here or downloadable, else one line says what
    to put where and which network runs now. Skipped for a remote Ray cluster, whose workers
    fetch their own."""
    from impasto.features.availability import check_available

    remote = args is not None and args.backend == "ray" and (args.address or os.environ.get("RAY_ADDRESS"))
    if not remote:
        check_available(settings.model, settings.weights)
