"""The batch's summary: `jobs.csv` (every job, its status, seconds and final losses) and a
contact sheet `index.jpg` (photo, style and result, one job per row), each marked as the
batch's own (the CSV by its header, the sheet by a JPEG comment) so that a rerun rewrites
them, never takes the sheet for a photo, and never replaces a user's file of the same name."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageOps

from impasto.apps.batch.results import Outcome
from impasto.atomic import write_bytes_atomic, write_text_atomic
from impasto.errors import ImpastoError
from impasto.image.convert import srgb_profile
from impasto.image.io import load_image
from impasto.record.figures import comparison_figure

ROW_HEIGHT = 128
CELL = (ROW_HEIGHT * 3 // 2, ROW_HEIGHT)
"""Each image of the contact sheet is fitted into a cell of this size, so columns line up."""
ROWS_PER_SHEET = 100
"""Rows per contact sheet: index.jpg, then index-2.jpg, ... (JPEG images stop at 65535 px)."""
_MISSING = (224, 224, 224)
_FAILED = (240, 196, 196)
SHEET_MARK = b"impasto batch contact sheet"
"""The JPEG comment that tells a batch's contact sheet from a user's picture."""
CSV_COLUMNS = ["content", "style", "output", "status", "seconds"]
"""The first columns of jobs.csv, which tell it from a user's CSV."""


def summary_paths(folder: Path, jobs: int) -> list[Path]:
    """The summary files of a batch of `jobs` jobs: jobs.csv, index.jpg, index-2.jpg, ..."""
    sheet = folder / "index.jpg"
    pages = max(1, math.ceil(jobs / ROWS_PER_SHEET))
    return [folder / "jobs.csv", sheet, *(sheet.with_name(f"index-{page}.jpg") for page in range(2, pages + 1))]


def is_summary(path: Path) -> bool:
    """Whether `path` is a summary file a batch wrote (by its mark, not its name alone)."""
    try:
        if path.suffix.lower() == ".csv":
            with open(path, newline="", encoding="utf-8") as file:
                return next(csv.reader(file), [])[: len(CSV_COLUMNS)] == CSV_COLUMNS
        with Image.open(path) as image:
            return image.format == "JPEG" and image.info.get("comment") == SHEET_MARK
    except (OSError, ValueError, csv.Error, Image.DecompressionBombError):
        return False


def loss_terms(outcomes: Sequence[Outcome]) -> list[str]:
    """Every loss term of the jobs, in the order they appear, with the total last."""
    terms = dict.fromkeys(k for outcome in outcomes for k in outcome.losses if k != "total")
    return [*terms, "total"]


def write_jobs_csv(outcomes: Sequence[Outcome], path: Path) -> Path:
    """One row per job: content, style, output, status, seconds, each final loss, and the error."""
    terms = loss_terms(outcomes)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"{t}_loss" for t in terms), "error"])
    for o in outcomes:
        seconds = "" if o.seconds is None else f"{o.seconds:.2f}"
        losses = [_number(o.losses.get(t)) for t in terms]
        writer.writerow([o.job.content, o.job.style, o.job.output.name, o.status, seconds, *losses, o.error])
    return write_text_atomic(path, buffer.getvalue())


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def write_contact_sheets(outcomes: Sequence[Outcome], folder: Path) -> list[Path]:
    """The contact sheet(s) in `folder`: index.jpg, then index-2.jpg, ... for every ROWS_PER_SHEET
    jobs, marked as the batch's."""
    thumbnails: dict[Path, Image.Image] = {}
    written = []
    targets = summary_paths(folder, len(outcomes))[1:]
    for target, start in zip(targets, range(0, len(outcomes), ROWS_PER_SHEET)):
        rows = [_row(o, thumbnails) for o in outcomes[start : start + ROWS_PER_SHEET]]
        sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
        top = 0
        for row in rows:
            sheet.paste(row, (0, top))
            top += row.height
        encoded = io.BytesIO()
        sheet.save(encoded, "JPEG", quality=95, icc_profile=srgb_profile(), comment=SHEET_MARK)
        written.append(write_bytes_atomic(target, encoded.getvalue()))
    return written


def _row(outcome: Outcome, thumbnails: dict[Path, Image.Image]) -> Image.Image:
    """One job as photo, style and result side by side, each captioned; a grey cell where an
    image is missing, a red one for a failed job (its error is in jobs.csv)."""
    job = outcome.job
    if outcome.status in ("done", "skipped"):
        result, caption = _cell(job.output, {}), job.output.name
    else:
        failed = outcome.status == "failed"
        result = Image.new("RGB", CELL, _FAILED if failed else _MISSING)
        caption = "failed (see jobs.csv)" if failed else outcome.status
    panels = [
        (_cell(job.content, thumbnails), f"photo\n{job.content.name}"),
        (_cell(job.style, thumbnails), f"style\n{job.style.name}"),
        (result, f"result\n{caption}"),
    ]
    return comparison_figure(panels, ROW_HEIGHT)


def _cell(path: Path, cache: dict[Path, Image.Image]) -> Image.Image:
    """The image fitted into a CELL on white, read once; grey if it cannot be read."""
    if path not in cache:
        cell = Image.new("RGB", CELL, "white")
        try:
            image = ImageOps.contain(load_image(path), CELL, Image.Resampling.LANCZOS)
            cell.paste(image, ((CELL[0] - image.width) // 2, (CELL[1] - image.height) // 2))
        except ImpastoError:
            cell.paste(_MISSING, (0, 0, *CELL))
        cache[path] = cell
    return cache[path]
