"""Everything a CLI run writes besides progress: the image with its provenance, frames,
animation, comparison figure, loss log and plot, and checkpoints; also what is saved
when the run is interrupted.

`RunOutputs` is one engine callback that feeds the recorders the `OutputOptions` ask for.
Made before the network is loaded, it checks every output and reads every input first
(`impasto.record.preflight`); without `overwrite` it replaces no file, not even one that
appears while the run is going.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from impasto import __version__
from impasto.engine.events import Iterate
from impasto.image.io import to_image
from impasto.optim.control import RunControl
from impasto.optim.loop import Resume
from impasto.record.checkpoint import Checkpoint, CheckpointWriter, checkpoint_path
from impasto.record.figures import save_comparison, save_loss_plot
from impasto.record.frames import FrameSampler, FrameSaver, frames_folder, write_animation
from impasto.record.losslog import LossLog
from impasto.record.options import OutputOptions
from impasto.record.preflight import Inputs, check_outputs, input_paths, planned_outputs, read_inputs
from impasto.record.progress import Progress
from impasto.record.provenance import PNG_KEY, build_record, save_with_record
from impasto.settings import Settings

Result = Image.Image | torch.Tensor
"""A result to save: the engine's 8-bit image, or float pixels in 0..1 (kept for 16-bit files)."""


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
        reads: Mapping[str, Path] | None = None,
        resumed: Path | None = None,
    ) -> None:
        """`reads` names other files the run reads (description -> path) that no output may
        replace; `resumed` is the checkpoint file `checkpoint` came from."""
        self.options = options
        self.settings = settings
        self.content, self.styles = content, list(styles)
        self.output = output
        self.resume: Resume | None = checkpoint.resume if checkpoint else None
        self.control = control or RunControl()
        self.last: Iterate | None = None
        self.written: list[Path] = []
        self.overwrite = bool(overwrite or checkpoint)
        sources = input_paths(settings, content, self.styles, reads or {})
        check_outputs(planned_outputs(output, options), sources, self.overwrite, resumed)
        self.inputs: Inputs = read_inputs(settings, content, self.styles, self.resume)
        self.resumed = resumed
        self._record: dict[str, Any] | None = None
        self._weights_sha256, self._device = "", ""
        self.progress = Progress(quiet=bool(options.quiet), log_every=options.log_every or 0)
        self.losses = LossLog() if options.loss_log or options.loss_plot else None
        self.sampler = FrameSampler(options.save_every or 1) if options.animate else None
        self.frames = (
            FrameSaver(frames_folder(output), options.save_every, self._png_text, self.overwrite)
            if options.save_every
            else None
        )
        self.checkpoints = (
            CheckpointWriter(
                checkpoint_path(output),
                options.checkpoint_every,
                self.description(),
                self._states,
                self.control.resume_state,
                self._warn,
            )
            if options.checkpoint_every
            else None
        )
        if checkpoint is not None:
            self._restore(checkpoint.recorders)

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
                self.settings,
                self.content,
                self.styles,
                version=__version__,
                device=self._device,
                weights_sha256=self._weights_sha256,
                checksums=self.inputs.checksums(),
            )
        return self._record

    def _png_text(self) -> dict[str, str]:
        return {PNG_KEY: json.dumps(self.record(), sort_keys=True)}

    def close(self) -> None:
        """Ends the progress display."""
        self.progress.close()

    def _warn(self, message: str) -> None:
        """A problem the run survives (a checkpoint that could not be written), shown at once."""
        self.progress.close()
        if not self.options.quiet:
            print(f"impasto: warning: {message}", file=sys.stderr, flush=True)

    def save_interrupted(self) -> str:
        """Saves what there is after an interruption; returns the message for the user."""
        if self.last is None:
            return "interrupted before the first iteration: nothing to save"
        it = self.last
        assert it.pixels is not None  # the engine's iterates carry their image
        self.finish(it.pixels, {"interrupted_at": {"scale": it.scale, "iteration": it.iteration}})
        where = f"iteration {it.iteration}/{it.iterations}" + (
            f" of scale {it.scale + 1}/{it.scales}" if it.scales > 1 else ""
        )
        message = f"interrupted at {where}: saved {', '.join(map(str, self.written))}"
        if self.checkpoints is not None and self.checkpoints.saved_at is not None:
            scale, iteration = self.checkpoints.saved_at
            message += f"; continue from iteration {iteration} with --resume {self.checkpoints.path}"
        return message

    def finish(self, result: Result, extra: dict[str, Any] | None = None) -> list[Path]:
        """Writes the result with its record, then each requested figure and log."""
        options, replace = self.options, self.overwrite
        image = to_image(result) if isinstance(result, torch.Tensor) else result
        deep = self._deepest(result) if options.bit_depth == 16 else image
        record = {**self.record(), **(extra or {})}
        self.written += save_with_record(deep, self.output, record, bits=options.bit_depth, replace=replace)
        if self.sampler is not None and options.animate:
            self.written.append(write_animation(self.sampler.finish(image), options.animate, replace=replace))
        if options.comparison:
            inputs = self.inputs
            styles = [(s.image, s.path.name) for s in inputs.styles]
            self.written.append(
                save_comparison(
                    inputs.content.image, styles, image, options.comparison, inputs.content.path.name, replace
                )
            )
        if self.losses is not None and options.loss_log:
            self.written.append(self.losses.write_csv(options.loss_log, replace))
        if self.losses is not None and options.loss_plot and self.losses.rows:
            self.written.append(save_loss_plot(self.losses, options.loss_plot, replace))
        if self.frames is not None:
            self.written.append(self.frames.folder)
        return self.written

    def _deepest(self, result: Result) -> Result:
        """The float pixels of the result for a 16-bit file: the last event's, which are the
        result itself when the run ended normally (checked), else the 8-bit result."""
        last = self.last
        if isinstance(result, torch.Tensor) or last is None or last.pixels is None:
            return result
        done = last.scale == last.scales - 1 and last.iteration == last.iterations
        return last.pixels if done and np.array_equal(np.asarray(last.image()), np.asarray(result)) else result

    def done(self) -> None:
        """After a run that finished: its checkpoint, now of no use, is removed unless kept."""
        path = checkpoint_path(self.output)
        written = self.checkpoints is not None and self.checkpoints.saved_at is not None
        resumed_here = self.resumed is not None and path.exists() and os.path.samefile(path, self.resumed)
        if not self.options.keep_checkpoint and (written or resumed_here):
            path.unlink(missing_ok=True)

    def report(self) -> None:
        """Names the files written (unless --quiet)."""
        if not self.options.quiet:
            for path in self.written:
                print(f"impasto: wrote {path}", file=sys.stderr)


def _absolute(value: Any) -> Any:
    return str(Path(value).resolve()) if isinstance(value, (str, os.PathLike)) else value
