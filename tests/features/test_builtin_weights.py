"""The SqueezeNet 1.1 weights built into the package: the very tensors of the original file,
loaded with no network and no cache write; torchvision's download still there when named."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import lzma
from importlib.resources import files
from pathlib import Path

import pytest
import torch
from local_weights import served, serving, unreachable

from impasto.errors import ImpastoError
from impasto.features import registry
from impasto.features.registry import REGISTRY
from impasto.features.weights import load_weights, weights_sha256

BUILTIN_SHA256 = "87a624dfb1814635323c48dd83bf947578a718da64e8bc12c4601b959b34e54c"
"""The decompressed built-in file's SHA-256: that of ../shared/models/squeezenet1_1-caffe.pth."""
STATE_DICT_SHA256 = "de58011b5711a207a70cc453bf87f8abf797aed1e1a4f0bd090324b3fcc24fd6"
"""`tensors_digest` of the state dict in ../shared/models/squeezenet1_1-caffe.pth, computed from that file."""


def tensors_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the sorted keys, each with its dtype, shape and raw bytes."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key]
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


def packaged_state() -> dict[str, torch.Tensor]:
    """The whole state dict in the package's compressed file (classifier included)."""
    data = lzma.decompress((files("impasto.features") / "builtin" / "squeezenet1_1-caffe.pth.xz").read_bytes())
    assert hashlib.sha256(data).hexdigest() == BUILTIN_SHA256
    return torch.load(io.BytesIO(data), weights_only=True)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache folder, and both official URLs pointing at a closed local port."""
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    for model in REGISTRY:
        unreachable(monkeypatch, model)
    return tmp_path / "cache"


def test_the_built_in_tensors_are_the_original_files() -> None:
    state = packaged_state()
    assert len(state) == 52 and all(t.dtype == torch.float32 for t in state.values())
    assert tensors_digest(state) == STATE_DICT_SHA256


def test_squeezenet_without_weights_loads_them_offline_and_writes_nothing(cache: Path) -> None:
    loaded = load_weights("squeezenet1_1")
    original = packaged_state()
    assert set(loaded.state_dict) == {k for k in original if k.startswith("features.")}
    assert all(torch.equal(loaded.state_dict[k], original[k]) for k in loaded.state_dict)
    assert (loaded.preprocessing, loaded.sha256) == ("caffe", BUILTIN_SHA256)
    assert weights_sha256("squeezenet1_1", None) == BUILTIN_SHA256  # what provenance records
    assert not cache.exists()


def test_the_built_in_weights_give_the_features_of_the_same_file_given_by_path(squeezenet_weights: Path) -> None:
    from impasto.features.registry import build_extractor

    image = torch.rand(1, 3, 48, 48)
    features = {}
    for weights in (None, squeezenet_weights):
        loaded = load_weights("squeezenet1_1", weights)
        net = build_extractor("squeezenet1_1", ["fire5"], loaded.state_dict, loaded.preprocessing)
        features[weights] = net(image)["fire5"]
    assert torch.equal(features[None], features[squeezenet_weights])


def test_official_names_torchvisions_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    buffer = io.BytesIO()
    torch.save(packaged_state(), buffer)  # a stand-in with SqueezeNet's keys, registered under its digest
    with serving(folder) as base:
        served(monkeypatch, "squeezenet1_1", base, folder, buffer.getvalue())
        loaded = load_weights("squeezenet1_1", "official")
    source = REGISTRY["squeezenet1_1"]
    assert (loaded.preprocessing, loaded.sha256, loaded.source) == ("torchvision", source.sha256, source.url)
    assert (cache / source.filename).read_bytes() == buffer.getvalue()
    assert weights_sha256("squeezenet1_1", "official") == source.sha256


def test_official_offline_names_the_built_in_weights(cache: Path) -> None:
    with pytest.raises(ImpastoError) as info:
        load_weights("squeezenet1_1", "official")
    message = str(info.value)
    assert str(cache / REGISTRY["squeezenet1_1"].filename) in message
    assert "leave out --weights official" in message and "\n" not in message


def test_a_damaged_install_says_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = registry.BuiltinWeights("squeezenet1_1-caffe.pth.xz", "0" * 64, "caffe")
    monkeypatch.setitem(REGISTRY, "squeezenet1_1", dataclasses.replace(REGISTRY["squeezenet1_1"], builtin=damaged))
    with pytest.raises(ImpastoError, match="built-in SqueezeNet 1.1 weights are damaged: reinstall impasto"):
        load_weights("squeezenet1_1")
