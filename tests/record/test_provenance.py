"""Provenance: every output carries what made it, and --replay repeats the run bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from impasto import __version__
from impasto.apps.cli import main
from impasto.features.weights import sha256_file
from impasto.record.provenance import read_record, sidecar_path


def common(weights: Path) -> list[str]:
    return ["--model", "squeezenet1_1", "--weights", str(weights), "--size", "40", "--iterations", "4", "--quiet"]


def test_png_carries_settings_seed_version_and_weights_checksum(
    tmp_path, content_path, style_path, squeezenet_weights
) -> None:
    out = tmp_path / "out.png"
    assert main([str(content_path), str(style_path), "-o", str(out), "--seed", "7", *common(squeezenet_weights)]) == 0
    record = json.loads(Image.open(out).text["impasto"])
    assert record["impasto"] == __version__ and record["seed"] == 7
    assert record["settings"]["iterations"] == 4 and record["settings"]["model"] == "squeezenet1_1"
    assert record["resolved"]["content_layers"]  # network defaults filled in, for reading
    assert record["weights_sha256"] == sha256_file(squeezenet_weights)
    assert record["content"]["sha256"] == sha256_file(content_path)
    assert [s["sha256"] for s in record["styles"]] == [sha256_file(style_path)]


def test_replay_reproduces_the_image_bit_for_bit(tmp_path, content_path, style_path, squeezenet_weights) -> None:
    out = tmp_path / "out.png"
    assert (
        main([str(content_path), str(style_path), "-o", str(out), "--init", "blend", *common(squeezenet_weights)]) == 0
    )
    assert main(["--replay", str(out), "--quiet"]) == 0
    replayed = tmp_path / "out_replay.png"
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(replayed)))
    # a flag given with --replay changes that one setting
    assert main(["--replay", str(out), "-o", str(tmp_path / "more.png"), "--iterations", "6", "--quiet"]) == 0
    assert read_record(tmp_path / "more.png")["settings"]["iterations"] == 6
    assert not np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "more.png")))


def test_other_formats_get_a_json_sidecar(tmp_path, content_path, style_path, squeezenet_weights) -> None:
    out = tmp_path / "out.jpg"
    assert main([str(content_path), str(style_path), "-o", str(out), *common(squeezenet_weights)]) == 0
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar == read_record(out) and sidecar["settings"]["size"] == 40


def test_replay_refuses_changed_inputs_and_foreign_pngs(
    tmp_path, content_path, style_path, squeezenet_weights, capsys
) -> None:
    out = tmp_path / "out.png"
    assert main([str(content_path), str(style_path), "-o", str(out), *common(squeezenet_weights)]) == 0
    Image.open(content_path).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(content_path)
    assert main(["--replay", str(out)]) == 1
    assert "has changed since the run" in capsys.readouterr().err
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert main(["--replay", str(tmp_path / "plain.png")]) == 1
    assert "carries no impasto record" in capsys.readouterr().err
    assert main(["--replay", str(out), str(content_path)]) == 1
    assert "leave out the content and style" in capsys.readouterr().err
