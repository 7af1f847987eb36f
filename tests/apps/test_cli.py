"""The real `impasto` command: a full run, --help, and every bad-input path of the brief."""

import os
import subprocess
import sys

import pytest
from PIL import Image

from impasto.apps.cli import main

RUN = ["--weights", "random", "--size", "40", "--iterations", "3", "--style-layers", "relu1_1,relu2_1"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_command_writes_a_stylised_image(tmp_path, content_path, style_path):
    out = tmp_path / "out.jpg"
    done = subprocess.run(
        [sys.executable, "-m", "impasto", content_path, style_path, "-o", out, *RUN],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        assert image.format == "JPEG" and max(image.size) == 40


def test_help_names_every_subcommand_and_each_has_its_own_help(capsys):
    from impasto.apps.commands.registry import SUBCOMMANDS

    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"impasto {name} " in text
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out


def test_help_documents_every_setting(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--model",
        "--weights",
        "--weights-format",
        "--content-layers",
        "--style-layers",
        "--style-weight",
        "--tv-weight",
        "--init",
        "--init-noise-ratio",
        "--optimizer",
        "--iterations",
        "--lr",
        "--seed",
        "--size",
        "--overwrite",
    ):
        assert flag in text


def assert_one_line_error(code, err, *needles):
    assert code != 0
    lines = err.strip().splitlines()
    assert lines[-1].startswith("impasto: error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[-1]


@pytest.fixture
def existing_output(tmp_path):
    out = tmp_path / "keep.png"
    Image.new("RGB", (5, 5), "red").save(out)
    return out, out.read_bytes()


def bad_inputs(tmp_path, content_path):
    truncated = tmp_path / "truncated.jpg"
    jpeg = tmp_path / "full.jpg"
    Image.open(content_path).save(jpeg, quality=90)
    truncated.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    (tmp_path / "notes.jpg").write_text("not a picture")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    return {
        "missing": (tmp_path / "nope.jpg", "does not exist"),
        "truncated": (truncated, "truncated"),
        "non-image": (tmp_path / "notes.jpg", "notes.jpg"),
        "corrupt": (tmp_path / "corrupt.png", "corrupt.png"),
    }


@pytest.mark.parametrize("case", ["missing", "truncated", "non-image", "corrupt"])
def test_bad_content_file_is_one_line_and_output_untouched(
    capsys, tmp_path, content_path, style_path, existing_output, case
):
    out, before = existing_output
    bad, needle = bad_inputs(tmp_path, content_path)[case]
    code, err = run_cli(capsys, bad, style_path, "-o", out, "--overwrite", *RUN)
    assert_one_line_error(code, err, str(bad.name), needle)
    assert out.read_bytes() == before


def test_decompression_bomb_is_refused(capsys, tmp_path, content_path, monkeypatch):
    import impasto.image.io

    monkeypatch.setattr(impasto.image.io, "MAX_INPUT_PIXELS", 1000)
    code, err = run_cli(capsys, content_path, content_path, "-o", tmp_path / "o.png", *RUN)
    assert_one_line_error(code, err, content_path.name, "too large")
    assert not (tmp_path / "o.png").exists()


def test_unwritable_output_folder(capsys, tmp_path, content_path, style_path):
    code, err = run_cli(capsys, content_path, style_path, "-o", tmp_path / "no" / "such" / "o.png", *RUN)
    assert_one_line_error(code, err, "o.png")


def test_unknown_output_format(capsys, tmp_path, content_path, style_path):
    code, err = run_cli(capsys, content_path, style_path, "-o", tmp_path / "o.bmpx", *RUN)
    assert_one_line_error(code, err, ".png")


def test_existing_output_is_not_replaced_without_overwrite(capsys, content_path, style_path, existing_output):
    out, before = existing_output
    code, err = run_cli(capsys, content_path, style_path, "-o", out, *RUN)
    assert_one_line_error(code, err, "already exists", "--overwrite")
    assert out.read_bytes() == before


def test_unknown_layer(capsys, tmp_path, content_path, style_path):
    code, err = run_cli(
        capsys, content_path, style_path, "-o", tmp_path / "o.png", "--weights", "random", "--content-layers", "relu9_9"
    )
    assert_one_line_error(code, err, "relu9_9", "conv1_1")


def test_non_finite_loss_leaves_no_output(capsys, tmp_path, content_path, style_path, existing_output):
    out, before = existing_output
    files = sorted(out.parent.iterdir())
    code, err = run_cli(capsys, content_path, style_path, "-o", out, "--overwrite", *RUN, "--style-weight", "1e39")
    assert_one_line_error(code, err, "loss became inf")
    assert out.read_bytes() == before
    assert sorted(out.parent.iterdir()) == files  # no partial or temporary file left


def test_missing_weights_file_names_the_flag(capsys, tmp_path, content_path, style_path):
    code, err = run_cli(capsys, content_path, style_path, "-o", tmp_path / "o.png", "--weights", tmp_path / "w.pth")
    assert_one_line_error(code, err, "w.pth")


def test_debug_shows_the_traceback(tmp_path, content_path, style_path):
    with pytest.raises(Exception, match="does not exist"):
        main([str(tmp_path / "nope.jpg"), str(style_path), "-o", str(tmp_path / "o.png"), "--debug", *RUN])
