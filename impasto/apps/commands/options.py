"""The command line's options for `Settings` and `OutputOptions`: one option per field, with
the field's help, and back from the parsed options to those dataclasses. Both are imported
when first needed, keeping the command's start-up (before Ctrl-C is held) short."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impasto.files import short_stem

if TYPE_CHECKING:
    from impasto.record.options import OutputOptions
    from impasto.settings import Settings


def flag(setting: str) -> str:
    """The command-line flag of a setting or output option (the one place names map to flags)."""
    return f"--{setting.replace('_', '-')}"


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
    from impasto.settings import Settings

    hints = typing.get_type_hints(Settings)
    group = parser.add_argument_group("stylisation settings")
    for f in dataclasses.fields(Settings):
        kind, metavar = _parser_for(hints[f.name])
        if kind is bool:  # a switch: --flag / --no-flag
            help = f"{f.metadata['help']} (default: {'on' if f.default else 'off'})"
            group.add_argument(
                flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help
            )
            continue
        extra = {k: v for k, v in f.metadata.items() if k in ("choices", "metavar")}
        if metavar and "metavar" not in extra:
            extra["metavar"] = metavar
        default = f.default
        shown = "" if default is None else f" (default: {default})"
        group.add_argument(
            flag(f.name),
            dest=f.name,
            type=kind,
            default=argparse.SUPPRESS,
            help=f"{f.metadata['help']}{shown if 'default:' not in f.metadata['help'] else ''}",
            **extra,
        )


def output_arguments(parser: argparse.ArgumentParser) -> None:
    """The options for watching and keeping a run (not stylisation settings); --quiet is a
    shared option (`Command.shared`)."""
    group = parser.add_argument_group("progress and outputs")
    add = group.add_argument
    add("--log-every", type=int, metavar="N", help="print a plain progress line every N iterations instead of the bar")
    add("--save-every", type=int, metavar="K", help="save the image every K iterations into OUTPUT_frames/")
    add("--animate", metavar="FILE", help="write a .gif or .mp4 of the image evolving from the start to the result")
    add("--comparison", metavar="FILE", help="write a figure of content, style(s) and result side by side")
    add("--loss-log", metavar="FILE", help="write every iteration's losses and elapsed seconds as CSV")
    add("--loss-plot", metavar="FILE", help="write a PNG plot of the losses (log scale)")
    add("--checkpoint-every", type=int, metavar="K", help="save a resumable state to OUTPUT.ckpt every K iterations")
    add(
        "--keep-checkpoint",
        action="store_true",
        default=None,
        help="keep OUTPUT.ckpt after the run finishes (it is removed by default once the result is saved)",
    )
    add(
        "--bit-depth",
        type=int,
        choices=(8, 16),
        help="bits per channel of the result: 16 for print work (.png or .tif)",
    )
    add("--resume", metavar="CKPT", help="continue the run saved in CKPT (from --checkpoint-every)")
    add("--replay", metavar="IMAGE", help="repeat the run that made IMAGE (an impasto output), from its record")


def settings_from(args: argparse.Namespace) -> Settings:
    """The Settings named on the command line; everything else keeps its default."""
    from impasto.settings import Settings

    names = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in vars(args).items() if k in names})


def options_from(args: argparse.Namespace) -> OutputOptions:
    """The output options named on the command line."""
    from impasto.record.options import OutputOptions

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(OutputOptions)}
    return OutputOptions(**{name: value for name, value in given.items() if value is not None})


def output_path(args: argparse.Namespace) -> Path:
    """The output path: as given, else CONTENT_STYLE.png (from names short enough to fit);
    the job checks it with every other output before the run."""
    if args.output is None:
        args.output = f"{short_stem(args.content)}_{short_stem(args.style[0])}.png"
    return Path(args.output)
