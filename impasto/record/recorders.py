"""The recorders a run's `OutputOptions` ask for, as one plain list of callbacks: progress,
the result with its provenance, frames, animation, comparison figure, loss log and plot,
and checkpoints. Every front end that writes a run's files (the command, the web app)
builds its list here and hands it to a `Job`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impasto.optim.callbacks import Callback
from impasto.record.checkpoint import CheckpointWriter, checkpoint_path
from impasto.record.frames import Animation, FrameSaver, frames_folder
from impasto.record.losslog import LossLog
from impasto.record.options import OutputOptions
from impasto.record.progress import Progress
from impasto.record.result import Comparison, Provenance, ResultWriter
from impasto.settings import Settings


def recorders(
    options: OutputOptions,
    output: Path,
    *,
    replace: bool = False,
    description: Callable[[], dict[str, Any]] | None = None,
    resumed: Path | None = None,
) -> tuple[list[Callback], Provenance]:
    """The callbacks that write what `options` ask for around the result at `output`, and the
    provenance record they share. `description` gives the run as its checkpoints keep it (see
    `run_description`), asked once the run's inputs are checked; `resumed` is the checkpoint
    this run continues."""
    provenance = Provenance()
    progress = Progress(quiet=bool(options.quiet), log_every=options.log_every or 0)
    found: list[Callback] = [provenance, ResultWriter(output, provenance, options.bit_depth, replace)]
    if options.animate:
        found.append(Animation(options.animate, options.save_every or 1, replace))
    if options.comparison:
        found.append(Comparison(options.comparison, replace))
    if options.loss_log or options.loss_plot:
        found.append(LossLog(options.loss_log, options.loss_plot, replace))
    if options.save_every:
        found.append(FrameSaver(frames_folder(output), options.save_every, provenance.png_text, replace))
    if options.checkpoint_every:
        warn = _warner(progress, bool(options.quiet))
        run = description or dict
        keep = options.keep_checkpoint
        found.append(
            CheckpointWriter(
                checkpoint_path(output), options.checkpoint_every, run, keep=keep, resumed=resumed, warn=warn
            )
        )
    found.append(progress)  # last: what it shows as done is recorded everywhere
    return found, provenance


def run_description(
    settings: Settings, content: str, styles: list[str], output: Path, options: OutputOptions
) -> dict[str, Any]:
    """The run as a checkpoint keeps it: inputs, output, settings and output options."""
    return {
        "content": str(Path(content).resolve()),
        "style": [str(Path(s).resolve()) for s in styles],
        "output": str(output.resolve()),
        "settings": settings.to_dict(),
        "options": {k: _absolute(v) for k, v in options.kept().items()},
    }


def _warner(progress: Progress, quiet: bool) -> Callable[[str], None]:
    """A problem the run survives (a checkpoint that could not be written), shown at once."""

    def warn(message: str) -> None:
        progress.close()
        if not quiet:
            print(f"impasto: warning: {message}", file=sys.stderr, flush=True)

    return warn


def _absolute(value: Any) -> Any:
    return str(Path(value).resolve()) if isinstance(value, (str, os.PathLike)) else value
