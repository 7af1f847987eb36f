"""Offline, with VGG-19's weights neither cached nor downloadable (its URL points at a closed
local port): every front end says so in one line before any work, naming the file, where it
goes and the built-in network; the built-in network runs without the network or the cache."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from local_weights import unreachable_cache
from PIL import Image

from impasto import Settings, Stylizer
from impasto.apps.cli import main
from impasto.apps.commands.backend import check_weights
from impasto.errors import ImpastoError

SMALL = ["--size", "32", "--iterations", "2", "--quiet"]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return unreachable_cache(tmp_path, monkeypatch)


def assert_says_offline(message: str, cache: Path) -> None:
    """The one line: what is missing, where it goes, and the network that runs now."""
    assert "\n" not in message.strip() and "Traceback" not in message
    assert "VGG-19 weights are not cached and cannot be downloaded (" in message
    assert f"put the file at {cache / 'vgg19-dcbb9e9d.pth'} " in message
    assert message.strip().endswith("or run now with the built-in network: --model squeezenet1_1")
    assert not cache.exists()


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


# Each command is given inputs that do not exist: the weights are checked before any of them is looked at.


def test_the_command(capsys, tmp_path: Path, cache: Path) -> None:
    code, err = run(capsys, tmp_path / "photo.jpg", tmp_path / "art.jpg", "-o", tmp_path / "out.png")
    assert code == 1 and err.startswith("impasto: error: VGG-19 weights")
    assert_says_offline(err, cache)
    assert not (tmp_path / "out.png").exists()


def test_batch(capsys, tmp_path: Path, cache: Path) -> None:
    code, err = run(capsys, "batch", tmp_path / "photos", tmp_path / "styles", "-o", tmp_path / "out")
    assert code == 1 and err.startswith("impasto: error: VGG-19 weights")
    assert_says_offline(err, cache)
    assert not (tmp_path / "out").exists()


def test_video(capsys, tmp_path: Path, cache: Path) -> None:
    pytest.importorskip("cv2")
    code, err = run(capsys, "video", tmp_path / "clip.mp4", tmp_path / "art.jpg", "-o", tmp_path / "out.mp4")
    assert code == 1 and err.startswith("impasto: error: VGG-19 weights")
    assert_says_offline(err, cache)


def test_the_python_api(cache: Path) -> None:
    with pytest.raises(ImpastoError) as info:
        Stylizer(Settings())  # the download is tried first thing, before any run
    assert_says_offline(str(info.value), cache)


def test_a_remote_ray_cluster_fetches_its_own(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    remote = argparse.Namespace(backend="ray", address="10.1.2.3:6379")
    check_weights(Settings(), remote)  # its workers may well have the file: not this machine's to judge
    with pytest.raises(ImpastoError):
        check_weights(Settings(), argparse.Namespace(backend="ray", address=None))  # a Ray started here


def test_the_built_in_network_runs_offline_and_writes_no_cache(capsys, tmp_path: Path, cache: Path) -> None:
    photo, art, out = tmp_path / "photo.png", tmp_path / "art.png", tmp_path / "out.png"
    Image.new("RGB", (40, 32), (200, 120, 40)).save(photo)
    Image.effect_noise((40, 40), 60).convert("RGB").save(art)
    code, err = run(capsys, photo, art, "-o", out, "--model", "squeezenet1_1", *SMALL)
    assert (code, err) == (0, "")
    assert Image.open(out).size == (32, 26) and not cache.exists()
