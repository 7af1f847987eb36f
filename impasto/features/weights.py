"""Find, download, verify, cache and load the feature-network weights."""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import torch
from tqdm import tqdm

from impasto.errors import ImpastoError

CONNECT_TIMEOUT_S = 10.0
_CHUNK = 1 << 20
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


@dataclass(frozen=True)
class WeightSource:
    """Where a model's official weights live; `sha256` is the full digest or a prefix of it."""

    model: str
    url: str
    filename: str
    sha256: str


# Full SHA-256 digests of torchvision's files, as published by several independent public
# checksum lists (VGG-19: 574,673,361 bytes; SqueezeNet 1.1: 4,958,839 bytes). Their first
# 8 hex digits are the ones in the file names, which is all that torch.hub itself checks.
OFFICIAL: dict[str, WeightSource] = {
    "vgg19": WeightSource(
        "vgg19",
        "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
        "vgg19-dcbb9e9d.pth",
        "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44",
    ),
    "squeezenet1_1": WeightSource(
        "squeezenet1_1",
        "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
        "squeezenet1_1-b8a52dc0.pth",
        "b8a52dc049b60e4b6ab68ad0df457362afab8b6304b2febdc1650a5dab4d7e7b",
    ),
}

_DISPLAY = {"vgg19": "VGG-19", "squeezenet1_1": "SqueezeNet 1.1"}

# Known Caffe-preprocessed files: the SqueezeNet 1.1 conversion in shared/models (full digest)
# and neural-style-pt's converted VGG-19 `vgg19-d01eb7cb.pth` (only the file-name prefix of
# its SHA-256 is known, verified the way torch.hub does).
_CAFFE_SHA256 = (
    "87a624dfb1814635323c48dd83bf947578a718da64e8bc12c4601b959b34e54c",
    "d01eb7cb",
)

FORMATS = ("torchvision", "caffe")

_WB = ("weight", "bias")
# The features.* parameters each model needs, in torchvision's key layout and order.
_FEATURE_KEYS: dict[str, tuple[str, ...]] = {
    "vgg19": tuple(
        f"features.{i}.{p}"
        for i in (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
        for p in _WB
    ),
    "squeezenet1_1": (
        *(f"features.0.{p}" for p in _WB),
        *(
            f"features.{i}.{part}.{p}"
            for i in (3, 4, 6, 7, 9, 10, 11, 12)
            for part in ("squeeze", "expand1x1", "expand3x3")
            for p in _WB
        ),
    ),
}


@dataclass(frozen=True)
class LoadedWeights:
    """Feature weights ready for the network, with how to preprocess images and their provenance."""

    state_dict: dict[str, torch.Tensor]
    preprocessing: str
    sha256: str
    source: str


def cache_dir() -> Path:
    """The weights cache: `$IMPASTO_CACHE` if set, else torch.hub's checkpoints folder."""
    override = os.environ.get("IMPASTO_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(torch.hub.get_dir()) / "checkpoints"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _matches(digest: str, expected: str) -> bool:
    return digest.startswith(expected.lower())


def _one_line(error: BaseException) -> str:
    """A short single-line reason for an error (URLError's wrapped reason, not its repr)."""
    plain_url_error = type(error) is urllib.error.URLError  # HTTPError's str is already good
    text = " ".join(str(error.reason if plain_url_error else error).split())
    return text or type(error).__name__


def _cache_write_error(folder: Path, error: OSError) -> ImpastoError:
    return ImpastoError(
        f"cannot write to the weights cache {folder} ({_one_line(error)}): "
        "set IMPASTO_CACHE to a writable folder"
    )


def _fetch(url: str, out: BinaryIO, name: str) -> str:
    """Stream `url` into `out` with a progress bar on stderr; return the data's SHA-256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                  file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def download(url: str, dest: Path, expected_sha256: str, *, label: str = "weights") -> Path:
    """Download `url` to `dest` via a temp file, keeping it only if its SHA-256 matches."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as error:
        raise _cache_write_error(dest.parent, error) from error
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out, dest.name)
        if not _matches(actual, expected_sha256):
            raise ImpastoError(
                f"download of {url} is corrupt (sha256 {actual}, expected {expected_sha256}) "
                "and was deleted: run again to retry, or pass --weights FILE"
            )
        os.replace(tmp_name, dest)
    except _NETWORK_ERRORS as error:
        raise ImpastoError(
            f"cannot download {label} from {url} ({_one_line(error)}): download that file "
            f"yourself and put it at {dest}, or pass --weights FILE"
        ) from error
    except OSError as error:
        raise _cache_write_error(dest.parent, error) from error
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return dest


def _features(obj: object, model: str, where: str) -> dict[str, torch.Tensor]:
    """The features.* tensors of a loaded state dict (unwrapped from "state_dict"/"model")."""
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model"):
            if isinstance(obj.get(wrapper), dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict):
        raise ImpastoError(
            f"{where} holds a {type(obj).__name__}, not a state dict: "
            "pass a file saved with torch.save(model.state_dict(), FILE)"
        )
    features = {
        k: v for k, v in obj.items()
        if isinstance(k, str) and k.startswith("features.") and isinstance(v, torch.Tensor)
    }
    missing = [key for key in _FEATURE_KEYS[model] if key not in features]
    if missing:
        raise ImpastoError(
            f"{where} lacks {len(missing)} {_DISPLAY[model]} feature weights (e.g. {missing[0]}): "
            f"pass {model} weights with torchvision key names, or choose the matching model"
        )
    return features


def _read(path: Path, model: str) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for corrupt or unsafe files
        why = (
            "it pickles Python objects, not just tensors"
            if "Weights only load failed" in str(error)
            else "it is corrupt, truncated or not a PyTorch file"
        )
        raise ImpastoError(
            f"cannot read weights file {path}: {why}; "
            "pass a state dict saved with torch.save(model.state_dict(), FILE)"
        ) from error
    return _features(obj, model, f"weights file {path}")


def _preprocessing(weights_format: str, digest: str, path: Path) -> str:
    if weights_format != "auto":
        return weights_format
    if any(_matches(digest, h) for h in _CAFFE_SHA256):
        return "caffe"
    if any(_matches(digest, s.sha256) for s in OFFICIAL.values()):
        return "torchvision"
    return "caffe" if "caffe" in path.name.lower() else "torchvision"


def _save_compact(path: Path, features: dict[str, torch.Tensor], digest: str) -> None:
    """Atomically write the features-only cache file."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        try:
            torch.save({"state_dict": features, "sha256": digest}, tmp_name)
            os.replace(tmp_name, path)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    except OSError as error:
        raise _cache_write_error(path.parent, error) from error


def _load_compact(path: Path, model: str) -> LoadedWeights | None:
    """The compact cache if it is present and sound; a damaged one is deleted."""
    if not path.is_file():
        return None
    source = OFFICIAL[model]
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        features = _features(saved, model, str(path))
        digest = saved["sha256"]
        if not _matches(digest, source.sha256):
            raise ValueError("cache built from another file")
    except Exception:  # unreadable, incomplete or stale: rebuild it
        path.unlink(missing_ok=True)
        return None
    return LoadedWeights(features, "torchvision", digest, source.url)


def _load_official(model: str) -> LoadedWeights:
    source = OFFICIAL[model]
    folder = cache_dir()
    compact = folder / f"impasto-{model}-features-{source.sha256[:8]}.pt"
    cached = _load_compact(compact, model)
    if cached is not None:
        return cached
    original = folder / source.filename
    label = f"{_DISPLAY[model]} weights"
    if not original.is_file():
        download(source.url, original, source.sha256, label=label)
    digest = sha256_file(original)
    if not _matches(digest, source.sha256):
        raise ImpastoError(
            f"{original} is not the official {label} file (sha256 {digest}, expected "
            f"{source.sha256}): delete it to download again, or pass --weights {original}"
        )
    features = _read(original, model)
    _save_compact(compact, features, digest)
    return LoadedWeights(features, "torchvision", digest, source.url)


def load_weights(
    model: str, weights: str | os.PathLike[str] | None = None, weights_format: str = "auto"
) -> LoadedWeights:
    """Load `model`'s feature weights: the official ones (downloaded and cached) or a file.

    `weights_format` is "auto" (known checksums, then "caffe" in the file name), "torchvision"
    or "caffe"; it sets the preprocessing the weights expect.
    """
    if model not in OFFICIAL:
        raise ImpastoError(f"unknown model {model!r}: choose one of {', '.join(OFFICIAL)}")
    if weights_format not in ("auto", *FORMATS):
        raise ImpastoError(
            f"unknown weights format {weights_format!r}: choose auto, {', '.join(FORMATS)}"
        )
    if weights is None:
        loaded = _load_official(model)
        return loaded if weights_format == "auto" else replace(loaded, preprocessing=weights_format)
    if str(weights) == "random":
        raise ImpastoError(
            "weights 'random' means an untrained network, which load_weights does not build: "
            "let the network module initialise it, or pass a weights FILE"
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ImpastoError(f"weights file {path} does not exist: check the path given to --weights")
    digest = sha256_file(path)
    features = _read(path, model)
    return LoadedWeights(features, _preprocessing(weights_format, digest, path), digest, str(path))
