"""The run's own files as callbacks: its provenance record, the result image with that record,
and the comparison figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from impasto import __version__
from impasto.errors import ImpastoError
from impasto.image.io import DEEP_FORMATS, SUPPORTED_SUFFIXES, check_output_path
from impasto.optim.callbacks import Callback, Finish, RunStart
from impasto.optim.events import Iterate
from impasto.planned import Planned
from impasto.record.figures import save_comparison
from impasto.record.provenance import PNG_KEY, build_record, record_files, save_with_record


class Provenance(Callback):
    """The provenance record of the run, made when it starts (after the engine's own checks of
    the inputs and weights); the result, its frames and previews carry it."""

    def __init__(self) -> None:
        self._record: dict[str, Any] | None = None

    def on_run_start(self, start: RunStart) -> None:
        self._record = build_record(
            start.settings,
            start.content,
            start.styles,
            version=__version__,
            device=start.device,
            weights_sha256=start.weights_sha256,
            checksums=start.checksums,
            resolved=start.resolved,
        )

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            raise RuntimeError("the run has not started: there is no record yet")
        return self._record

    def png_text(self) -> dict[str, str]:
        """The record as a PNG text chunk."""
        return {PNG_KEY: json.dumps(self.record, sort_keys=True)}


class ResultWriter(Callback):
    """Writes the result with its record (in the PNG, or a JSON sidecar for other formats), in
    8 or 16 bits; a run interrupted or stopped early records where it ended."""

    def __init__(self, output: Path, provenance: Provenance, bits: int = 8, replace: bool = False) -> None:
        self.output, self.provenance, self.bits, self.replace = output, provenance, bits, replace
        self.last: Iterate | None = None

    def outputs(self) -> list[Planned]:
        try:
            check_output_path(self.output)
        except ImpastoError as error:
            raise ImpastoError(f"output {error}", "output") from None
        if self.bits == 16 and SUPPORTED_SUFFIXES[self.output.suffix.lower()] not in DEEP_FORMATS:
            raise ImpastoError(f"bit_depth 16 needs a .png or .tif output, not {self.output.name}", "bit_depth")
        images = record_files(self.output)
        planned = [Planned(images[0], "output", "the result")]
        return planned + [Planned(p, "output", "the record beside the result") for p in images[1:]]

    def on_iterate(self, it: Iterate) -> None:
        self.last = it

    def on_finish(self, finish: Finish) -> None:
        ended = finish.interrupted_at or (self.last if finish.stopped else None)
        key = "interrupted_at" if finish.interrupted_at is not None else "stopped_at"
        extra = {key: {"scale": ended.scale, "iteration": ended.iteration}} if ended is not None else {}
        result = finish.pixels if self.bits == 16 and finish.pixels is not None else finish.image
        record = {**self.provenance.record, **extra}
        finish.written += save_with_record(result, self.output, record, bits=self.bits, replace=self.replace)


class Comparison(Callback):
    """Writes a figure of the content, each style and the result side by side."""

    def __init__(self, path: str, replace: bool = False) -> None:
        self.path, self.replace = path, replace
        self.images: tuple[Any, list[Any]] | None = None
        self.names: tuple[str, list[str]] = ("content", [])

    def outputs(self) -> list[Planned]:
        try:
            return [Planned(check_output_path(self.path), "comparison", "the comparison figure")]
        except ImpastoError as error:
            raise ImpastoError(f"comparison {error}", "comparison") from None

    def on_run_start(self, start: RunStart) -> None:
        self.images = start.images
        self.names = (Path(start.content).name or "content", [Path(s).name for s in start.styles])

    def on_finish(self, finish: Finish) -> None:
        if self.images is None:
            return
        content, styles = self.images
        names = self.names[1] or [f"style {i + 1}" for i in range(len(styles))]
        finish.written.append(
            save_comparison(content, list(zip(styles, names)), finish.image, self.path, self.names[0], self.replace)
        )
