"""The check before a run, of every file it will write and every file it reads, made before
any weights are loaded or any work starts, so that a run either can finish or stops at once
with one line naming the file, the option and the fix.

Outputs (the result and its record, frames folder, animation, comparison, loss log and plot,
checkpoint) must have usable names and formats, be distinct, replace no input, replace no
existing file without overwriting being asked for, and be writable: a temporary file is
made and removed beside each. Inputs (content, styles, masks) are read once, here; the run,
its comparison figure and its provenance use these very bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from impasto.atomic import check_name, check_writable
from impasto.engine.checks import check_run
from impasto.engine.targets import load_masks
from impasto.errors import ImpastoError
from impasto.features.devices import select_device
from impasto.image.io import DEEP_FORMATS, SUPPORTED_SUFFIXES, LoadedImage, check_output_path, read_image
from impasto.optim.loop import Resume
from impasto.record.checkpoint import checkpoint_path
from impasto.record.frames import check_animation_path, frames_folder
from impasto.record.options import OutputOptions
from impasto.record.provenance import record_files
from impasto.settings import Settings


@dataclass(frozen=True)
class Planned:
    """One output: its path, the option that asks for it, and what it is (for messages)."""

    path: Path
    setting: str
    what: str
    folder: bool = False


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
    path), that would replace a file without `overwrite`, or that cannot be written. The
    checkpoint may replace the one the run resumes from (`resumed`)."""
    for index, item in enumerate(planned):
        for other in planned[:index]:
            if _same(item.path, other.path) or (other.folder and _inside(item.path, other.path)):
                raise ImpastoError(
                    f"{item.setting} {item.path} is also {other.what}: give each output its own name",
                    item.setting,
                )
        for what, path in inputs.items():
            own = item.setting == "checkpoint_every" and resumed is not None and _same(path, resumed)
            if _same(item.path, path) and not own:
                raise ImpastoError(
                    f"{item.setting} {item.path} is {what}: writing {item.what} there would destroy an input; choose another name",
                    item.setting,
                )
    for item in planned:
        _check_target(item, overwrite)


def _check_target(item: Planned, overwrite: bool) -> None:
    path = item.path
    exists = os.path.lexists(path)
    if exists and not overwrite:
        raise ImpastoError(
            f"{item.setting} {path} already exists ({item.what}): choose another name or pass --overwrite", item.setting
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
                f"{item.setting} {path} is a folder, not a file: choose a file name for {item.what}", item.setting
            )
        probe = path
    try:
        check_name(path)
        check_writable(probe, probe.suffix)
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
    for name in ("content_mask", "style_mask"):
        paths.update({f"the {name} {m}": Path(m) for m in getattr(settings, name) or ()})
    if settings.weights not in (None, "random"):
        paths["the weights file"] = Path(settings.weights).expanduser()
    return {**paths, **extra}


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path, or (both existing) one inode."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)
