"""Everything a CLI run writes besides progress: the image with its provenance, frames,
animation, comparison figure, loss log and plot, and checkpoints; also what is saved
when the run is interrupted.

`RunOutputs` is one engine callback that feeds the recorders the options ask for.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from impasto import __version__
from impasto.record.checkpoint import Checkpoint, CheckpointWriter, checkpoint_path
from impasto.features.devices import select_device
from impasto.errors import ImpastoError
from impasto.record.figures import save_comparison, save_loss_plot
from impasto.record.frames import FrameSampler, FrameSaver, check_animation_path, frames_folder, write_animation
from impasto.image.io import check_output_path, load_image
from impasto.apps.interrupts import as_interrupted, sigterm_interrupts
from impasto.record.losslog import LossLog
from impasto.optim.loop import Iterate, Resume
from impasto.record.progress import Progress
from impasto.record.provenance import PNG_KEY, build_record, save_with_record, weights_checksum
from impasto.settings import Settings

OPTIONS = ("save_every", "animate", "comparison", "loss_log", "loss_plot", "checkpoint_every")
"""The output options a checkpoint keeps, so `--resume` writes the same files."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    add("--resume", metavar="CKPT", help="continue the run saved in CKPT (from --checkpoint-every)")
    add("--replay", metavar="IMAGE", help="repeat the run that made IMAGE (an impasto output), from its record")


class RunOutputs:
    """Records a run through the engine callback and writes the files the options ask for."""

    def __init__(
        self, args: argparse.Namespace, settings: Settings, output: Path, checkpoint: Checkpoint | None = None
    ) -> None:
        self.args = args
        self.settings = settings
        self.output = output
        self.resume: Resume | None = checkpoint.resume if checkpoint else None
        self.last: Iterate | None = None
        self.written: list[Path] = []
        self._check_paths(overwrite=bool(args.overwrite or checkpoint))
        self._record: dict[str, Any] | None = None
        self.progress = Progress(quiet=bool(args.quiet), log_every=args.log_every or 0)
        self.losses = LossLog() if args.loss_log or args.loss_plot else None
        self.sampler = FrameSampler(args.save_every or 1) if args.animate else None
        self.frames = FrameSaver(frames_folder(output), args.save_every, self._png_text) if args.save_every else None
        self.checkpoints = (
            CheckpointWriter(checkpoint_path(output), args.checkpoint_every, self.description(), self._states)
            if args.checkpoint_every else None
        )
        if checkpoint is not None:
            self._restore(checkpoint.recorders)

    def _check_paths(self, overwrite: bool) -> None:
        """Refuses, before the run, files that cannot be written or that would be replaced."""
        args, planned = self.args, [self.output]
        if args.animate:
            planned.append(check_animation_path(args.animate))
        if args.comparison:
            planned.append(check_output_path(args.comparison))
        for name in ("loss_log", "loss_plot"):
            if getattr(args, name):
                planned.append(Path(getattr(args, name)))
                if not planned[-1].parent.is_dir():
                    raise ImpastoError(f"--{name.replace('_', '-')} {planned[-1]}: folder {planned[-1].parent} does not exist")
        if args.loss_plot and Path(args.loss_plot).suffix.lower() != ".png":
            raise ImpastoError(f"--loss-plot {args.loss_plot}: the plot is a PNG; name it .png")
        if args.save_every:
            planned.append(frames_folder(self.output))
        if args.checkpoint_every:
            planned.append(checkpoint_path(self.output))
        existing = [str(p) for p in planned[1:] if p.exists()]
        if existing and not overwrite:
            raise ImpastoError(f"{existing[0]} already exists: choose another name or pass --overwrite")

    def description(self) -> dict[str, Any]:
        """The run as a checkpoint keeps it: inputs, output, settings and output options."""
        return {
            "content": str(Path(self.args.content).resolve()),
            "style": [str(Path(s).resolve()) for s in self.args.style],
            "output": str(self.output.resolve()),
            "settings": self.settings.to_dict(),
            "options": {k: _absolute(getattr(self.args, k)) for k in OPTIONS},
        }

    def __call__(self, it: Iterate) -> None:
        if self.checkpoints is not None:
            self.checkpoints(it)  # first: its histories must not yet hold this iteration
        self.last = it
        for recorder in (self.losses, self.sampler, self.frames, self.progress):
            if recorder is not None:
                recorder(it)

    def _states(self) -> dict[str, Any]:
        return {
            "losses": self.losses.state() if self.losses else None,
            "sampler": self.sampler.state() if self.sampler else None,
        }

    def _restore(self, states: dict[str, Any]) -> None:
        if self.losses is not None and states.get("losses"):
            self.losses.restore(states["losses"])
        if self.sampler is not None and states.get("sampler"):
            self.sampler.restore(states["sampler"])

    def record(self) -> dict[str, Any]:
        """The provenance record, made once the run has started (so the pipeline's own
        checks of the inputs and weights speak first)."""
        if self._record is None:
            self._record = build_record(
                self.settings, self.args.content, self.args.style, version=__version__,
                device=str(select_device(self.settings.device)), weights_sha256=weights_checksum(self.settings),
            )
        return self._record

    def _png_text(self) -> dict[str, str]:
        return {PNG_KEY: json.dumps(self.record(), sort_keys=True)}

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around the run: SIGTERM acts like Ctrl-C, and either one saves what there is."""
        try:
            with sigterm_interrupts():
                yield
        except KeyboardInterrupt as error:
            interrupted = as_interrupted(error)
            self.progress.close()
            raise interrupted.with_message(self._save_interrupted()) from None
        finally:
            self.progress.close()

    def _save_interrupted(self) -> str:
        if self.last is None:
            return "interrupted before the first iteration: nothing to save"
        it = self.last
        self.finish(it.image(), {"interrupted_at": {"scale": it.scale, "iteration": it.iteration}})
        where = f"iteration {it.iteration}/{it.iterations}" + (f" of scale {it.scale + 1}/{it.scales}" if it.scales > 1 else "")
        message = f"interrupted at {where}: saved {', '.join(map(str, self.written))}"
        if self.checkpoints is not None and self.checkpoints.saved_at is not None:
            scale, iteration = self.checkpoints.saved_at
            message += f"; continue from iteration {iteration} with --resume {self.checkpoints.path}"
        return message

    def finish(self, image: Any, extra: dict[str, Any] | None = None) -> list[Path]:
        """Writes the image with its record, then each requested figure and log."""
        args = self.args
        self.written += save_with_record(image, self.output, {**self.record(), **(extra or {})})
        if self.sampler is not None:
            self.written.append(write_animation(self.sampler.finish(image), args.animate))
        if args.comparison:
            styles = [(load_image(s), Path(s).name) for s in args.style]
            self.written.append(save_comparison(load_image(args.content), styles, image, args.comparison, Path(args.content).name))
        if self.losses is not None and args.loss_log:
            self.written.append(self.losses.write_csv(args.loss_log))
        if self.losses is not None and args.loss_plot and self.losses.rows:
            self.written.append(save_loss_plot(self.losses, args.loss_plot))
        if self.frames is not None:
            self.written.append(self.frames.folder)
        return self.written

    def report(self) -> None:
        """Names the files written (unless --quiet)."""
        if not self.args.quiet:
            for path in self.written:
                print(f"impasto: wrote {path}", file=sys.stderr)


def _absolute(value: Any) -> Any:
    return str(Path(value).resolve()) if isinstance(value, (str, os.PathLike)) else value

