"""The single-image run of the `impasto` command: its settings and output options become a
`Job` with the recorders the options ask for, checked before any weights are loaded."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from impasto.apps.commands.backend import check_weights
from impasto.apps.commands.options import options_from, output_path, settings_from
from impasto.apps.rerun import check_replayed_weights, prepare
from impasto.engine import Job, Stylizer
from impasto.errors import ImpastoError
from impasto.record.progress import DownloadBar
from impasto.record.recorders import recorders, run_description


def stylize_files(args: argparse.Namespace) -> int:
    """Runs the command line's job: check, load the network, paint, write, and name the files."""
    if args.replay or args.resume:
        settings, checkpoint = prepare(args)
    elif args.content is None or not args.style:
        raise ImpastoError("give a content image and at least one style image (or --replay IMAGE, --resume CKPT)")
    else:
        settings, checkpoint = settings_from(args), None
    check_weights(settings)
    output, options = output_path(args), options_from(args)
    resumed = Path(args.resume) if args.resume else None
    description = functools.partial(run_description, settings, args.content, args.style, output, options)
    callbacks, _ = recorders(
        options, output, replace=bool(args.overwrite or checkpoint), description=description, resumed=resumed
    )
    reads = {"the image it replays": Path(args.replay)} if args.replay else {}
    reads.update({"the checkpoint it resumes": resumed} if resumed else {})
    job = Job(
        settings,
        args.content,
        args.style,
        callbacks,
        resume=checkpoint.resume if checkpoint else None,
        states=checkpoint.recorders if checkpoint else {},
        overwrite=bool(args.overwrite),
        reads=reads,
        resumed=resumed,
    )
    job.check()  # every input read and every output checked before the weights load
    stylizer = Stylizer(settings, download_progress=None if args.quiet else DownloadBar())
    check_replayed_weights(args, settings, stylizer.weights_sha256)
    finish = job.run(stylizer)
    if not args.quiet:
        for path in finish.written:
            print(f"impasto: wrote {path}", file=sys.stderr)
    return 0
