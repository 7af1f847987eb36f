"""Finding, downloading, verifying, caching and loading feature-network weights (no network)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

from impasto.errors import ImpastoError
from impasto.features import weights
from impasto.features.cache import cache_dir
from impasto.features.download import download
from impasto.features.registry import REGISTRY, ModelSpec
from impasto.features.weights import load_weights, sha256_file

VGG19_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
VGG19_KEYS = {f"features.{i}.{p}" for i in VGG19_CONVS for p in ("weight", "bias")}


def vgg19_state_dict() -> dict[str, torch.Tensor]:
    """Tiny random tensors under VGG-19's torchvision keys, classifier included."""
    torch.manual_seed(0)
    sd = {key: torch.randn(3) for key in sorted(VGG19_KEYS)}
    sd["classifier.0.weight"] = torch.randn(4, 3)
    sd["classifier.6.bias"] = torch.randn(4)
    return sd


def save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


class FakeServer:
    """Stands in for urllib.request.urlopen, serving `data` and recording each call."""

    def __init__(self, data: bytes = b"", error: Exception | None = None) -> None:
        self.data, self.error, self.calls = data, error, []

    def __call__(self, url: str, timeout: float | None = None) -> FakeResponse:
        self.calls.append((url, timeout))
        if self.error is not None:
            raise self.error
        return FakeResponse(self.data)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache folder, and no test can reach the network."""
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", FakeServer(error=AssertionError("network used")))
    return tmp_path / "cache"


@pytest.fixture
def official_vgg19(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, ModelSpec]:
    """A small stand-in for the official VGG-19 file, registered under its real hash."""
    data = save(vgg19_state_dict(), tmp_path / "official.pth").read_bytes()
    source = dataclasses.replace(REGISTRY["vgg19"], sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(REGISTRY, "vgg19", source)
    return data, source


def serve(monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> FakeServer:
    server = FakeServer(**kwargs)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    return server


def test_path_loads_features_only(tmp_path: Path) -> None:
    sd = vgg19_state_dict()
    path = save(sd, tmp_path / "vgg19.pth")
    loaded = load_weights("vgg19", path)
    assert set(loaded.state_dict) == VGG19_KEYS
    assert all(torch.equal(loaded.state_dict[k], sd[k]) for k in VGG19_KEYS)
    assert loaded.preprocessing == "torchvision"
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    assert loaded.source == str(path)


@pytest.mark.parametrize("wrapper", ["state_dict", "model"])
def test_wrapped_state_dict(tmp_path: Path, wrapper: str) -> None:
    path = save({wrapper: vgg19_state_dict(), "epoch": 3}, tmp_path / "checkpoint.pth")
    assert set(load_weights("vgg19", str(path)).state_dict) == VGG19_KEYS


@pytest.mark.parametrize(
    ("name", "weights_format", "expected"),
    [
        ("vgg19-caffe.pth", "auto", "caffe"),
        ("VGG19_Caffe_converted.pth", "auto", "caffe"),
        ("vgg19.pth", "auto", "torchvision"),
        ("vgg19-caffe.pth", "torchvision", "torchvision"),
        ("vgg19.pth", "caffe", "caffe"),
    ],
)
def test_format(tmp_path: Path, name: str, weights_format: str, expected: str) -> None:
    path = save(vgg19_state_dict(), tmp_path / name)
    assert load_weights("vgg19", path, weights_format).preprocessing == expected


@pytest.mark.parametrize(
    ("digest", "name", "expected"),
    [
        ("d01eb7cb" + "0" * 56, "vgg19-d01eb7cb.pth", "caffe"),  # neural-style-pt's conversion
        (REGISTRY["vgg19"].sha256, "my-caffe-copy.pth", "torchvision"),  # hash beats name
    ],
)
def test_format_from_known_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: str, name: str, expected: str
) -> None:
    path = save(vgg19_state_dict(), tmp_path / name)
    monkeypatch.setattr(weights, "sha256_file", lambda _: digest)
    assert load_weights("vgg19", path).preprocessing == expected


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("alexnet",), "vgg19, squeezenet1_1"),
        (("vgg19", None, "bgr"), "'bgr'"),
        (("vgg19", "random"), "network module"),
        (("vgg19", "/nowhere/vgg.pth"), "/nowhere/vgg.pth does not exist"),
    ],
)
def test_bad_arguments(args: tuple, needle: str) -> None:
    with pytest.raises(ImpastoError, match=needle.replace(".", r"\.")):
        load_weights(*args)


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ImpastoError, match="corrupt") as info:
        load_weights("vgg19", path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


class NotWeights:
    pass


@pytest.mark.parametrize(
    ("write", "needle"),
    [
        (lambda p: torch.save([torch.zeros(1)], p), "holds a list, not a state dict"),
        (lambda p: p.write_bytes(pickle.dumps(NotWeights(), protocol=2)), "pickles Python objects"),
        (lambda p: torch.save(torch.nn.Linear(2, 2), p), "pickles Python objects"),
        (lambda p: torch.save({"conv.weight": torch.zeros(1)}, p), "lacks 32 VGG-19 feature"),
    ],
)
def test_not_a_state_dict(tmp_path: Path, write, needle: str) -> None:
    path = tmp_path / "other.pth"
    write(path)
    with pytest.raises(ImpastoError, match=needle) as info:
        load_weights("vgg19", path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_download_builds_compact_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch, official_vgg19: tuple[bytes, ModelSpec]
) -> None:
    data, source = official_vgg19
    server = serve(monkeypatch, data=data)
    loaded = load_weights("vgg19")
    assert [url for url, _ in server.calls] == [source.url]
    assert 0 < server.calls[0][1] <= 30  # a connect timeout, so offline fails fast
    assert (cache / source.filename).read_bytes() == data
    compact = cache / f"impasto-vgg19-features-{source.sha256[:8]}.pt"
    assert set(torch.load(compact, weights_only=True)["state_dict"]) == VGG19_KEYS
    assert not list(cache.glob("*.part"))
    assert set(loaded.state_dict) == VGG19_KEYS
    assert (loaded.sha256, loaded.source, loaded.preprocessing) == (source.sha256, source.url, "torchvision")

    (cache / source.filename).unlink()  # the second start reads only the compact file
    offline = serve(monkeypatch, error=AssertionError("downloaded twice"))
    again = load_weights("vgg19")
    assert offline.calls == []
    assert all(torch.equal(again.state_dict[k], loaded.state_dict[k]) for k in VGG19_KEYS)
    assert (again.sha256, again.source) == (loaded.sha256, loaded.source)
    assert load_weights("vgg19", weights_format="caffe").preprocessing == "caffe"


def test_existing_download_is_verified_and_compacted(cache: Path, official_vgg19: tuple[bytes, ModelSpec]) -> None:
    data, source = official_vgg19
    cache.mkdir()
    (cache / source.filename).write_bytes(data)
    assert load_weights("vgg19").sha256 == source.sha256
    assert (cache / f"impasto-vgg19-features-{source.sha256[:8]}.pt").is_file()


def test_damaged_compact_cache_is_rebuilt(cache: Path, official_vgg19: tuple[bytes, ModelSpec]) -> None:
    data, source = official_vgg19
    cache.mkdir()
    (cache / source.filename).write_bytes(data)
    compact = cache / f"impasto-vgg19-features-{source.sha256[:8]}.pt"
    compact.write_bytes(b"truncated")
    assert set(load_weights("vgg19").state_dict) == VGG19_KEYS
    assert set(torch.load(compact, weights_only=True)["state_dict"]) == VGG19_KEYS


def test_existing_download_with_wrong_hash(cache: Path) -> None:
    cache.mkdir()
    bad = save(vgg19_state_dict(), cache / REGISTRY["vgg19"].filename)
    with pytest.raises(ImpastoError, match="not the official VGG-19 weights file") as info:
        load_weights("vgg19")
    assert str(bad) in str(info.value) and REGISTRY["vgg19"].sha256 in str(info.value)


def test_checksum_mismatch_deletes_download(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"not the real weights" * 100
    serve(monkeypatch, data=data)
    with pytest.raises(ImpastoError) as info:
        load_weights("squeezenet1_1", "official")
    message = str(info.value)
    assert REGISTRY["squeezenet1_1"].sha256 in message
    assert hashlib.sha256(data).hexdigest() in message
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.URLError(OSError("Network is unreachable")),
        TimeoutError("timed out"),
        urllib.error.HTTPError(REGISTRY["vgg19"].url, 403, "Forbidden", {}, None),
    ],
)
def test_offline(cache: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    serve(monkeypatch, error=error)
    with pytest.raises(ImpastoError) as info:
        load_weights("vgg19")
    message = str(info.value)
    assert message.startswith("VGG-19 weights are not cached and cannot be downloaded (")
    assert f"put the file at {cache / REGISTRY['vgg19'].filename} (download {REGISTRY['vgg19'].url}" in message
    assert message.endswith("--model squeezenet1_1") and "\n" not in message
    assert not cache.exists()


def test_download_accepts_hash_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"weights" * 1000
    serve(monkeypatch, data=data)
    prefix = hashlib.sha256(data).hexdigest()[:8]
    dest = download("https://example.org/w.pth", tmp_path / "d" / "w.pth", prefix)
    assert dest.read_bytes() == data
    assert [p.name for p in dest.parent.iterdir()] == ["w.pth"]


def test_cache_dir_honours_impasto_cache_then_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("IMPASTO_CACHE")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert cache_dir() == tmp_path / "torch" / "hub" / "checkpoints"


def test_download_lands_in_torch_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, official_vgg19: tuple[bytes, ModelSpec]
) -> None:
    data, source = official_vgg19
    monkeypatch.delenv("IMPASTO_CACHE")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    serve(monkeypatch, data=data)
    load_weights("vgg19")
    assert (tmp_path / "torch" / "hub" / "checkpoints" / source.filename).is_file()


@pytest.mark.parametrize("name", ["squeezenet1_1-caffe.pth", "squeezenet.pth"])
def test_real_squeezenet_caffe_file(tmp_path: Path, squeezenet_weights: Path, name: str) -> None:
    path = shutil.copy(squeezenet_weights, tmp_path / name)  # renamed: detected by its hash
    loaded = load_weights("squeezenet1_1", path)
    assert loaded.preprocessing == "caffe"
    assert len(loaded.state_dict) == 50
    assert all(k.startswith("features.") for k in loaded.state_dict)
    assert loaded.state_dict["features.0.weight"].shape == (64, 3, 3, 3)
    assert loaded.sha256 == "87a624dfb1814635323c48dd83bf947578a718da64e8bc12c4601b959b34e54c"


def test_real_squeezenet_is_not_vgg19(squeezenet_weights: Path) -> None:
    with pytest.raises(ImpastoError, match=r"lacks \d+ VGG-19 feature weights"):
        load_weights("vgg19", squeezenet_weights)


def test_a_weights_file_is_hashed_once_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from impasto.features import weights as module

    path = save(vgg19_state_dict(), tmp_path / "mine.pth")
    hashed = []
    monkeypatch.setattr(module, "sha256_file", lambda p: hashed.append(p) or sha256_file(p))
    first = load_weights("vgg19", path).sha256
    assert load_weights("vgg19", path).sha256 == first and len(hashed) == 1
    save({k: v + 1 for k, v in vgg19_state_dict().items()}, path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a later modification time
    changed = load_weights("vgg19", path).sha256
    assert changed != first and changed == sha256_file(path) and len(hashed) == 2
