"""Every file a batch writes, as the shared pre-flight (`impasto.planned`) plans it,
and how a batch knows its own files from the user's: a result by its name and provenance
record, the summary by its mark. Its own files are resumed or rewritten and never taken
as photos or styles; any other file in the way is replaced only with --overwrite, and never
when the batch reads it."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from impasto.apps.batch.names import SEPARATOR
from impasto.apps.batch.plan import Job
from impasto.apps.batch.summary import is_summary, summary_paths
from impasto.engine.preflight import settings_reads
from impasto.errors import ImpastoError
from impasto.planned import Planned, check_outputs
from impasto.record.provenance import read_record
from impasto.settings import Settings

RENAME = "choose another --output folder"
_SHEET_NAME = re.compile(r"index(-[0-9]+)?\.jpg")


def is_own(path: Path) -> bool:
    """Whether `path` is a file some batch wrote: a result (CONTENT__STYLE with a batch's
    record) or a summary file (jobs.csv, a contact sheet)."""
    if SEPARATOR in path.stem:
        try:
            return "batch" in read_record(path)
        except ImpastoError:
            return False
    return bool(_SHEET_NAME.fullmatch(path.name)) and is_summary(path)


def is_own_output(path: Path, folder: Path) -> bool:
    """Whether `path` is a file a batch wrote into `folder` (the batch's output folder), so
    that a batch whose photos or styles are in that folder never takes it as one."""
    try:
        inside = folder.is_dir() and os.path.samefile(path.parent, folder)
    except OSError:
        return False
    return inside and is_own(path)


def check_batch(
    jobs: Sequence[Job], folder: Path, settings: Settings, overwrite: bool, pairs: str | None = None
) -> None:
    """Before the first job: no output replaces an input (photo, style, mask, weights, the
    pairs CSV), none replaces a user's file unless `overwrite`, and each can be written. A
    result already there is judged by the batch itself (kept, redone, or a conflict)."""
    planned = [Planned(job.output, "output", "a result", kept=True, rename=RENAME) for job in jobs]
    for path in summary_paths(folder, len(jobs)):
        what = "the job list" if path.suffix == ".csv" else "the contact sheet"
        mine = os.path.lexists(path) and is_summary(path)
        planned.append(Planned(path, "output", what, kept=mine, rename=RENAME))
    inputs = {f"photo {job.content}": job.content for job in jobs}
    inputs.update({f"style image {job.style}": job.style for job in jobs})
    inputs.update(settings_reads(settings))
    if pairs:
        inputs[f"the pairs file {pairs}"] = Path(pairs)
    check_outputs(planned, inputs, overwrite)
