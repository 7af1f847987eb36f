"""`Job`: one stylisation and everything around it, run the same way by every front end (the
command, the web app, batch, video, Ray workers and `Stylizer.run`).

A job is its settings, its inputs, the callbacks that record it (progress, files, previews)
and, when it continues an earlier run, the state it resumes. `Job.run` reads as the life
cycle's stages:

1. check: read every input once and check it, the settings and every output the callbacks
   will write (`Job.check`, which a front end may call before loading any weights);
2. start: tell the callbacks what runs (`on_run_start`);
3. paint: the engine's stages (`Stylizer.paint`): targets, then each scale's objective and
   optimisation, then the final colour step;
4. finish: hand the result to the callbacks (`on_finish`). An interruption (Ctrl-C, SIGTERM)
   finishes with the last image instead, so its recorders save what there is, then tells
   them (`on_exception`) and ends in one `Interrupted` naming what was saved.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from impasto.defaults import resolve
from impasto.engine.checks import check_run
from impasto.engine.plan import Plan
from impasto.engine.preflight import input_paths
from impasto.engine.pyramid import Pyramid
from impasto.engine.targets import load_masks, style_weights
from impasto.errors import ImpastoError, Interrupted
from impasto.features.devices import select_device
from impasto.image.io import ImageInput, as_image, read_image
from impasto.losses.objective import Term, layers_of
from impasto.optim.callbacks import Callback, CallbackList, Finish, RunStart
from impasto.optim.control import StopToken
from impasto.optim.events import Iterate, Resume
from impasto.planned import check_outputs
from impasto.settings import Settings

if TYPE_CHECKING:
    from torch import nn

    from impasto.engine.stylizer import Stylizer

ExtraTerm = Term | tuple[str, "nn.Module", float]
"""A loss term joining the objective at the last scale: (name, module, weight), where
`module(image, features)` reads the layers in `module.layers`."""


@dataclass
class Job:
    """One stylisation: what it paints, how it is recorded, and where it resumes.

    `settings` are as given (defaults are resolved in the check stage). `content` and each of
    `styles` is a path (read once, and its SHA-256 recorded) or an image in memory.
    `callbacks` are `Callback`s or plain functions of each `Iterate`; `states` their saved
    states (from a checkpoint). `stop` ends the run early from any thread. `resume` continues
    an earlier run; `resumed` is the checkpoint file it came from, which may be replaced.
    `reads` names other files the run reads that no output may replace; `overwrite` lets
    outputs replace existing files. `start` replaces the settings' starting image.
    """

    settings: Settings
    content: ImageInput
    styles: Sequence[ImageInput]
    callbacks: Sequence[Callback | Callable[[Iterate], None]] = ()
    stop: StopToken | None = None
    resume: Resume | None = None
    states: Mapping[str, Any] = field(default_factory=dict)
    start: Image.Image | torch.Tensor | None = None
    extra_terms: Sequence[ExtraTerm] = ()
    overwrite: bool = False
    reads: Mapping[str, Path] = field(default_factory=dict)
    resumed: Path | None = None
    _plan: Plan | None = field(init=False, repr=False, default=None)
    _checksums: dict[str, str] = field(init=False, repr=False, default_factory=dict)

    def check(self) -> Plan:
        """Stage 1: reads the inputs once and checks them, the settings and every output,
        before any weights are loaded; a run that cannot finish stops here in one line."""
        if self._plan is not None:
            return self._plan
        resolved = resolve(self.settings)
        if not self.styles:
            raise ImpastoError("give at least one style image")
        content = self._read(self.content, "content image")
        styles = [self._read(s, _style_name(i, len(self.styles))) for i, s in enumerate(self.styles)]
        extra = [term if isinstance(term, Term) else Term(*term) for term in self.extra_terms]
        masks = load_masks(resolved)
        names = [
            self._name(self.content, "the content image"),
            *(_style_label(s, i, len(self.styles)) for i, s in enumerate(self.styles)),
        ]
        device = select_device(resolved.device)
        check_run(resolved, content, styles, device, resume=self.resume, names=names, layers=layers_of(extra))
        self._check_outputs()
        blend = style_weights(resolved.style_blend, len(styles))
        self._plan = Plan(resolved, content, styles, blend, masks, Pyramid.of(resolved), extra, self.start)
        return self._plan

    def run(self, stylizer: Stylizer) -> Finish:
        """Runs the job's stages with `stylizer`'s network; returns how it finished."""
        plan = self.check()
        stylizer.check_network(self.settings)
        last = _LastIterate()
        callbacks = CallbackList([last, *self.callbacks])
        callbacks.load_state_dict(dict(self.states))
        try:
            callbacks.on_run_start(self._started(stylizer, plan))
            finish = stylizer.paint(plan, callbacks, self.stop, self.resume)
            callbacks.on_finish(finish)
        except KeyboardInterrupt as error:
            raise _interrupted(error, callbacks, last.it) from None
        except BaseException as error:
            callbacks.on_exception(error)
            raise
        return finish

    def _read(self, source: ImageInput, what: str) -> Image.Image:
        if isinstance(source, (str, os.PathLike)):
            loaded = read_image(source, what)
            self._checksums[str(loaded.path)] = loaded.sha256
            return loaded.image
        return as_image(source, what)

    @staticmethod
    def _name(source: ImageInput, otherwise: str) -> str:
        return f"{otherwise.removeprefix('the ')} {source}" if isinstance(source, (str, os.PathLike)) else otherwise

    def _check_outputs(self) -> None:
        """Every file the callbacks will write, against each other and every file the run reads."""
        planned = CallbackList(self.callbacks).outputs()
        if planned:
            reads = input_paths(self.settings, *self._paths_given(), self.reads)
            check_outputs(planned, reads, self.overwrite or self.resume is not None, self.resumed)

    def _paths_given(self) -> tuple[str, list[str]]:
        content = str(self.content) if isinstance(self.content, (str, os.PathLike)) else ""
        styles = [str(s) for s in self.styles if isinstance(s, (str, os.PathLike))]
        return content, styles

    def _started(self, stylizer: Stylizer, plan: Plan) -> RunStart:
        content, styles = self._paths_given()
        return RunStart(
            self.settings,
            plan.settings,
            content,
            styles,
            str(stylizer.device),
            stylizer.weights_sha256,
            dict(self._checksums),
            (plan.content, plan.styles),
        )


class _LastIterate(Callback):
    """Keeps the last event, which an interrupted run finishes with."""

    def __init__(self) -> None:
        self.it: Iterate | None = None

    def on_iterate(self, it: Iterate) -> None:
        self.it = it


def _interrupted(error: KeyboardInterrupt, callbacks: CallbackList, last: Iterate | None) -> Interrupted:
    """Finishes an interrupted run with its last image (recorders save what there is), tells the
    callbacks, and says in one line where it stopped and what was saved."""
    interrupted = error if isinstance(error, Interrupted) else Interrupted()
    if last is None:
        callbacks.on_exception(error)
        return interrupted.with_message("interrupted before the first iteration: nothing to save")
    finish = Finish(last.image(), interrupted_at=last)
    try:
        callbacks.on_finish(finish)
    finally:
        callbacks.on_exception(error)
    saved = f": saved {', '.join(map(str, finish.written))}" if finish.written else ""
    notes = "".join(f"; {note}" for note in finish.notes)
    return interrupted.with_message(f"interrupted at {last.where()}{saved}{notes}")


def _style_name(index: int, count: int) -> str:
    return f"style image {index + 1} of {count}" if count > 1 else "style image"


def _style_label(source: ImageInput, index: int, count: int) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"style image {source}"
    return f"style image {index + 1}" if count > 1 else "the style image"
