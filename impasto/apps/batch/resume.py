"""Which jobs a batch can skip: those whose output carries the record of the same run."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from impasto.apps.batch.plan import Job
from impasto.defaults import resolve
from impasto.engine.preflight import mask_checksums
from impasto.errors import ImpastoError
from impasto.features.weights import sha256_file, weights_sha256
from impasto.record.provenance import read_record
from impasto.settings import Settings

DECLARED = {f.name: f.default for f in fields(Settings)}
"""What a record made before a setting existed ran with: its declared default (a new setting's
default keeps the behaviour that came before it)."""


@dataclass(frozen=True)
class Previous:
    """What a job's output file says: `record` when it is this job's finished result;
    `conflict` (why) when it was made with other settings or weights, or not by impasto, and
    so is not replaced unasked; both None when the job is to run (no file yet, an interrupted
    run, or a result of a photo or style that has changed since)."""

    record: dict[str, Any] | None = None
    conflict: str | None = None


class Finished:
    """Compares outputs' provenance records with the batch's settings, weights and inputs
    (inputs, masks included, by checksum, so a moved photo still counts as the same and an
    edited one does not)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = _comparable(resolve(settings).to_dict())
        self.weights_sha256 = weights_sha256(settings.model, settings.weights)
        self.masks = mask_checksums(settings)
        self._checksums: dict[Path, str | None] = {}

    def previous(self, job: Job) -> Previous:
        """Whether the job's output exists, and if so whether it is this job's finished result."""
        if not job.output.exists():
            return Previous()
        try:
            record = read_record(job.output)
        except ImpastoError:
            return Previous(conflict="it was not written by impasto")
        conflict = self._conflict(record)
        if conflict:
            return Previous(conflict=conflict)
        sums = [entry.get("sha256") for entry in (record["content"], *record["styles"])]
        kept = record.get("batch")
        masks = kept.get("masks", {}) if isinstance(kept, dict) else {}
        current = sums == [self._checksum(job.content), self._checksum(job.style)] and masks == self.masks
        return Previous(record=record) if current and "interrupted_at" not in record else Previous()

    def _conflict(self, record: dict[str, Any]) -> str | None:
        """Why a record is of another batch: other weights, or the first setting that differs."""
        if record["weights_sha256"] != self.weights_sha256:
            return "it was made with other weights"
        recorded = _comparable({**DECLARED, **record.get("resolved", {})})
        changed = sorted(k for k in self.settings.keys() | recorded.keys() if self.settings.get(k) != recorded.get(k))
        return f"it was made with another --{changed[0].replace('_', '-')}" if changed else None

    def _checksum(self, path: Path) -> str | None:
        """An input's SHA-256, once per file (None if unreadable: such a job is never skipped)."""
        if path not in self._checksums:
            try:
                self._checksums[path] = sha256_file(path)
            except OSError:
                self._checksums[path] = None
        return self._checksums[path]


def _comparable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as compared between runs: the weights by checksum, not by the path given."""
    return {k: v for k, v in settings.items() if k != "weights"}
