"""The `impasto` command: a thin layer that turns options into `Settings` and runs `stylize`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from impasto import __version__
from impasto.errors import ImpastoError
from impasto.image.io import check_output_path
from impasto.apps.interrupts import Interrupted
from impasto.record.outputs import RunOutputs, add_arguments
from impasto.engine.pipeline import stylize
from impasto.apps.rerun import prepare
from impasto.settings import Settings


def _parser_for(tp: Any) -> tuple[Any, str | None]:
    """argparse `type` and metavar for a Settings field annotation."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return _parser_for(args[0])
    if typing.get_origin(tp) is tuple:
        item = args[0]
        return (lambda text: tuple(item(part) for part in text.split(",") if part.strip())), "A,B,..."
    return tp, None


def settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds one option per Settings field, with the field's default and help."""
    hints = typing.get_type_hints(Settings)
    group = parser.add_argument_group("stylisation settings")
    for f in dataclasses.fields(Settings):
        kind, metavar = _parser_for(hints[f.name])
        if kind is bool:  # a switch: --flag / --no-flag
            flag = f"--{f.name.replace('_', '-')}"
            help = f"{f.metadata['help']} (default: {'on' if f.default else 'off'})"
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help)
            continue
        extra = {k: v for k, v in f.metadata.items() if k != "help"}
        if metavar and "metavar" not in extra:
            extra["metavar"] = metavar
        default = f.default
        shown = "" if default is None else f" (default: {default})"
        group.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            type=kind,
            default=argparse.SUPPRESS,
            help=f"{f.metadata['help']}{shown if 'default:' not in f.metadata['help'] else ''}",
            **extra,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impasto",
        description="Repaint a content photo in the style of one or more artworks "
        "(neural style transfer, Gatys et al. 2016).",
    )
    parser.add_argument("content", nargs="?", help="the content image (a photo)")
    parser.add_argument("style", nargs="*", help="the style image(s) (artworks)")
    parser.add_argument(
        "-o", "--output", help="output image; .png, .jpg, .tif or .webp (default: CONTENT_STYLE.png)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"impasto {__version__}")
    add_arguments(parser)
    settings_arguments(parser)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """The Settings named on the command line; everything else keeps its default."""
    names = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in vars(args).items() if k in names})


def output_path(args: argparse.Namespace) -> Path:
    """The checked output path: valid format, writable folder, and no file it would replace."""
    if args.output is None:
        args.output = f"{Path(args.content).stem}_{Path(args.style[0]).stem}.png"
    path = check_output_path(args.output)
    if path.exists() and not args.overwrite:
        raise ImpastoError(f"{path} already exists: choose another --output or pass --overwrite")
    return path


def run(args: argparse.Namespace) -> int:
    if args.replay or args.resume:
        settings, checkpoint = prepare(args)
    elif args.content is None or not args.style:
        raise ImpastoError("give a content image and at least one style image (or --replay IMAGE, --resume CKPT)")
    else:
        settings, checkpoint = settings_from(args), None
    path = output_path(args)
    outputs = RunOutputs(args, settings, path, checkpoint)
    with outputs.running():
        image = stylize(args.content, args.style, settings, callback=outputs, resume=outputs.resume)
    outputs.finish(image)
    outputs.report()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ImpastoError as error:
        if args.debug:
            raise
        print(f"impasto: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:
        stopped = error if isinstance(error, Interrupted) else Interrupted()
        print(f"impasto: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    except Exception as error:  # an impasto bug: one line unless --debug
        if args.debug:
            raise
        print(f"impasto: internal error: {error!r} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
