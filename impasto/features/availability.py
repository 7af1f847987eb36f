"""Whether a network can run here now, known before any work starts: its weights are built
in, a file, cached, or downloadable (one quick request); else the one-line error that says
what file to put where, and which network runs now instead."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from impasto.features.cache import cached_official, official_file, unavailable
from impasto.features.download import probe
from impasto.features.registry import spec
from impasto.features.weights import OFFICIAL, RANDOM, names_a_file

BUILT_IN, GIVEN, CACHED, DOWNLOADABLE, MISSING = "built in", "file", "cached", "downloadable", "missing"


@dataclass(frozen=True)
class Availability:
    """Where a network's weights come from on this machine, and whether it can run now."""

    model: str
    state: str  # BUILT_IN, GIVEN (a file or "random"), CACHED, DOWNLOADABLE or MISSING
    path: Path | None = None  # the cached file, or where the official file goes
    reason: str = ""  # why a MISSING file cannot be downloaded

    @property
    def runs(self) -> bool:
        return self.state != MISSING

    def label(self) -> str:
        """The network as a menu shows it: "SqueezeNet 1.1 (built in)", "VGG-19 (downloads 548 MB)"."""
        source = spec(self.model)
        note = {
            BUILT_IN: "built in",
            GIVEN: "the server's weights file",
            CACHED: "cached",
            DOWNLOADABLE: f"downloads {source.download_mb} MB",
            MISSING: f"offline: needs a {source.download_mb} MB download",
        }[self.state]
        return f"{source.display} ({note})"


def needs_official(model: str, weights: str | os.PathLike[str] | None) -> bool:
    """Whether these weights are the official download (named, or the default of a network with none built in)."""
    return str(weights) == OFFICIAL or (weights is None and spec(model).builtin is None)


def availability(model: str, weights: str | os.PathLike[str] | None = None) -> Availability:
    """Where `model`'s weights come from; an official file not yet cached is asked for with one
    quick request."""
    if str(weights) == RANDOM:
        return Availability(model, GIVEN)
    if weights is not None and names_a_file(weights):
        return Availability(model, GIVEN, Path(weights))
    if not needs_official(model, weights):
        return Availability(model, BUILT_IN)
    cached = cached_official(model)
    if cached is not None:
        return Availability(model, CACHED, cached)
    reason = probe(spec(model).url)
    return Availability(model, DOWNLOADABLE if reason is None else MISSING, official_file(model), reason or "")


def check_available(model: str, weights: str | os.PathLike[str] | None) -> None:
    """Before any work: official weights that are neither cached nor downloadable stop the run
    with one line naming the file, where it goes, and the built-in network that runs now."""
    found = availability(model, weights)
    if not found.runs:
        raise unavailable(model, found.reason)
