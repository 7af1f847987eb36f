"""`impasto batch`: every photo of a folder in every style of another (`impasto.apps.batch`)."""

from __future__ import annotations

import argparse

from impasto.apps.commands.backend import backend_arguments
from impasto.apps.commands.base import Command
from impasto.apps.commands.options import settings_arguments


class BatchCommand(Command):
    """Stylises many pairs into one folder, resumably, here or on a Ray cluster."""

    name = "batch"
    summary = "every photo of a folder in every style of another"
    description = (
        "Stylise every photo in CONTENTS with every style in STYLES (or the pairs of --pairs) into "
        "OUTPUT/CONTENT__STYLE.png, with OUTPUT/jobs.csv and a contact sheet OUTPUT/index.jpg. "
        "Results made earlier with the same settings are kept, so an interrupted batch goes on where it stopped."
    )
    shared = {
        "overwrite": "redo jobs whose results exist instead of skipping them",
        "quiet": "print nothing but failures and errors",
    }

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("contents", nargs="?", help="folder of photos (or one photo)")
        parser.add_argument("styles", nargs="?", help="folder of style images (or one)")
        parser.add_argument(
            "--pairs",
            metavar="CSV",
            help="run the pairs of a CSV with columns content,style "
            "(paths relative to the CSV) instead of every photo with every style",
        )
        parser.add_argument(
            "-o", "--output", required=True, metavar="FOLDER", help="folder for the results (created if missing)"
        )
        parser.add_argument(
            "--log-every",
            type=int,
            default=0,
            metavar="N",
            help="print a plain progress line every N iterations instead of the bar",
        )
        backend_arguments(parser, "jobs")
        settings_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        from impasto.apps.batch import command as batch

        return batch.run(args)
