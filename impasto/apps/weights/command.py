"""`impasto weights`: which networks can run here (built in, cached, or not present), fetching
official weights ahead of time, checking a weights file, and the cache folder, so that
weights fetched on a connected machine can be copied to an offline one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from impasto.apps.cli import OneLineParser, guarded
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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="impasto weights",
        description="List the networks and where their weights are, fetch official weights ahead of time, "
        "check a weights file, or print the cache folder. Without a command: list.",
    )
    parser.set_defaults(action="list", debug=False)
    common = OneLineParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    actions = parser.add_subparsers(dest="action", title="commands", metavar="{list,fetch,verify,path}")
    actions.add_parser(
        "list", parents=[common], help="each network's weights: built in, cached at PATH, or not present"
    )
    fetch = actions.add_parser(
        "fetch", parents=[common], help="download official weights into the cache now, checksum-verified"
    )
    fetch.add_argument("models", nargs="+", choices=MODELS, metavar="MODEL", help=f"one of {', '.join(MODELS)}")
    verify = actions.add_parser(
        "verify", parents=[common], help="check that a weights file loads and has the network's tensors"
    )
    verify.add_argument("file", metavar="FILE", help="a weights file (a PyTorch state dict)")
    verify.add_argument("--model", choices=MODELS, help="the network it is for (default: whichever it fits)")
    actions.add_parser("path", parents=[common], help="print the cache folder the official weights go to")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: run(args), args.debug)


def run(args: argparse.Namespace) -> int:
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
