"""The engine: one Stylizer, many jobs, plain-data events, no cross-talk between runs."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import impasto
from impasto import ImpastoError, Settings, StopToken, Stylizer, stylize
from impasto.features import weights as weights_module

PACKAGE = Path(impasto.__file__).parent


def squeezenet(weights: Path, **changes: object) -> Settings:
    return Settings(**{"model": "squeezenet1_1", "weights": str(weights), "size": 48, "iterations": 4, **changes})


def cli_image(tmp_path: Path, name: str, content: Path, style: Path, weights: Path, *flags: str) -> np.ndarray:
    out = tmp_path / f"{name}.png"
    command = [
        sys.executable,
        "-m",
        "impasto",
        str(content),
        str(style),
        "-o",
        str(out),
        "--quiet",
        "--model",
        "squeezenet1_1",
        "--weights",
        str(weights),
        "--iterations",
        "4",
        *flags,
    ]
    subprocess.run(command, check=True, timeout=300)
    return np.asarray(Image.open(out))


@pytest.mark.slow
@pytest.mark.real_weights
def test_runs_in_either_order_equal_separate_processes(tmp_path, content_path, style_path, squeezenet_weights):
    from conftest import shrunk

    scream = shrunk("the_scream.jpg", 80, tmp_path)
    jobs = {  # different styles and sizes; one calibrates (normalises) its own copy of the net
        "a": (style_path, {"size": 48, "normalize_vgg": True}, ["--size", "48", "--normalize-vgg"]),
        "b": (scream, {"size": 40}, ["--size", "40"]),
    }
    expected = {
        name: cli_image(tmp_path, name, content_path, style, squeezenet_weights, *flags)
        for name, (style, _, flags) in jobs.items()
    }
    for order in (("a", "b"), ("b", "a")):
        stylizer = Stylizer(squeezenet(squeezenet_weights))
        for name in order:
            style, overrides, _ = jobs[name]
            image = stylizer.run(content_path, style, **overrides)
            assert np.array_equal(np.asarray(image), expected[name]), f"{name} after {order}"


def test_a_second_run_does_not_read_or_hash_the_weights_again(
    content_path, style_path, squeezenet_weights, monkeypatch, tmp_path
):
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    calls = {"hash": 0, "load": 0}
    real_hash, real_load = weights_module.sha256_file, torch.load

    def counting_hash(path):
        calls["hash"] += 1
        return real_hash(path)

    def counting_load(*args, **kwargs):
        calls["load"] += 1
        return real_load(*args, **kwargs)

    monkeypatch.setattr(weights_module, "sha256_file", counting_hash)
    monkeypatch.setattr(torch, "load", counting_load)
    stylizer = Stylizer(squeezenet(squeezenet_weights, iterations=2))
    assert calls == {"hash": 1, "load": 1}
    assert stylizer.weights_sha256.startswith("87a624df")
    stylizer.run(content_path, style_path)
    stylizer.run(content_path, style_path, size=32, style_weight=10.0)
    assert calls == {"hash": 1, "load": 1}
    Stylizer(squeezenet(squeezenet_weights))  # a later start remembers the hash of the unchanged file
    assert calls == {"hash": 1, "load": 2}


def test_every_event_is_plain_data_that_pickles(content_path, style_path):
    events = []
    stylize(
        content_path, style_path, Settings(weights="random", size=64, iterations=3, scales=2), callback=events.append
    )
    assert [(e.scale, e.iteration) for e in events][-1] == (1, events[-1].iterations)
    for event in events:
        copy = pickle.loads(pickle.dumps(event))
        assert copy.losses == event.losses and torch.equal(copy.pixels, event.pixels)
        assert copy.pixels.device.type == "cpu" and copy.image().size == event.image().size
    assert not torch.equal(events[0].pixels, events[-1].pixels)  # each event holds its own copy


def test_only_the_apps_import_argparse_or_install_signal_handlers():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(PACKAGE)
        is_app = "apps" in relative.parts or relative == Path("__main__.py")  # the program's entry is the app layer too
        if ("import argparse" in text or "signal.signal(" in text) and not is_app:
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


class Brightness(nn.Module):
    """A test term: how far the image's mean is below white."""

    layers: tuple[str, ...] = ()

    def forward(self, image: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        return (1 - image.mean()).pow(2)


def test_a_new_loss_term_is_one_registration(content_path, style_path):
    settings = Settings(weights="random", size=32, iterations=15)
    plain = np.asarray(Stylizer(settings).run(content_path, style_path), dtype=float)
    events = []
    brighter = Stylizer(settings).run(
        content_path, style_path, extra_terms=[("brightness", Brightness(), 1e3)], callback=events.append
    )
    assert set(events[-1].losses) == {"content", "style", "tv", "brightness", "total"}
    assert events[-1].losses["brightness"] < events[0].losses["brightness"]
    assert np.asarray(brighter, dtype=float).mean() > plain.mean() + 20


def test_a_term_reading_features_gets_its_layer(content_path, style_path):
    seen = {}

    class Probe(nn.Module):
        layers = ("relu2_1",)

        def forward(self, image, features):
            seen["shape"] = tuple(features["relu2_1"].shape)
            return features["relu2_1"].float().mean()

    Stylizer(Settings(weights="random", size=32, iterations=1)).run(
        content_path, style_path, extra_terms=[("probe", Probe(), 1.0)]
    )
    assert seen["shape"][-2:] == (12, 16)  # 24x32 output, one pooling before relu2_1


def test_stop_ends_the_run_early_with_its_current_image(content_path, style_path):
    stop, events = StopToken(), []

    def stop_at_three(event):
        events.append(event)
        if event.iteration == 3:
            stop.stop()

    image = stylize(
        content_path,
        style_path,
        Settings(weights="random", size=32, iterations=50),
        callback=stop_at_three,
        stop=stop,
    )
    assert stop.stopped and events[-1].reason == "stopped"
    assert events[-1].iteration == events[-1].iterations == 4  # the image after the step in progress
    assert np.array_equal(np.asarray(image), np.asarray(events[-1].image()))


def test_network_settings_cannot_change_per_run(content_path, style_path):
    stylizer = Stylizer(Settings(weights="random", size=32, iterations=1))
    with pytest.raises(ImpastoError, match="^model cannot change") as info:
        stylizer.run(content_path, style_path, model="squeezenet1_1")
    assert info.value.setting == "model"
    with pytest.raises(ImpastoError, match="unknown setting 'colour'"):
        stylizer.run(content_path, style_path, colour="red")
    assert stylizer.settings_for(size=40).size == 40  # other settings may change


def test_stylize_equals_stylizer_run(content_path, style_path):
    settings = Settings(weights="random", size=32, iterations=5, init="gaussian", seed=3)
    assert np.array_equal(
        np.asarray(stylize(content_path, style_path, settings)),
        np.asarray(Stylizer(settings).run(content_path, style_path)),
    )
