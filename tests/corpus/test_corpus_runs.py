"""The corpus's situations that need a run: odd pictures stylised end to end (a run with no
style weight returns its starting image, the picture as impasto read it), 16-bit and
colour-tagged results, checkpoints that fail or are finished with, a full disk, a file that
changes during the run, long names, Ctrl-C during start-up and two runs racing for one name."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from corpus.hostile import RUN, Corpus, _checkpoint
from corpus.pictures import FORMATS, noise
from corpus.test_corpus import snapshot
from PIL import Image

from impasto.apps.cli import main
from impasto.errors import ImpastoError
from impasto.image.convert import srgb_profile
from impasto.record.progress import Progress
from impasto.record.result import Provenance

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
UNCHANGED = [
    "--style-weight",
    "0",
    "--iterations",
    "1",
    "--init",
    "content",
]  # the starting image (the content) is the result


def run(*argv: object) -> int:
    return main([*map(str, argv)])


@pytest.mark.parametrize("name", ["icc-wide-gamut", "png-16-bit-grey", "exif-rotated-90", "webp-alpha"])
def test_odd_picture_is_stylised_as_pillow_reads_it(name, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path, reference = FORMATS[name](tmp_path)
    Corpus(tmp_path)
    assert run(path, "style.png", "-o", "out.png", *RUN, "--size", max(reference.shape), *UNCHANGED) == 0
    with Image.open("out.png") as result:
        assert result.info["icc_profile"] == srgb_profile()  # tagged sRGB, which its pixels are
        assert np.array_equal(np.asarray(result), reference)
        record = json.loads(result.text["impasto"])
    assert record["content"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_sixteen_bit_result_with_its_record_and_profile(tmp_path, monkeypatch) -> None:
    cv2 = pytest.importorskip("cv2")
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    assert run("content.png", "style.png", "-o", "out.tif", *RUN, "--bit-depth", 16, "--comparison", "cmp.png") == 0
    deep = cv2.imread("out.tif", cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert deep.dtype == np.uint16 and deep.shape == (24, 32, 3)
    with Image.open("cmp.png") as figure:  # the comparison's result panel is the 8-bit result
        panel = np.asarray(figure.convert("RGB"))[8:32, -40:-8]
    assert np.abs(np.round(deep / 257) - panel).max() <= 1 and len(np.unique(deep)) > 256
    with Image.open("out.tif") as opened:
        assert opened.info["icc_profile"] == srgb_profile()
    assert json.loads(Path("out.tif.json").read_text())["settings"]["size"] == 32


def test_finished_run_removes_its_checkpoint_unless_asked_to_keep_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    common = ["content.png", "style.png", *RUN, "--iterations", 3, "--checkpoint-every", 1]
    assert run(*common, "-o", "gone.png") == 0 and Path("gone.png").exists() and not Path("gone.ckpt").exists()
    assert run(*common, "-o", "kept.png", "--keep-checkpoint") == 0 and Path("kept.ckpt").exists()


def test_failed_checkpoint_is_a_warning_and_the_image_is_still_saved(tmp_path, monkeypatch, capsys) -> None:
    import impasto.record.checkpoint as checkpoints

    def disk_full(path, data, replace=True):
        raise ImpastoError(f"Could not write {path} (No space left on device): check free space and permissions")

    monkeypatch.setattr(checkpoints, "write_bytes_atomic", disk_full)
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    shown = [a for a in RUN if a != "--quiet"]  # warnings are shown unless --quiet
    assert run("content.png", "style.png", "-o", "out.png", *shown, "--iterations", 4, "--checkpoint-every", 1) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "No space left" in warnings[0] and "the run goes on" in warnings[0]
    assert Path("out.png").exists() and not Path("out.ckpt").exists()


def test_full_disk_leaves_no_partial_file(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here")
    try:
        with open(full / "filler", "wb", buffering=0) as filler:  # no block left free; files can still be made
            for _ in range(64):
                try:
                    filler.write(b"\0" * 1024)
                except OSError:
                    break
        before = snapshot(full)
        code = run("content.png", "style.png", "-o", full / "out.png", *RUN)
        assert snapshot(full) == before
    finally:
        subprocess.run(["umount", str(full)], check=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "out.png" in err[0] and "No space left" in err[0]


def test_content_changed_during_the_run_is_not_what_it_uses(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    original = Path("content.png").read_bytes()
    started = Provenance.on_run_start

    def meanwhile(self, *args):  # someone replaces the file once impasto has read it
        noise(seed=9).save(tmp_path / "content.png")
        started(self, *args)

    monkeypatch.setattr(Provenance, "on_run_start", meanwhile)
    assert run("content.png", "style.png", "-o", "out.png", *RUN, "--size", 40, *UNCHANGED) == 0
    with Image.open("out.png") as result:
        assert np.array_equal(np.asarray(result), np.asarray(noise(seed=1)))
        assert json.loads(result.text["impasto"])["content"]["sha256"] == hashlib.sha256(original).hexdigest()


def test_long_and_unicode_names(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    long_content = "ç你好-" + "c" * 230 + ".png"  # 245 bytes
    long_style = "s" * 240 + ".png"
    os.rename("content.png", long_content)
    os.rename("style.png", long_style)
    assert run(long_content, long_style, *RUN) == 0  # the default name, made from both, is shortened
    made = [p for p in os.listdir() if p not in (long_content, long_style)]
    assert len(made) == 1 and len(os.fsencode(made[0])) <= 255 and made[0].startswith("ç你好-")
    assert run(long_content, long_style, "-o", "é" * 123 + ".png", *RUN) == 0  # 250 bytes: legal, so it works


def test_genuine_checkpoint_resumes(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    case = _checkpoint(Corpus(tmp_path))
    assert main(case.argv) == 0 and Path("out.png").exists()
    assert Path("saved.ckpt").exists()  # an input of the run, never deleted


CONSOLE_SCRIPT = (
    "import sys\nsys.stderr.write('>')\nsys.stderr.flush()\nfrom impasto.apps.cli import main\nsys.exit(main())"
)
"""What pip's `impasto` script runs, after a mark that Python itself has started (its own start-up is not ours)."""


@pytest.mark.parametrize("delay", [0.05, 0.5])
def test_ctrl_c_during_start_up_is_one_line(tmp_path, delay) -> None:
    Corpus(tmp_path)
    command = [
        sys.executable,
        "-c",
        CONSOLE_SCRIPT,
        "content.png",
        "style.png",
        "-o",
        "out.png",
        *RUN,
        "--iterations",
        "100000",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr.read(1) == ">"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("impasto: interrupted")


def test_two_runs_racing_for_one_name_never_replace_each_other(tmp_path) -> None:
    Corpus(tmp_path)
    command = [sys.executable, "-m", "impasto", "content.png", "style.png", "-o", "out.png", *RUN]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    racers = [subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in racers]
    assert sorted(code for code, _ in results) == [0, 1], results
    err = next(err for code, err in results if code == 1).strip().splitlines()
    assert len(err) == 1 and ("already exists" in err[0] or "created by another program" in err[0])
    assert sorted(os.listdir(tmp_path)) == ["content.png", "out.png", "style.png"]  # no temporary file left
    with Image.open(tmp_path / "out.png") as result:
        result.load()


def test_ctrl_c_at_the_first_iteration_saves_a_one_frame_animation(tmp_path, monkeypatch, capsys) -> None:
    """An animation of the starting image alone (a run stopped at once, on the command line or
    by the web page's Stop) is a still, not an internal error."""
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    recorded = Progress.on_iterate

    def interrupted_at_once(self, it):
        recorded(self, it)
        raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "on_iterate", interrupted_at_once)
    assert run("content.png", "style.png", "-o", "out.png", *RUN, "--animate", "a.gif") == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("impasto: interrupted at iteration 0/2: saved out.png"), err
    with Image.open("out.png") as result, Image.open("a.gif") as movie:
        assert result.size == movie.size == (32, 24) and movie.n_frames == 1
