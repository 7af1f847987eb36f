"""Where official weights live on this machine, and the one message for when they are
neither there nor downloadable: what file, where it goes, and what runs now instead."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from impasto.errors import ImpastoError
from impasto.features.registry import BUILTIN_MODELS, spec


def cache_dir() -> Path:
    """The weights cache: `$IMPASTO_CACHE` if set, else torch.hub's checkpoints folder."""
    override = os.environ.get("IMPASTO_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(torch.hub.get_dir()) / "checkpoints"


def official_file(model: str) -> Path:
    """Where `model`'s official weights file is downloaded to (or copied by hand)."""
    return cache_dir() / spec(model).filename


def compact_file(model: str) -> Path:
    """impasto's features-only copy of the official file, made on its first load (fast to read)."""
    return cache_dir() / f"impasto-{model}-features-{spec(model).sha256[:8]}.pt"


def cached_official(model: str) -> Path | None:
    """The official file, or else its features-only copy, when either is in the cache."""
    return next((path for path in (official_file(model), compact_file(model)) if path.is_file()), None)


def unavailable(model: str, reason: str) -> ImpastoError:
    """The one-line error for official weights that are not cached and cannot be downloaded."""
    source = spec(model)
    if source.builtin is not None:
        now = "or run now with its built-in weights: leave out --weights official"
    else:
        now = f"or run now with the built-in network: --model {BUILTIN_MODELS[0]}"
    return ImpastoError(
        f"{source.display} weights are not cached and cannot be downloaded ({reason}): put the file at "
        f"{official_file(model)} (download {source.url}, or run `impasto weights fetch {model}` on a connected "
        f"machine and copy it), {now}"
    )
