"""The check before a run of every file and folder it will write: each app lists them as
`Planned` outputs (with the option that asks for each) and `check_outputs` refuses, in one
line naming the option and the fix, outputs that clash with each other or with an input,
replace a file without overwriting being asked for, or cannot be written (a temporary file
is made and removed beside each). Every front end uses it; none keeps checks of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from impasto.atomic import check_name, check_writable
from impasto.errors import ImpastoError


@dataclass(frozen=True)
class Planned:
    """One output: its path, the option that asks for it, and what it is (for messages).

    `kept`: one already there is the app's own earlier work, which it resumes or judges
    itself (a video's frames, a batch's results), so it needs no overwriting asked for;
    `rename`: the fix when the name is not the user's to choose (a batch's files).
    """

    path: Path
    setting: str
    what: str
    folder: bool = False
    kept: bool = False
    rename: str | None = None


def check_outputs(
    planned: Sequence[Planned], inputs: Mapping[str, Path], overwrite: bool, resumed: Path | None = None
) -> None:
    """Refuses outputs that clash with each other or with an input (`inputs`: description ->
    path), or lie inside an output folder, that would replace a file without `overwrite`, or
    that cannot be written. The checkpoint may replace the one the run resumes from (`resumed`).
    Paths are the same when they resolve alike or are one file (a link, another spelling)."""
    seen: dict[object, Planned] = {}
    for item in planned:
        for key in _identity(item.path):
            other = seen.setdefault(key, item)
            if other is not item:
                raise ImpastoError(
                    f"{item.setting} {item.path} is also {other.what}: give each output its own name", item.setting
                )
    folders = [item for item in planned if item.folder]
    for item in planned:
        inside = next((f for f in folders if _inside(item.path, f.path)), None)
        if inside is not None:
            raise ImpastoError(
                f"{item.setting} {item.path} is also {inside.what}: give each output its own name", item.setting
            )
    for what, path in inputs.items():
        clash = next((seen[key] for key in _identity(path) if key in seen), None)
        if clash is not None and not (clash.setting == "checkpoint_every" and resumed and _same(path, resumed)):
            raise ImpastoError(
                f"{clash.setting} {clash.path} is {what}: writing {clash.what} there would destroy an input; "
                f"{clash.rename or 'choose another name'}",
                clash.setting,
            )
        folder = next((f for f in folders if _inside(path, f.path)), None)
        if folder is not None:
            raise ImpastoError(
                f"{folder.setting} {folder.path} is {folder.what}, which holds {what}: "
                "keep the input out of it or choose another name",
                folder.setting,
            )
    probed: set[tuple[Path, str]] = set()
    for item in planned:
        _check_target(item, overwrite, probed)


def _check_target(item: Planned, overwrite: bool, probed: set[tuple[Path, str]]) -> None:
    path = item.path
    exists = os.path.lexists(path)
    if exists and not overwrite and not item.kept:
        raise ImpastoError(
            f"{item.setting} {path} already exists ({item.what}): "
            f"{item.rename or 'choose another name'} or pass --overwrite",
            item.setting,
        )
    if item.folder:
        if exists and not path.is_dir():
            raise ImpastoError(
                f"{item.setting} {path} is a file, but {item.what} goes there: rename or remove it", item.setting
            )
        probe = path / "0000.png" if exists else path.parent / "0000.png"  # frames go in; the folder is made beside
    else:
        if exists and path.is_dir():
            raise ImpastoError(
                f"{item.setting} {path} is a folder, not a file: {item.rename or f'choose a file name for {item.what}'}",
                item.setting,
            )
        probe = path
    try:
        check_name(path)
        if (probe.parent, probe.suffix) not in probed:  # one temporary file per folder and type
            check_writable(probe, probe.suffix)
            probed.add((probe.parent, probe.suffix))
    except ImpastoError as error:
        raise ImpastoError(f"{item.setting}: {error}", item.setting) from None


def _identity(path: Path) -> set[object]:
    """What names a file: its resolved path and, if it exists, its device and inode (so that a
    hard link, or another spelling on a case-insensitive disk, is the same file)."""
    keys: set[object] = {os.path.normcase(os.path.realpath(path))}
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return keys
    keys.add((info.st_dev, info.st_ino))
    return keys


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file."""
    return bool(_identity(a) & _identity(b))


def _inside(path: Path, folder: Path) -> bool:
    return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)
