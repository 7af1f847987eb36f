"""The check before a run, of every file it will write and every file it reads, made before
any weights are loaded or any work starts, so that a run either can finish or stops at once
with one line naming the file, the option and the fix.

Outputs (the result and its record, frames folder, animation, comparison, loss log and plot,
checkpoint) must have usable names and formats, be distinct, replace no input, replace no
existing file without overwriting being asked for, and be writable: a temporary file is
made and removed beside each. Inputs (content, styles, masks) are read once, here; the run,
its comparison figure and its provenance use these very bytes.

`planned_outputs` and `read_inputs` are the single-image run's; `check_outputs` is every
app's (the single-image command, `impasto batch`, `impasto video`): each lists what it will
write as `Planned` files and what it reads, and no app keeps checks of its own.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from impasto.atomic import check_name, check_writable
from impasto.engine.checks import check_run
from impasto.engine.targets import load_masks
from impasto.errors import ImpastoError
from impasto.features.devices import select_device
from impasto.features.weights import names_a_file
from impasto.files import read_input
from impasto.image.io import DEEP_FORMATS, SUPPORTED_SUFFIXES, LoadedImage, check_output_path, read_image
from impasto.optim.loop import Resume
from impasto.record.checkpoint import checkpoint_path
from impasto.record.frames import check_animation_path, frames_folder
from impasto.record.options import OutputOptions
from impasto.record.provenance import record_files
from impasto.settings import Settings


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


@dataclass(frozen=True)
class Inputs:
    """The run's images, read once before it starts."""

    content: LoadedImage
    styles: list[LoadedImage]

    def checksums(self) -> dict[str, str]:
        """Path -> SHA-256 of the bytes read, for the provenance record."""
        return {str(i.path): i.sha256 for i in (self.content, *self.styles)}


def planned_outputs(output: Path, options: OutputOptions) -> list[Planned]:
    """Every file and folder a run with these options writes, each with its format checked."""
    try:
        check_output_path(output)
    except ImpastoError as error:
        raise ImpastoError(f"output {error}", "output") from None
    if options.bit_depth == 16 and SUPPORTED_SUFFIXES[output.suffix.lower()] not in DEEP_FORMATS:
        raise ImpastoError(f"bit_depth 16 needs a .png or .tif output, not {output.name}", "bit_depth")
    images = record_files(output)
    planned = [Planned(images[0], "output", "the result")]
    planned += [Planned(p, "output", "the record beside the result") for p in images[1:]]
    if options.save_every:
        planned.append(Planned(frames_folder(output), "save_every", "the frames folder", folder=True))
    if options.animate:
        planned.append(Planned(check_animation_path(options.animate), "animate", "the animation"))
    if options.comparison:
        try:
            planned.append(Planned(check_output_path(options.comparison), "comparison", "the comparison figure"))
        except ImpastoError as error:
            raise ImpastoError(f"comparison {error}", "comparison") from None
    if options.loss_log:
        planned.append(Planned(Path(options.loss_log), "loss_log", "the loss log"))
    if options.loss_plot:
        if Path(options.loss_plot).suffix.lower() != ".png":
            raise ImpastoError(f"loss_plot {options.loss_plot}: the plot is a PNG; name it .png", "loss_plot")
        planned.append(Planned(Path(options.loss_plot), "loss_plot", "the loss plot"))
    if options.checkpoint_every:
        planned.append(Planned(checkpoint_path(output), "checkpoint_every", "the checkpoint"))
    return planned


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


def read_inputs(
    settings: Settings, content: str | os.PathLike[str], styles: Sequence[str | os.PathLike[str]], resume: Resume | None
) -> Inputs:
    """Reads the content, styles and masks once and checks them against the run's network,
    memory and (when resuming) its saved state, before any weights are loaded."""
    if not styles:
        raise ImpastoError("give at least one style image")
    inputs = Inputs(
        read_image(content, "content image"),
        [
            read_image(s, f"style image {i + 1} of {len(styles)}" if len(styles) > 1 else "style image")
            for i, s in enumerate(styles)
        ],
    )
    resolved = settings.resolved()
    load_masks(resolved)
    check_run(
        resolved,
        inputs.content.image,
        [s.image for s in inputs.styles],
        select_device(settings.device),
        resume=resume,
        names=[f"content image {content}", *(f"style image {s}" for s in styles)],
    )
    return inputs


def input_paths(settings: Settings, content: str, styles: Sequence[str], extra: Mapping[str, Path]) -> dict[str, Path]:
    """Every file a run reads, by description, for `check_outputs`."""
    paths = {"the content image": Path(content), **{f"style image {s}": Path(s) for s in styles}}
    return {**paths, **settings_reads(settings), **extra}


def settings_reads(settings: Settings) -> dict[str, Path]:
    """The files the settings name (masks, weights), by description: inputs of every app's run."""
    paths = {}
    for name in ("content_mask", "style_mask"):
        paths.update({f"the {name} {m}": Path(m) for m in getattr(settings, name) or ()})
    if names_a_file(settings.weights):
        paths["the weights file"] = Path(str(settings.weights)).expanduser()
    return paths


def mask_checksums(settings: Settings) -> dict[str, str]:
    """The SHA-256 of each mask the settings name, by `content_mask N` / `style_mask N`: what
    a kept result of these settings was made from, beside its photo and style."""
    sums = {}
    for name in ("content_mask", "style_mask"):
        for i, mask in enumerate(getattr(settings, name) or ()):
            sums[f"{name} {i + 1}"] = hashlib.sha256(read_input(mask, "image", name)).hexdigest()
    return sums


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
