"""The files a run reads, for the check stage of every front end: `input_paths` and
`settings_reads` name them (no output of any app may replace one, see
`impasto.planned.check_outputs`), and `mask_checksums` records what masks a result was made from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from impasto.features.weights import names_a_file
from impasto.files import read_input
from impasto.settings import Settings


def input_paths(settings: Settings, content: str, styles: Sequence[str], extra: Mapping[str, Path]) -> dict[str, Path]:
    """Every file a run reads, by description, for `check_outputs`."""
    paths = {f"style image {s}": Path(s) for s in styles}
    if content:  # an image given in memory has no path
        paths["the content image"] = Path(content)
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
