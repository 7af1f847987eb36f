"""Everything a CLI run writes besides progress: the image with its provenance, frames,
animation, comparison figure, loss log and plot, and checkpoints; also what is saved
when the run is interrupted.

`RunOutputs` is one engine callback that feeds the recorders the `OutputOptions` ask for.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from impasto import __version__
from impasto.record.checkpoint import Checkpoint, CheckpointWriter, checkpoint_path
from impasto.errors import ImpastoError
from impasto.record.figures import save_comparison, save_loss_plot
from impasto.record.frames import FrameSampler, FrameSaver, check_animation_path, frames_folder, write_animation
from impasto.image.io import check_output_path, load_image
from impasto.record.losslog import LossLog
from impasto.engine.events import Iterate
from impasto.optim.loop import Resume
from impasto.optim.control import RunControl
from impasto.record.options import OutputOptions
from impasto.record.progress import Progress
from impasto.record.provenance import PNG_KEY, build_record, save_with_record
from impasto.settings import Settings

class RunOutputs:
    """Records a run through the engine callback and writes the files the options ask for."""

    def __init__(
        self,
        options: OutputOptions,
        settings: Settings,
        content: str,
        styles: Sequence[str],
        output: Path,
        *,
        overwrite: bool = False,
        checkpoint: Checkpoint | None = None,
        control: RunControl | None = None,
    ) -> None:
        self.options = options
        self.settings = settings
        self.content, self.styles = content, list(styles)
        self.output = output
        self.resume: Resume | None = checkpoint.resume if checkpoint else None
        self.control = control or RunControl()
        self.last: Iterate | None = None
        self.written: list[Path] = []
        self._check_paths(overwrite=bool(overwrite or checkpoint))
        self._record: dict[str, Any] | None = None
        self._weights_sha256, self._device = "", ""
        self.progress = Progress(quiet=bool(options.quiet), log_every=options.log_every or 0)
        self.losses = LossLog() if options.loss_log or options.loss_plot else None
        self.sampler = FrameSampler(options.save_every or 1) if options.animate else None
        self.frames = FrameSaver(frames_folder(output), options.save_every, self._png_text) if options.save_every else None
        self.checkpoints = (
            CheckpointWriter(
                checkpoint_path(output), options.checkpoint_every, self.description(), self._states, self.control.resume_state
            )
            if options.checkpoint_every else None
        )
        if checkpoint is not None:
            self._restore(checkpoint.recorders)

    def _check_paths(self, overwrite: bool) -> None:
        """Refuses, before the run, files that cannot be written or that would be replaced."""
        options, planned = self.options, [self.output]
        if options.animate:
            planned.append(check_animation_path(options.animate))
        if options.comparison:
            planned.append(check_output_path(options.comparison))
        for name in ("loss_log", "loss_plot"):
            if getattr(options, name):
                planned.append(Path(getattr(options, name)))
                if not planned[-1].parent.is_dir():
                    raise ImpastoError(f"{name} {planned[-1]}: folder {planned[-1].parent} does not exist", name)
        if options.loss_plot and Path(options.loss_plot).suffix.lower() != ".png":
            raise ImpastoError(f"loss_plot {options.loss_plot}: the plot is a PNG; name it .png", "loss_plot")
        if options.save_every:
            planned.append(frames_folder(self.output))
        if options.checkpoint_every:
            planned.append(checkpoint_path(self.output))
        existing = [str(p) for p in planned[1:] if p.exists()]
        if existing and not overwrite:
            raise ImpastoError(f"{existing[0]} already exists: choose another name or pass --overwrite")

    def description(self) -> dict[str, Any]:
        """The run as a checkpoint keeps it: inputs, output, settings and output options."""
        return {
            "content": str(Path(self.content).resolve()),
            "style": [str(Path(s).resolve()) for s in self.styles],
            "output": str(self.output.resolve()),
            "settings": self.settings.to_dict(),
            "options": {k: _absolute(v) for k, v in self.options.kept().items()},
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

    def started(self, device: str, weights_sha256: str) -> None:
        """Told by the app once the network is loaded: what the provenance record names."""
        self._device, self._weights_sha256 = device, weights_sha256

    def record(self) -> dict[str, Any]:
        """The provenance record, made once the run has started (so the engine's own
        checks of the inputs and weights speak first)."""
        if self._record is None:
            self._record = build_record(
                self.settings, self.content, self.styles, version=__version__,
                device=self._device, weights_sha256=self._weights_sha256,
            )
        return self._record

    def _png_text(self) -> dict[str, str]:
        return {PNG_KEY: json.dumps(self.record(), sort_keys=True)}

    def close(self) -> None:
        """Ends the progress display."""
        self.progress.close()

    def save_interrupted(self) -> str:
        """Saves what there is after an interruption; returns the message for the user."""
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
        options = self.options
        self.written += save_with_record(image, self.output, {**self.record(), **(extra or {})})
        if self.sampler is not None:
            self.written.append(write_animation(self.sampler.finish(image), options.animate))
        if options.comparison:
            styles = [(load_image(s), Path(s).name) for s in self.styles]
            self.written.append(save_comparison(load_image(self.content), styles, image, options.comparison, Path(self.content).name))
        if self.losses is not None and options.loss_log:
            self.written.append(self.losses.write_csv(options.loss_log))
        if self.losses is not None and options.loss_plot and self.losses.rows:
            self.written.append(save_loss_plot(self.losses, options.loss_plot))
        if self.frames is not None:
            self.written.append(self.frames.folder)
        return self.written

    def report(self) -> None:
        """Names the files written (unless --quiet)."""
        if not self.options.quiet:
            for path in self.written:
                print(f"impasto: wrote {path}", file=sys.stderr)


def _absolute(value: Any) -> Any:
    return str(Path(value).resolve()) if isinstance(value, (str, os.PathLike)) else value

