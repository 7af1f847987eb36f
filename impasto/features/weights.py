"""Find, verify, cache and load the feature-network weights: built into the package, the
official download, or a user's file.

`weights` names them: None for the network's default (its built-in weights where it has
them, else the official download), "official" for torchvision's download, "random" for an
untrained network, or a file path.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import tempfile
import warnings
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path

import torch

from impasto.atomic import write_text_atomic
from impasto.errors import ImpastoError
from impasto.features.cache import cache_dir, compact_file, official_file, unavailable
from impasto.features.download import DownloadFailed, Progress, cache_write_error, download, matches
from impasto.features.registry import REGISTRY, spec
from impasto.files import open_input

_CHUNK = 1 << 20
OFFICIAL = "official"
RANDOM = "random"
NAMED_WEIGHTS = (OFFICIAL, RANDOM)
"""Values of `weights` that name weights rather than a file."""

# neural-style-pt's Caffe-converted VGG-19 `vgg19-d01eb7cb.pth`: only the file-name prefix of
# its SHA-256 is known, verified the way torch.hub does. The built-in weights are known by the registry.
_CAFFE_SHA256 = ("d01eb7cb",)

FORMATS = ("torchvision", "caffe")


@dataclass(frozen=True)
class LoadedWeights:
    """Feature weights ready for the network, with how to preprocess images and their provenance."""

    state_dict: dict[str, torch.Tensor]
    preprocessing: str
    sha256: str
    source: str


def names_a_file(weights: str | os.PathLike[str] | None) -> bool:
    """Whether `weights` is a file path, not the default (None), "official" or "random"."""
    return weights is not None and str(weights) not in NAMED_WEIGHTS


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
    'random', the built-in or official file's published digest, or the user's file's (remembered) hash."""
    if str(weights) == RANDOM:
        return RANDOM
    builtin = spec(model).builtin
    if weights is None and builtin is not None:
        return builtin.sha256
    if weights is None or str(weights) == OFFICIAL:
        return spec(model).sha256
    try:
        return remembered_sha256(Path(weights).expanduser())
    except OSError as error:
        raise ImpastoError(
            f"weights {weights}: cannot read it ({error.strerror}): check the path", "weights"
        ) from error


def feature_tensors(obj: object, where: str) -> dict[str, torch.Tensor]:
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
    return {
        k: v for k, v in obj.items() if isinstance(k, str) and k.startswith("features.") and isinstance(v, torch.Tensor)
    }


def missing_features(features: dict[str, torch.Tensor], model: str) -> list[str]:
    """The keys of `model`'s feature weights that `features` lacks."""
    return [key for key in spec(model).feature_keys() if key not in features]


def features_for(obj: object, model: str, where: str) -> dict[str, torch.Tensor]:
    """`model`'s feature tensors in a loaded state dict, all there and finite, or a one-line error."""
    features = feature_tensors(obj, where)
    missing = missing_features(features, model)
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


def load_file(path: Path) -> object:
    """A weights file's contents (tensors only), or a one-line error saying why it cannot be loaded."""
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
    return obj


def read_file(path: Path, model: str) -> dict[str, torch.Tensor]:
    """`model`'s feature tensors in a weights file, or a one-line error saying why it cannot be used."""
    return features_for(load_file(path), model, f"weights file {path}")


def known_file(digest: str) -> tuple[str, str] | None:
    """(what the file is, its preprocessing) for a file known by its SHA-256, else None."""
    for source in REGISTRY.values():
        if matches(digest, source.sha256):
            return f"torchvision's official {source.display} weights", "torchvision"
        if source.builtin is not None and matches(digest, source.builtin.sha256):
            return f"impasto's built-in {source.display} weights", source.builtin.preprocessing
    if any(matches(digest, h) for h in _CAFFE_SHA256):
        return "neural-style-pt's Caffe VGG-19 conversion", "caffe"
    return None


def guess_preprocessing(weights_format: str, digest: str, path: Path) -> str:
    """The preprocessing a file's weights expect: as given, else known by its digest, else by its name."""
    if weights_format != "auto":
        return weights_format
    known = known_file(digest)
    if known is not None:
        return known[1]
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
        raise cache_write_error(path.parent, error) from error


def _load_compact(path: Path, model: str) -> LoadedWeights | None:
    """The compact cache if it is present and sound; a damaged one is deleted."""
    if not path.is_file():
        return None
    source = spec(model)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        features = features_for(saved, model, str(path))
        digest = saved["sha256"]
        if not matches(digest, source.sha256):
            raise ValueError("cache built from another file")
    except Exception:  # unreadable, incomplete or stale: rebuild it
        path.unlink(missing_ok=True)
        return None
    return LoadedWeights(features, "torchvision", digest, source.url)


def _load_official(model: str, progress: Progress | None) -> LoadedWeights:
    source = spec(model)
    compact = compact_file(model)
    cached = _load_compact(compact, model)
    if cached is not None:
        return cached
    original = official_file(model)
    if not original.is_file():
        try:
            download(source.url, original, source.sha256, progress=progress)
        except DownloadFailed as failed:
            raise unavailable(model, failed.reason) from failed
    digest = sha256_file(original)
    if not matches(digest, source.sha256):
        raise ImpastoError(
            f"{original} is not the official {source.display} weights file (sha256 {digest}, expected "
            f"{source.sha256}): delete it to download again, or pass --weights {original}"
        )
    features = read_file(original, model)
    _save_compact(compact, features, digest)
    return LoadedWeights(features, "torchvision", digest, source.url)


def _load_builtin(model: str) -> LoadedWeights:
    """The weights that ship inside the package: decompressed in memory, checked, nothing written."""
    builtin = spec(model).builtin
    assert builtin is not None
    resource = files("impasto.features") / "builtin" / builtin.resource
    try:
        data = lzma.decompress(resource.read_bytes())
    except (OSError, lzma.LZMAError) as error:
        raise ImpastoError(
            f"the built-in {spec(model).display} weights cannot be read ({error}): reinstall impasto"
        ) from error
    if hashlib.sha256(data).hexdigest() != builtin.sha256:
        raise ImpastoError(f"the built-in {spec(model).display} weights are damaged: reinstall impasto")
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    features = features_for(state, model, f"the built-in {spec(model).display} weights")
    return LoadedWeights(features, builtin.preprocessing, builtin.sha256, f"built-in {builtin.resource}")


def load_weights(
    model: str,
    weights: str | os.PathLike[str] | None = None,
    weights_format: str = "auto",
    progress: Progress | None = None,
) -> LoadedWeights:
    """Load `model`'s feature weights: built in (None, where the network has them), the official
    ones (None otherwise, or "official": downloaded once and cached) or a file.

    `weights_format` is "auto" (known checksums, then "caffe" in the file name), "torchvision"
    or "caffe"; it sets the preprocessing the weights expect.
    """
    source = spec(model)  # an unknown model is named with the choices
    if weights_format not in ("auto", *FORMATS):
        raise ImpastoError(f"unknown weights format {weights_format!r}: choose auto, {', '.join(FORMATS)}")
    if weights is None or str(weights) == OFFICIAL:
        use_builtin = weights is None and source.builtin is not None
        loaded = _load_builtin(model) if use_builtin else _load_official(model, progress)
        return loaded if weights_format == "auto" else replace(loaded, preprocessing=weights_format)
    if str(weights) == RANDOM:
        raise ImpastoError(
            "weights 'random' means an untrained network, which load_weights does not build: "
            "let the network module initialise it, or pass a weights FILE"
        )
    path = Path(weights).expanduser()
    check_weights_file(path)
    digest = remembered_sha256(path)
    features = read_file(path, model)
    return LoadedWeights(features, guess_preprocessing(weights_format, digest, path), digest, str(path))
