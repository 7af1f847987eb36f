"""The batch's job list: every photo with every style, or the pairs of a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from impasto.apps.batch.names import output_names
from impasto.errors import ImpastoError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")
"""Files of a folder taken as images; others (notes, hidden files) are left alone."""


@dataclass(frozen=True)
class Job:
    """One stylisation of the batch: a photo, a style and the file the result goes to."""

    content: Path
    style: Path
    output: Path


def images_in(
    path: str | os.PathLike[str], role: str, leave_out: Callable[[Path], bool] = lambda p: False
) -> list[Path]:
    """The images of a folder (not its subfolders) by name, but those `leave_out` picks (the
    batch's own results), or the one file given."""
    source = Path(path)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise ImpastoError(f"{role} folder {source} does not exist: check the path")
    found = sorted(
        p
        for p in source.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and not p.is_dir() and not leave_out(p)
    )
    if not found:
        raise ImpastoError(f"{role} folder {source} holds no images: add {', '.join(IMAGE_SUFFIXES)} files")
    return found


def cross_product(
    contents: str | os.PathLike[str],
    styles: str | os.PathLike[str],
    leave_out: Callable[[Path], bool] = lambda p: False,
) -> list[tuple[Path, Path]]:
    """Every photo of `contents` with every style of `styles`, photo by photo (none that `leave_out` picks)."""
    content_paths, style_paths = images_in(contents, "content", leave_out), images_in(styles, "style", leave_out)
    return [(c, s) for c in content_paths for s in style_paths]


def read_pairs(path: str | os.PathLike[str]) -> list[tuple[Path, Path]]:
    """The (content, style) rows of a CSV with `content` and `style` columns; relative paths are
    taken from the CSV's folder, and a pair listed twice runs once."""
    source = Path(path)
    try:
        with open(source, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = [c.strip().lower() for c in reader.fieldnames or ()]
            if not {"content", "style"} <= set(columns):
                raise ImpastoError(
                    f"--pairs {source}: needs a header row with columns content,style (found: {','.join(columns) or 'none'})"
                )
            rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except OSError as error:
        raise ImpastoError(f"--pairs {source}: cannot read it ({error.strerror}): check the path") from error
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImpastoError(f"--pairs {source}: not a UTF-8 CSV file ({error}): save it as CSV in UTF-8") from error
    pairs = [
        (source.parent / row["content"], source.parent / row["style"]) for row in rows if row["content"] or row["style"]
    ]
    incomplete = [i for i, (c, s) in enumerate(pairs) if c == source.parent or s == source.parent]
    if incomplete:
        raise ImpastoError(
            f"--pairs {source}: pair {incomplete[0] + 1} lacks a content or a style path: give both on each row"
        )
    if not pairs:
        raise ImpastoError(f"--pairs {source}: lists no pairs; add rows content,style under the header")
    return list(dict.fromkeys(pairs))


def plan_jobs(pairs: list[tuple[Path, Path]], out: Path) -> list[Job]:
    """The jobs of the pairs, each with its unique output file in `out`."""
    return [Job(c, s, out / name) for (c, s), name in zip(pairs, output_names(pairs))]
