"""Never lose a run: resumed runs end exactly where uninterrupted ones do, and Ctrl-C or
SIGTERM sent to a real `impasto` process saves the current image and logs."""

from __future__ import annotations

import csv
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from snapshots import SnapshotAt

from impasto import Settings, stylize
from impasto.apps.cli import main
from impasto.record.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]


def squeezenet(weights: Path, **changes: object) -> Settings:
    return Settings(model="squeezenet1_1", weights=str(weights), size=48, iterations=8, **changes)


@pytest.mark.parametrize(
    "changes",
    [{"optimizer": "adam"}, {"optimizer": "gd"}, {"optimizer": "lbfgs"}, {"optimizer": "lbfgs", "scales": 2}],
    ids=["adam", "gd", "lbfgs", "lbfgs-2-scales"],
)
def test_resumed_run_equals_the_uninterrupted_one(content_path, style_path, squeezenet_weights, changes) -> None:
    settings = squeezenet(squeezenet_weights, **changes)
    last_scale = changes.get("scales", 1) - 1
    keep = SnapshotAt(3, last_scale)
    full = np.asarray(stylize(content_path, style_path, settings, callback=keep))
    seen = []
    resumed = np.asarray(stylize(content_path, style_path, settings, resume=keep.resume, callback=seen.append))
    assert np.array_equal(full, resumed)
    assert (seen[0].scale, seen[0].iteration) == (last_scale, 3)  # earlier scales were skipped


def run_cli(*args: str) -> int:
    return main([*map(str, args)])


def test_cli_checkpoint_then_resume_gives_the_same_image_and_log(
    tmp_path, content_path, style_path, squeezenet_weights
) -> None:
    common = ["--model", "squeezenet1_1", "--weights", squeezenet_weights, "--size", 48, "--iterations", 10, "--quiet"]
    out = tmp_path / "out.png"
    assert (
        run_cli(
            content_path,
            style_path,
            "-o",
            out,
            "--checkpoint-every",
            4,
            "--keep-checkpoint",
            "--loss-log",
            tmp_path / "a.csv",
            *common,
        )
        == 0
    )
    checkpoint = load_checkpoint(tmp_path / "out.ckpt")
    assert checkpoint.resume.iteration == 8  # the last multiple of 4 before the end
    assert len(checkpoint.recorders["losses"]["rows"]) == 8

    again = tmp_path / "again.png"
    assert run_cli("--resume", tmp_path / "out.ckpt", "-o", again, "--loss-log", tmp_path / "b.csv", "--quiet") == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))
    first, second = (list(csv.DictReader(open(tmp_path / n))) for n in ("a.csv", "b.csv"))
    assert [r["iteration"] for r in second] == [str(i) for i in range(11)]
    assert [r["total"] for r in first] == [r["total"] for r in second]


def test_resume_refuses_changed_settings(tmp_path, content_path, style_path, squeezenet_weights, capsys) -> None:
    common = ["--model", "squeezenet1_1", "--weights", squeezenet_weights, "--size", 32, "--iterations", 3, "--quiet"]
    assert (
        run_cli(
            content_path, style_path, "-o", tmp_path / "o.png", "--checkpoint-every", 2, "--keep-checkpoint", *common
        )
        == 0
    )
    assert run_cli("--resume", tmp_path / "o.ckpt", "--size", 64) == 1
    assert "--size cannot change" in capsys.readouterr().err
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    assert run_cli("--resume", tmp_path / "junk.ckpt") == 1
    assert "is not an impasto checkpoint" in capsys.readouterr().err


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 120.0) -> str:
    """Reads the process's stderr until a line contains `needle`."""
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready:
            line = process.stderr.readline()
            seen += line
            if needle in line:
                return seen
            if not line and process.poll() is not None:
                break
    process.kill()
    pytest.fail(f"never saw {needle!r}; stderr was:\n{seen}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_saves_the_current_image_and_logs(
    tmp_path, content_path, style_path, squeezenet_weights, signum
) -> None:
    out = tmp_path / "out.png"
    command = [
        sys.executable,
        "-m",
        "impasto",
        content_path,
        style_path,
        "-o",
        out,
        "--model",
        "squeezenet1_1",
        "--weights",
        squeezenet_weights,
        "--size",
        48,
        "--iterations",
        100000,
        "--log-every",
        1,
        "--checkpoint-every",
        2,
        "--loss-log",
        tmp_path / "losses.csv",
        "--animate",
        tmp_path / "out.gif",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(list(map(str, command)), stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    wait_for_line(process, "iteration 3/")
    process.send_signal(signum)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert "interrupted at iteration" in rest and "--resume" in rest
    with Image.open(out) as image:
        image.load()
        assert image.size == (48, 36) and "interrupted_at" in image.text["impasto"]
    rows = list(csv.DictReader(open(tmp_path / "losses.csv")))
    assert len(rows) >= 4 and float(rows[-1]["total"]) < float(rows[0]["total"])
    assert Image.open(tmp_path / "out.gif").n_frames >= 2
    assert load_checkpoint(tmp_path / "out.ckpt").resume.iteration >= 2
