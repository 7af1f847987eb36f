"""The `impasto` command: a thin layer that turns options into `Settings` and
`OutputOptions`, runs a `Stylizer`, and shows errors and interruptions as one line.

`impasto serve|batch|video ...` are subcommands, each in its own module, imported only
when used. This module imports only the standard library and impasto's light modules at
its top; the engine (PyTorch) is imported inside `main`, so that Ctrl-C at any moment of
start-up ends in one line and exit code 130, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import sys
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impasto import __version__
from impasto.apps.interrupts import Interrupted, as_interrupted, sigterm_interrupts
from impasto.errors import ImpastoError
from impasto.files import short_stem
from impasto.record.options import OutputOptions

if TYPE_CHECKING:
    from impasto.record.outputs import RunOutputs
    from impasto.settings import Settings

SUBCOMMANDS = {
    "serve": "impasto.apps.web.command",
    "batch": "impasto.apps.batch.command",
    "video": "impasto.apps.video.command",
    "weights": "impasto.apps.weights.command",
}
"""Each subcommand's module, which defines `main(argv) -> int`."""
SUBCOMMAND_SUMMARIES = {
    "serve": "a local web page to upload images, tune the settings and watch the result",
    "batch": "every photo of a folder in every style of another",
    "video": "a video clip, frame by frame, without flicker",
    "weights": "list, fetch, verify and locate the networks' weights",
}
"""What `impasto --help` says of each subcommand (`impasto COMMAND --help` tells the rest)."""


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
            flag = f"--{f.name.replace('_', '-')}"
            help = f"{f.metadata['help']} (default: {'on' if f.default else 'off'})"
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help
            )
            continue
        extra = {k: v for k, v in f.metadata.items() if k in ("choices", "metavar")}
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


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line, like impasto's own."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="impasto",
        description="Repaint a content photo in the style of one or more artworks "
        "(neural style transfer, Gatys et al. 2016).",
        epilog="other commands:\n"
        + "".join(f"  impasto {name:<8} {summary}\n" for name, summary in SUBCOMMAND_SUMMARIES.items())
        + "each has its own --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("content", nargs="?", help="the content image (a photo)")
    parser.add_argument("style", nargs="*", help="the style image(s) (artworks)")
    parser.add_argument("-o", "--output", help="output image; .png, .jpg, .tif or .webp (default: CONTENT_STYLE.png)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"impasto {__version__}")
    output_arguments(parser)
    settings_arguments(parser)
    return parser


def backend_arguments(parser: argparse.ArgumentParser, unit: str) -> None:
    """--backend, --address and --workers: where the `unit`s (jobs, shots) run."""
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
                         help="Ray workers, each holding the network once (default: one per GPU, else one per 2 CPUs)")  # fmt: skip


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


def output_arguments(parser: argparse.ArgumentParser) -> None:
    """The options for watching and keeping a run (not stylisation settings)."""
    group = parser.add_argument_group("progress and outputs")
    add = group.add_argument
    add("-q", "--quiet", action="store_true", default=None, help="print no progress and no messages but errors")
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
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(OutputOptions)}
    return OutputOptions(**{name: value for name, value in given.items() if value is not None})


def output_path(args: argparse.Namespace) -> Path:
    """The output path: as given, else CONTENT_STYLE.png (from names short enough to fit);
    `RunOutputs` checks it with every other output before the run."""
    if args.output is None:
        args.output = f"{short_stem(args.content)}_{short_stem(args.style[0])}.png"
    return Path(args.output)


def run(args: argparse.Namespace) -> int:
    from impasto.apps.rerun import check_replayed_weights, prepare
    from impasto.engine import RunControl, Stylizer
    from impasto.record.outputs import RunOutputs
    from impasto.record.progress import DownloadBar

    if args.replay or args.resume:
        settings, checkpoint = prepare(args)
    elif args.content is None or not args.style:
        raise ImpastoError("give a content image and at least one style image (or --replay IMAGE, --resume CKPT)")
    else:
        settings, checkpoint = settings_from(args), None
    check_weights(settings)
    reads = {"the image it replays": Path(args.replay)} if args.replay else {}
    reads.update({"the checkpoint it resumes": Path(args.resume)} if args.resume else {})
    control = RunControl()
    outputs = RunOutputs(
        options_from(args),
        settings,
        args.content,
        args.style,
        output_path(args),
        overwrite=args.overwrite,
        checkpoint=checkpoint,
        control=control,
        reads=reads,
        resumed=Path(args.resume) if args.resume else None,
    )
    with saving_on_interrupt(outputs):
        stylizer = Stylizer(settings, download_progress=None if args.quiet else DownloadBar())
        check_replayed_weights(args, settings, stylizer.weights_sha256)
        outputs.started(str(stylizer.device), stylizer.weights_sha256)
        inputs = outputs.inputs  # read once, before the run: what it stylises is what it records
        image = stylizer.run(
            inputs.content.image,
            [s.image for s in inputs.styles],
            callback=outputs,
            control=control,
            resume=outputs.resume,
        )
    outputs.finish(image)
    outputs.done()
    outputs.report()
    return 0


@contextlib.contextmanager
def saving_on_interrupt(outputs: RunOutputs) -> Iterator[None]:
    """Around a run: SIGTERM acts like Ctrl-C, and either one saves what there is."""
    try:
        with sigterm_interrupts():
            yield
    except KeyboardInterrupt as error:
        interrupted = as_interrupted(error)
        outputs.close()
        raise interrupted.with_message(outputs.save_interrupted()) from None
    finally:
        outputs.close()


def flag(setting: str) -> str:
    """The command-line flag of a setting or output option (the one place names map to flags)."""
    return f"--{setting.replace('_', '-')}"


def shown(error: ImpastoError) -> str:
    """An error as the command line shows it: settings named by their flags."""
    message = str(error)
    if error.setting and message.startswith(error.setting):
        return flag(error.setting) + message[len(error.setting) :]
    return message


def guarded(body: Callable[[], int], debug: bool = False) -> int:
    """Runs an app's `body`: user errors and interruptions become one line and an exit code."""
    try:
        return body()
    except ImpastoError as error:
        if debug:
            raise
        print(f"impasto: error: {shown(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:
        stopped = error if isinstance(error, Interrupted) else Interrupted()
        print(f"impasto: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    except Exception as error:  # an impasto bug: one line unless --debug
        if debug:
            raise
        if _out_of_memory(error):
            print("impasto: error: the machine ran out of memory: lower --size or set --max-memory", file=sys.stderr)
        else:
            print(f"impasto: internal error: {error!r} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


def _out_of_memory(error: Exception) -> bool:
    """MemoryError, or PyTorch's out-of-memory errors (CPU allocator, CUDA)."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or "can't allocate memory" in str(error)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command: Ctrl-C from its first instruction on, imports included, exits 130 with one line."""
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        if argv and argv[0] in SUBCOMMANDS and not Path(argv[0]).exists():
            return importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
        args = build_parser().parse_args(argv)
        return guarded(lambda: run(args), args.debug)
    except KeyboardInterrupt as error:  # during start-up, before `guarded` took over
        stopped = error if isinstance(error, Interrupted) else Interrupted()
        print(f"impasto: {stopped.message}", file=sys.stderr)
        return stopped.exit_code


if __name__ == "__main__":
    sys.exit(main())
