"""--replay of runs made on SqueezeNet weights that are now had otherwise: a copy of the
built-in file that is gone (the built-in weights are the same tensors), or torchvision's
download from before the network had built-in weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from impasto.apps.cli import main
from impasto.apps.rerun import _recorded_weights
from impasto.features.registry import REGISTRY
from impasto.record.provenance import read_record
from impasto.settings import Settings

BUILTIN = REGISTRY["squeezenet1_1"].builtin.sha256
OFFICIAL = REGISTRY["squeezenet1_1"].sha256


@pytest.mark.slow
def test_a_run_on_a_vanished_copy_of_the_built_in_file_replays_bit_for_bit(
    tmp_path: Path, content_path: Path, style_path: Path, squeezenet_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    copy = Path(shutil.copy(squeezenet_weights, tmp_path / "squeezenet1_1-caffe.pth"))
    out = tmp_path / "out.png"
    flags = ["--model", "squeezenet1_1", "--weights", copy, "--size", "40", "--iterations", "3", "--quiet"]
    assert main([str(a) for a in (content_path, style_path, "-o", out, *flags)]) == 0
    assert read_record(out)["weights_sha256"] == BUILTIN
    copy.unlink()
    assert main(["--replay", str(out), "--quiet"]) == 0
    replayed = tmp_path / "out_replay.png"
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(replayed)))
    assert read_record(replayed)["settings"]["weights"] is None  # the built-in weights, named as such


@pytest.mark.parametrize(
    ("weights", "digest", "expected"),
    [
        (None, OFFICIAL, "official"),  # before the built-in weights, None meant the download
        (None, BUILTIN, None),
        ("/gone/squeezenet.pth", BUILTIN, None),
        ("/gone/squeezenet.pth", "f" * 64, "/gone/squeezenet.pth"),  # another file: it is asked for by name
    ],
)
def test_recorded_weights(weights: str | None, digest: str, expected: str | None) -> None:
    settings = Settings(model="squeezenet1_1", weights=weights)
    assert _recorded_weights(settings, digest).weights == expected
    assert _recorded_weights(Settings(model="vgg19"), REGISTRY["vgg19"].sha256).weights is None
