"""Whether a network can run here, known before any work: built in, a file, cached,
downloadable (one HEAD request to a local server), or missing with the one-line fix."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from local_weights import served, serving, unreachable

from impasto.errors import ImpastoError
from impasto.features import download
from impasto.features.availability import (
    BUILT_IN,
    CACHED,
    DOWNLOADABLE,
    GIVEN,
    MISSING,
    availability,
    check_available,
)
from impasto.features.cache import compact_file, official_file
from impasto.features.registry import REGISTRY


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(download.OFFLINE_VARIABLE, raising=False)
    for model in REGISTRY:
        unreachable(monkeypatch, model)
    return tmp_path / "cache"


def test_the_built_in_network_needs_nothing() -> None:
    found = availability("squeezenet1_1")
    assert (found.state, found.runs, found.label()) == (BUILT_IN, True, "SqueezeNet 1.1 (built in)")
    check_available("squeezenet1_1", None)


@pytest.mark.parametrize("weights", ["random", "/some/file.pth"])
def test_named_weights_are_not_checked_here(weights: str) -> None:
    assert availability("vgg19", weights).state == GIVEN  # a file's own checks come when it is read


@pytest.mark.parametrize("name", ["official", "compact"])
def test_cached_official_weights_run_offline(cache: Path, name: str) -> None:
    path = official_file("vgg19") if name == "official" else compact_file("vgg19")
    cache.mkdir()
    path.write_bytes(b"weights")
    found = availability("vgg19")
    assert (found.state, found.path, found.label()) == (CACHED, path, "VGG-19 (cached)")
    check_available("vgg19", None)


def test_a_reachable_download_is_asked_with_one_head_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    asked = []
    real = urllib.request.urlopen
    monkeypatch.setattr(
        urllib.request,
        "urlopen",
        lambda r, timeout: asked.append((r.get_method(), timeout)) or real(r, timeout=timeout),
    )
    with serving(folder) as base:
        served(monkeypatch, "vgg19", base, folder, b"x" * 1000)
        found = availability("vgg19")
    assert (found.state, found.label()) == (DOWNLOADABLE, "VGG-19 (downloads 548 MB)")
    assert asked == [("HEAD", download.CONNECT_TIMEOUT_S)]
    assert not (tmp_path / "cache").exists()  # nothing downloaded yet


def test_unreachable_and_not_cached_is_one_line_naming_the_file_and_the_built_in_network(cache: Path) -> None:
    found = availability("vgg19")
    assert (found.state, found.runs, found.path) == (MISSING, False, official_file("vgg19"))
    assert "refused" in found.reason.lower()
    assert found.label() == "VGG-19 (offline: needs a 548 MB download)"
    with pytest.raises(ImpastoError) as info:
        check_available("vgg19", None)
    message = str(info.value)
    assert message.startswith("VGG-19 weights are not cached and cannot be downloaded (")
    assert f"put the file at {cache / 'vgg19-dcbb9e9d.pth'} " in message
    assert "impasto weights fetch vgg19" in message and REGISTRY["vgg19"].url in message
    assert message.endswith("or run now with the built-in network: --model squeezenet1_1")
    assert "\n" not in message and not cache.exists()


def test_impasto_offline_asks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(download.OFFLINE_VARIABLE, "1")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("the network was used"))
    found = availability("vgg19")
    assert (found.state, found.reason) == (MISSING, "IMPASTO_OFFLINE is set")


def test_official_squeezenet_is_checked_like_vgg19() -> None:
    assert availability("squeezenet1_1", "official").state == MISSING
    with pytest.raises(ImpastoError, match="leave out --weights official$"):
        check_available("squeezenet1_1", "official")
