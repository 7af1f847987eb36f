"""One web job as any backend runs it: its plain-data description (which pickles, for a Ray
worker), and the run itself in a folder: an engine `Job` with the recorders of the job's files
and a `LiveRun` that sends its events on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from impasto.apps.web.live import LiveRun, Publish
from impasto.defaults import resolve, total_iterations
from impasto.engine import Job, StopToken, Stylizer
from impasto.record.options import OutputOptions
from impasto.record.recorders import recorders

RESULT_FILES = ("result.png", "animation.gif", "comparison.png", "losses.csv")
"""What a run writes into its folder (the server adds `thumb.jpg`)."""


@dataclass(frozen=True)
class WebJob:
    """A claimed job: its id, network, settings (the network's own left out) and input files
    (names under the folder's `inputs/`)."""

    id: str
    model: str
    overrides: dict[str, Any]
    content: str
    styles: tuple[str, ...]

    @classmethod
    def of(cls, job: dict[str, Any]) -> WebJob:
        """From the store's row of the job."""
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in job["settings"].items() if k != "model"}
        styles = tuple(entry["file"] for entry in job["inputs"]["styles"])
        return cls(job["id"], job["model"], settings, job["inputs"]["content"]["file"], styles)


@dataclass(frozen=True)
class Painted:
    """How a run ended: its image, whether it was stopped, and iterations done of the total."""

    image: Image.Image
    stopped: bool
    done: int
    total: int


def paint(
    stylizer: Stylizer, job: WebJob, folder: Path, publish: Publish, saved: Callable[[int], None], stop: StopToken
) -> Painted:
    """Runs `job` on the inputs in `folder/inputs`, writing its files and `latest.png` (every few
    seconds; `saved` is told each time) into `folder`, its events going to `publish`."""
    given = stylizer.given(**job.overrides)
    options = OutputOptions(
        quiet=True,
        animate=str(folder / "animation.gif"),
        comparison=str(folder / "comparison.png"),
        loss_log=str(folder / "losses.csv"),
    )
    callbacks, provenance = recorders(options, folder / "result.png", replace=True)
    live = LiveRun(job.id, total_iterations(resolve(given)), provenance, folder / "latest.png", publish, saved)
    content = str(folder / "inputs" / job.content)
    styles = [str(folder / "inputs" / name) for name in job.styles]
    finish = Job(given, content, styles, [*callbacks, live], stop=stop, overwrite=True).run(stylizer)
    return Painted(finish.image, finish.stopped, live.done, live.total)
