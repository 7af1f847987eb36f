"""`impasto CONTENT STYLE...`: the single-image command (its run is `impasto.apps.single`'s)."""

from __future__ import annotations

import argparse

from impasto import __version__
from impasto.apps.commands.base import Command, OneLineParser
from impasto.apps.commands.options import output_arguments, settings_arguments
from impasto.apps.commands.registry import SUBCOMMANDS


class StylizeCommand(Command):
    """The command without a name: one content photo in the style of one or more artworks."""

    description = (
        "Repaint a content photo in the style of one or more artworks (neural style transfer, Gatys et al. 2016)."
    )
    shared = {
        "overwrite": "replace the output file if it exists",
        "quiet": "print no progress and no messages but errors",
    }

    def parser(self) -> OneLineParser:
        """Its parser, whose help ends with the subcommands (`registry.SUBCOMMANDS`)."""
        parser = super().parser()
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = (
            "other commands:\n"
            + "".join(f"  impasto {name:<8} {command.summary}\n" for name, command in SUBCOMMANDS.items())
            + "each has its own --help"
        )
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("content", nargs="?", help="the content image (a photo)")
        parser.add_argument("style", nargs="*", help="the style image(s) (artworks)")
        parser.add_argument(
            "-o", "--output", help="output image; .png, .jpg, .tif or .webp (default: CONTENT_STYLE.png)"
        )
        parser.add_argument("--version", action="version", version=f"impasto {__version__}")
        output_arguments(parser)
        settings_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        from impasto.apps.single import stylize_files

        return stylize_files(args)
