"""`impasto serve` with no flags offline: the page starts with the built-in network, its menu
says which network is built in, cached or a download, and a network that cannot run is named
in one line when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_weights import served, serving, unreachable_cache
from starlette.testclient import TestClient

from impasto.apps.cli import main
from impasto.apps.commands.serve import ServeCommand
from impasto.apps.web.command import config_from
from impasto.apps.web.server import create_app

BUILT_IN = "SqueezeNet 1.1 (built in)"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return unreachable_cache(tmp_path, monkeypatch)


def configured(tmp_path: Path, *flags: str):
    return config_from(ServeCommand().parser().parse_args(["--data", str(tmp_path / "data"), *flags]))


def test_offline_the_page_starts_with_the_built_in_network(tmp_path: Path, capsys, cache: Path) -> None:
    config = configured(tmp_path)
    assert config.model == "squeezenet1_1"
    assert config.labels == {"vgg19": "VGG-19 (offline: needs a 548 MB download)", "squeezenet1_1": BUILT_IN}
    note = capsys.readouterr().err
    assert note.startswith("impasto: VGG-19 weights are not cached and cannot be downloaded (")
    assert note.endswith(
        f"the page starts with {BUILT_IN}; to offer VGG-19 too, put its file at {cache / 'vgg19-dcbb9e9d.pth'}\n"
    )
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as client:
        form = client.get("/api/config").json()
    assert form["model_labels"] == config.labels
    assert next(f for f in form["fields"] if f["name"] == "model")["default"] == "squeezenet1_1"


def test_offline_asking_for_vgg19_is_one_line_before_serving(tmp_path: Path, capsys, cache: Path) -> None:
    assert main(["serve", "--data", str(tmp_path / "data"), "--model", "vgg19"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("impasto: error: VGG-19 weights are not cached")
    assert err.strip().endswith("--model squeezenet1_1") and not (tmp_path / "data").exists()


def test_cached_vgg19_stays_the_default(tmp_path: Path, capsys, cache: Path) -> None:
    cache.mkdir()
    (cache / "vgg19-dcbb9e9d.pth").write_bytes(b"weights")  # read only when a job runs on it
    config = configured(tmp_path)
    assert (config.model, config.labels["vgg19"]) == ("vgg19", "VGG-19 (cached)")
    assert capsys.readouterr().err == ""


def test_a_downloadable_vgg19_stays_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with serving(site) as base:
        served(monkeypatch, "vgg19", base, site, b"weights")
        config = configured(tmp_path)
    assert (config.model, config.labels["vgg19"]) == ("vgg19", "VGG-19 (downloads 548 MB)")
    assert capsys.readouterr().err == ""


def test_a_weights_file_given_for_vgg19_makes_it_runnable(tmp_path: Path) -> None:
    weights = tmp_path / "vgg19.pth"
    weights.write_bytes(b"weights")
    config = configured(tmp_path, "--weights-vgg19", str(weights))
    assert (config.model, config.labels["vgg19"]) == ("vgg19", "VGG-19 (the server's weights file)")
