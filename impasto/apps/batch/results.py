"""What became of each job, and the result written with its provenance record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from impasto import __version__
from impasto.apps.batch.plan import Job
from impasto.defaults import resolve
from impasto.engine.preflight import mask_checksums
from impasto.errors import ImpastoError
from impasto.record.provenance import build_record, save_with_record
from impasto.settings import Settings

STATUSES = ("done", "skipped", "failed", "not run")
"""done: made now; skipped: made by an earlier run; failed: reported and passed over;
not run: the batch was interrupted first."""


@dataclass(frozen=True)
class Outcome:
    """One job's end: its status, seconds of stylisation, final weighted losses, or the error."""

    job: Job
    status: str
    seconds: float | None = None
    losses: Mapping[str, float] = field(default_factory=dict)
    error: str = ""


def skipped(job: Job, record: dict[str, Any]) -> Outcome:
    """A job finished by an earlier run, with the seconds and losses its record kept."""
    kept = record.get("batch", {})
    return Outcome(job, "skipped", kept.get("seconds"), kept.get("losses", {}))


def failed(job: Job, error: BaseException | str) -> Outcome:
    """A job that could not be done, with the one-line reason."""
    text = error if isinstance(error, str) else _one_line(error)
    return Outcome(job, "failed", error=text)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if isinstance(error, ImpastoError) else f"internal error: {type(error).__name__}: {text}"


class ResultWriter:
    """Saves results as PNGs that carry their provenance record, plus the job's seconds and
    final losses (so a resumed batch can list them, and `impasto --replay` repeats a job)."""

    def __init__(self, settings: Settings, weights_sha256: str) -> None:
        self.settings = settings
        self.resolved = resolve(settings)
        self.weights_sha256 = weights_sha256
        self.masks = mask_checksums(settings)  # kept in the record: an edited mask makes the result stale

    def save(
        self,
        job: Job,
        image: Image.Image,
        losses: Mapping[str, float],
        seconds: float,
        device: str,
        checksums: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Writes the job's image atomically; an error while saving fails only this job.
        `checksums` (path -> SHA-256) are those of the inputs as the run read them."""
        try:
            record = build_record(
                self.settings,
                job.content,
                [job.style],
                version=__version__,
                device=device,
                weights_sha256=self.weights_sha256,
                resolved=self.resolved,
                checksums=checksums,
                extra={"batch": {"seconds": seconds, "losses": dict(losses), "masks": self.masks}},
            )
            save_with_record(image, job.output, record)
        except Exception as error:  # a full disk or a vanished input fails this job, not the batch
            return failed(job, error)
        return Outcome(job, "done", seconds, dict(losses))
