"""`impasto weights`'s work (its options are `impasto.apps.commands.weights`'s): which
networks can run here (built in, cached, or not present), fetching official weights ahead of
time, checking a weights file, and the cache folder, so that weights fetched on a connected
machine can be copied to an offline one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from impasto.errors import ImpastoError
from impasto.features.cache import cache_dir, cached_official, official_file
from impasto.features.download import DownloadFailed, Progress, download, matches
from impasto.features.networks import infer_width, load_state
from impasto.features.registry import MODELS, spec
from impasto.features.weights import (
    check_weights_file,
    feature_tensors,
    features_for,
    guess_preprocessing,
    known_file,
    load_file,
    missing_features,
    sha256_file,
)
from impasto.settings import Settings


def run(args: argparse.Namespace) -> int:
    """Does the action named (list when none is)."""
    if args.action == "path":
        print(cache_dir())
    elif args.action == "fetch":
        from impasto.record.progress import DownloadBar

        for model in dict.fromkeys(args.models):
            print(fetch(model, DownloadBar()))
    elif args.action == "verify":
        print(verify(Path(args.file).expanduser(), args.model))
    else:
        for model in MODELS:
            print(f"{model:<15}{describe(model)}")
        print(f"cache folder: {cache_dir()} (IMPASTO_CACHE sets another)")
    return 0


def describe(model: str) -> str:
    """Where a network's weights are: built in, cached at PATH, or not present (and how to get them)."""
    source = spec(model)
    cached = cached_official(model)
    if cached is not None:
        official = f"cached at {cached}"
    else:
        official = (
            f"not present; `impasto weights fetch {model}` downloads it ({source.download_mb} MB) "
            f"to {official_file(model)}"
        )
    name = f"{source.display}{', the default' if model == Settings.model else ''}"
    if source.builtin is not None:
        return f"{name}: built in (runs offline); torchvision's download (--weights official): {official}"
    return f"{name}: {official}"


def fetch(model: str, progress: Progress) -> str:
    """Downloads `model`'s official weights into the cache unless they are there; says where they are."""
    source = spec(model)
    label = f"{source.display} weights"
    elsewhere = "to run offline elsewhere, copy it into the folder `impasto weights path` prints there"
    cached = cached_official(model)
    if cached == official_file(model):
        digest = sha256_file(cached)
        if not matches(digest, source.sha256):
            raise ImpastoError(
                f"{cached} is not the official {label} file (sha256 {digest}, expected {source.sha256}): "
                "delete it and fetch again"
            )
    if cached is not None:
        return f"{label}: already cached at {cached} (verified); {elsewhere}"
    dest = official_file(model)
    print(f"impasto: fetching {label} ({source.download_mb} MB) from {source.url}", file=sys.stderr, flush=True)
    try:
        download(source.url, dest, source.sha256, progress=progress)
    except DownloadFailed as failed:
        raise ImpastoError(
            f"cannot download {label} from {source.url} ({failed.reason}): check the connection, "
            f"or download that file on another machine and put it at {dest}"
        ) from failed
    return f"{label}: fetched to {dest} (sha256 verified); {elsewhere}"


def verify(path: Path, model: str | None) -> str:
    """Loads a weights file as `model`'s (or as the network whose keys it has) and says what it is."""
    try:
        check_weights_file(path)
        loaded = load_file(path)
    except ImpastoError as error:  # said of the FILE argument, not of a --weights option
        raise ImpastoError(str(error)) from None
    where = f"weights file {path}"
    if model is None:
        tensors = feature_tensors(loaded, where)
        model = next((name for name in MODELS if not missing_features(tensors, name)), None)
        if model is None:
            raise ImpastoError(
                f"{where} has the feature weights of none of the networks ({', '.join(MODELS)}): "
                "pass --model to see what it lacks"
            )
    features = features_for(loaded, model, where)
    load_state(spec(model).build(width=infer_width(features)), features, where)
    digest = sha256_file(path)
    known = known_file(digest)
    what = known[0] if known else f"not a file impasto knows (preprocessing: {_guessed(digest, path)})"
    return (
        f"{path}: {spec(model).display} weights, {len(features)} feature tensors of the right shapes, "
        f"all finite\nsha256 {digest}: {what}"
    )


def _guessed(digest: str, path: Path) -> str:
    preprocessing = guess_preprocessing("auto", digest, path)
    return f"{preprocessing}, from its name; --weights-format sets it"
