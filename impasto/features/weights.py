"""Find, download, verify, cache and load the feature-network weights."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import torch

from impasto.atomic import write_text_atomic
from impasto.errors import ImpastoError
from impasto.features.registry import REGISTRY, spec
from impasto.files import open_input

CONNECT_TIMEOUT_S = 10.0
_CHUNK = 1 << 20
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


# Known Caffe-preprocessed files: the SqueezeNet 1.1 conversion in shared/models (full digest)
# and neural-style-pt's converted VGG-19 `vgg19-d01eb7cb.pth` (only the file-name prefix of
# its SHA-256 is known, verified the way torch.hub does).
_CAFFE_SHA256 = (
    "87a624dfb1814635323c48dd83bf947578a718da64e8bc12c4601b959b34e54c",
    "d01eb7cb",
)

FORMATS = ("torchvision", "caffe")


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


HASHES_FILE = "impasto-hashes.json"
"""In the cache folder: the SHA-256 of weights files already hashed, by path, size and mtime."""


def remembered_sha256(path: Path) -> str:
    """A weights file's SHA-256, hashed once and then remembered while its size and modification
    time stay the same (a 548 MB VGG-19 file takes seconds to hash; the lookup, none)."""
    stat = path.stat()
    key, stamp = str(path.resolve()), [stat.st_size, stat.st_mtime_ns]
    store = cache_dir() / HASHES_FILE
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
        entry = known.get(key) if isinstance(known, dict) else None
    except (OSError, ValueError):
        known, entry = {}, None
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    digest = sha256_file(path)
    try:  # remembering is an optimisation: a read-only cache only costs the next start its hashing
        store.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(store, json.dumps({**known, key: {"stamp": stamp, "sha256": digest}}))
    except OSError:
        pass
    return digest


def weights_sha256(model: str, weights: str | os.PathLike[str] | None) -> str:
    """The checksum a Stylizer of these weights records, known without loading the network:
    'random', the official file's published digest, or the user's file's (remembered) hash."""
    if str(weights) == "random":
        return "random"
    if weights is None:
        return spec(model).sha256
    try:
        return remembered_sha256(Path(weights).expanduser())
    except OSError as error:
        raise ImpastoError(
            f"weights {weights}: cannot read it ({error.strerror}): check the path", "weights"
        ) from error


def _matches(digest: str, expected: str) -> bool:
    return digest.startswith(expected.lower())


def _one_line(error: BaseException) -> str:
    """A short single-line reason for an error (URLError's wrapped reason, not its repr)."""
    plain_url_error = type(error) is urllib.error.URLError  # HTTPError's str is already good
    text = " ".join(str(error.reason if plain_url_error else error).split())
    return text or type(error).__name__


def _cache_write_error(folder: Path, error: OSError) -> ImpastoError:
    return ImpastoError(
        f"cannot write to the weights cache {folder} ({_one_line(error)}): set IMPASTO_CACHE to a writable folder"
    )


Progress = Callable[[int, int | None], None]
"""Told (bytes so far, total bytes or None) as a download goes; the CLI draws it as a bar."""


def _fetch(url: str, out: BinaryIO, progress: Progress | None) -> str:
    """Stream `url` into `out`, reporting progress; return the data's SHA-256."""
    digest = hashlib.sha256()
    done = 0
    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def download(
    url: str, dest: Path, expected_sha256: str, *, label: str = "weights", progress: Progress | None = None
) -> Path:
    """Download `url` to `dest` via a temp file, keeping it only if its SHA-256 matches."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as error:
        raise _cache_write_error(dest.parent, error) from error
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out, progress)
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
        k: v for k, v in obj.items() if isinstance(k, str) and k.startswith("features.") and isinstance(v, torch.Tensor)
    }
    missing = [key for key in spec(model).feature_keys() if key not in features]
    if missing:
        raise ImpastoError(
            f"{where} lacks {len(missing)} {spec(model).display} feature weights (e.g. {missing[0]}): "
            f"pass {model} weights with torchvision key names, or choose the matching model"
        )
    damaged = [key for key, value in features.items() if value.is_floating_point() and not torch.isfinite(value).all()]
    if damaged:
        raise ImpastoError(f"{where} holds NaN or infinite values (in {damaged[0]}): the file is damaged; get it again")
    return features


_PYTORCH_STARTS = (b"PK\x03\x04", b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
"""How PyTorch files begin: a zip archive (torch.save since 1.6) or a pickle (older files)."""


def check_weights_file(path: Path) -> None:
    """A readable, non-empty file that begins like a PyTorch file, or a one-line error saying
    which of those it is not (missing, a folder, empty, unreadable, text, ...)."""
    with open_input(path, "file", "weights") as opened:
        start = opened.read(4)
    if not start.startswith(_PYTORCH_STARTS):
        kind = (
            "it is text"
            if start.isascii() and start.decode("ascii").isprintable()
            else "corrupt, or another kind of file"
        )
        raise ImpastoError(
            f"weights file {path} is not a PyTorch file ({kind}): "
            "pass a state dict saved with torch.save(model.state_dict(), FILE)",
            "weights",
        )


def _read(path: Path, model: str) -> dict[str, torch.Tensor]:
    try:
        with warnings.catch_warnings():  # torch's warnings about odd pickles: the error below says it in one line
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for corrupt or unsafe files
        why = (
            "it pickles Python objects, not just tensors"
            if "Weights only load failed" in str(error)
            else "it is corrupt or truncated"
        )
        raise ImpastoError(
            f"weights file {path} cannot be loaded: {why}; "
            "pass a state dict saved with torch.save(model.state_dict(), FILE)",
            "weights",
        ) from error
    return _features(obj, model, f"weights file {path}")


def _preprocessing(weights_format: str, digest: str, path: Path) -> str:
    if weights_format != "auto":
        return weights_format
    if any(_matches(digest, h) for h in _CAFFE_SHA256):
        return "caffe"
    if any(_matches(digest, s.sha256) for s in REGISTRY.values()):
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
    source = spec(model)
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


def _load_official(model: str, progress: Progress | None) -> LoadedWeights:
    source = spec(model)
    folder = cache_dir()
    compact = folder / f"impasto-{model}-features-{source.sha256[:8]}.pt"
    cached = _load_compact(compact, model)
    if cached is not None:
        return cached
    original = folder / source.filename
    label = f"{source.display} weights"
    if not original.is_file():
        download(source.url, original, source.sha256, label=label, progress=progress)
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
    model: str,
    weights: str | os.PathLike[str] | None = None,
    weights_format: str = "auto",
    progress: Progress | None = None,
) -> LoadedWeights:
    """Load `model`'s feature weights: the official ones (downloaded and cached) or a file.

    `weights_format` is "auto" (known checksums, then "caffe" in the file name), "torchvision"
    or "caffe"; it sets the preprocessing the weights expect.
    """
    spec(model)  # an unknown model is named with the choices
    if weights_format not in ("auto", *FORMATS):
        raise ImpastoError(f"unknown weights format {weights_format!r}: choose auto, {', '.join(FORMATS)}")
    if weights is None:
        loaded = _load_official(model, progress)
        return loaded if weights_format == "auto" else replace(loaded, preprocessing=weights_format)
    if str(weights) == "random":
        raise ImpastoError(
            "weights 'random' means an untrained network, which load_weights does not build: "
            "let the network module initialise it, or pass a weights FILE"
        )
    path = Path(weights).expanduser()
    check_weights_file(path)
    digest = remembered_sha256(path)
    features = _read(path, model)
    return LoadedWeights(features, _preprocessing(weights_format, digest, path), digest, str(path))
