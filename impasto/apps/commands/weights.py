"""`impasto weights [list|fetch|verify|path]`: the networks' weights (`impasto.apps.weights`)."""

from __future__ import annotations

import argparse

from impasto.apps.commands.base import Command
from impasto.features.catalogue import MODELS


class WeightsCommand(Command):
    """Which networks can run here, fetching official weights ahead of time, checking a
    weights file, and the cache folder (to copy to an offline machine)."""

    name = "weights"
    summary = "list, fetch, verify and locate the networks' weights"
    description = (
        "List the networks and where their weights are, fetch official weights ahead of time, "
        "check a weights file, or print the cache folder. Without a command: list."
    )
    preload = ()  # listing them and printing the folder need no PyTorch

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(action="list")
        actions = parser.add_subparsers(dest="action", title="commands", metavar="{list,fetch,verify,path}")
        listing = actions.add_parser("list", help="each network's weights: built in, cached at PATH, or not present")
        fetch = actions.add_parser("fetch", help="download official weights into the cache now, checksum-verified")
        fetch.add_argument("models", nargs="+", choices=MODELS, metavar="MODEL", help=f"one of {', '.join(MODELS)}")
        verify = actions.add_parser("verify", help="check that a weights file loads and has the network's tensors")
        verify.add_argument("file", metavar="FILE", help="a weights file (a PyTorch state dict)")
        verify.add_argument("--model", choices=MODELS, help="the network it is for (default: whichever it fits)")
        path = actions.add_parser("path", help="print the cache folder the official weights go to")
        for action in (listing, fetch, verify, path):
            self.add_shared(action, default=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace) -> int:
        from impasto.apps.weights import command as weights

        return weights.run(args)
