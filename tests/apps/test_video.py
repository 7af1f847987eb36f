"""`impasto video` end to end on the `box` clip the tests make (a print slid over a painting) with
the real SqueezeNet weights: frame count and rate kept, temporal mode steadier than frame by frame,
resume after the process is interrupted, audio copied, GIF out, and one-line errors."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from conftest import IMAGES
from PIL import Image

from impasto.apps.cli import main
from impasto.apps.video.io import Cut, read_clip
from impasto.apps.video.metrics import clip_motions, warping_error
from impasto.apps.video.store import frames_folder

pytest.importorskip("cv2")
STYLE = IMAGES / "starry_night.jpg"
RANDOM = ["--model", "squeezenet1_1", "--weights", "random", "--size", "48", "--iterations", "2",
          "--frame-iterations", "1", "--style-loss", "gram", "--quiet"]  # fmt: skip


def video(*argv) -> int:
    return main(["video", *map(str, argv)])


def kept_frames(output: Path) -> list[np.ndarray]:
    """The finished frames (lossless PNGs) of the run that writes `output`."""
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(frames_folder(output).glob("[0-9]*.png"))]


@pytest.fixture(scope="module")
def box(clips) -> Path:
    return clips["box"]


@pytest.fixture(scope="module")
def real(squeezenet_weights) -> list:
    """The real SqueezeNet weights on 6 frames at 96 px."""
    return ["--model", "squeezenet1_1", "--weights", squeezenet_weights, "--size", "96", "--frames", "6",
            "--iterations", "12", "--frame-iterations", "6", "--style-loss", "gram", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def temporal_run(tmp_path_factory, box, real) -> Path:
    out = tmp_path_factory.mktemp("video") / "box.mp4"
    assert video(box, STYLE, "-o", out, *real) == 0
    return out


def test_video_keeps_frame_count_rate_and_size(temporal_run):
    written = read_clip(temporal_run, 96)
    assert len(written.frames) == 6 and written.fps == 15 and written.frames[0].shape == (72, 96, 3)
    assert not written.has_audio and len(kept_frames(temporal_run)) == 6


def test_temporal_mode_flickers_less_than_frame_by_frame(box, real, temporal_run, tmp_path):
    independent = tmp_path / "independent.mp4"
    assert video(box, STYLE, "-o", independent, "--mode", "independent", *real) == 0
    motions = clip_motions(read_clip(box, 96, Cut(count=6)))
    steady, flicker = (warping_error(kept_frames(out), motions) for out in (temporal_run, independent))
    assert steady * 3 < flicker


def test_interrupted_run_keeps_its_frames_and_a_rerun_finishes_with_them(box, real, temporal_run, tmp_path):
    out = tmp_path / "box.mp4"
    command = [str(a) for a in (sys.executable, "-m", "impasto", "video", box, STYLE, "-o", out, *real)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    folder, deadline = frames_folder(out), time.monotonic() + 300
    while len(list(folder.glob("[0-9]*.png"))) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    kept = {p.name: p.stat().st_mtime_ns for p in folder.glob("[0-9]*.png")}
    assert process.returncode == 130 and 2 <= len(kept) < 6 and not out.exists(), err
    assert f"frames kept in {folder}" in err.strip().splitlines()[-1]
    assert video(box, STYLE, "-o", out, *real) == 0
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("[0-9]*.png") if p.name in kept} == kept
    assert len(read_clip(out, 96).frames) == 6
    resumed, whole = kept_frames(out), kept_frames(temporal_run)
    assert all(np.array_equal(a, b) for a, b in zip(resumed, whole))  # as if never interrupted


def tone_clip(path: Path) -> Path:
    """A 1 s, 10 fps test pattern with a 440 Hz tone."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", path],
        check=True,
    )  # fmt: skip
    return path


def test_audio_is_copied_for_the_cut_and_gif_is_written(tmp_path):
    clip = tone_clip(tmp_path / "tone.mp4")
    out = tmp_path / "cut.mp4"
    assert video(clip, STYLE, "-o", out, "--start", "2", "--frames", "3", "--every", "2", *RANDOM) == 0
    written = read_clip(out, 48)
    assert len(written.frames) == 3 and written.fps == 5 and written.has_audio
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", out], capture_output=True, text=True).stderr
    assert "Duration: 00:00:00.6" in probe  # 3 frames at 5 fps, audio cut to match
    gif = tmp_path / "tone.gif"
    assert video(clip, STYLE, "-o", gif, "--frames", "3", *RANDOM) == 0
    assert len(read_clip(gif, 48).frames) == 3


def one_line_error(capsys, *argv) -> str:
    assert video(*argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("impasto: error: "), err
    return err[0]


def test_bad_inputs_are_one_line_errors(box, tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    assert ".mp4 or .gif" in one_line_error(capsys, box, STYLE, "-o", tmp_path / "out.avi", *RANDOM)
    assert "not found" in one_line_error(capsys, tmp_path / "missing.mp4", STYLE, "-o", tmp_path / "a.mp4", *RANDOM)
    assert "Cannot read video" in one_line_error(capsys, text, STYLE, "-o", tmp_path / "b.mp4", *RANDOM)
    assert "--every" in one_line_error(capsys, box, STYLE, "-o", tmp_path / "c.mp4", "--every", "0", *RANDOM)
    assert "--start" in one_line_error(capsys, box, STYLE, "-o", tmp_path / "d.mp4", "--start", "999", *RANDOM)


def test_rerun_with_other_options_does_not_mix_frames(box, tmp_path, capsys):
    out = tmp_path / "e.mp4"
    assert video(box, STYLE, "-o", out, "--frames", "2", *RANDOM) == 0
    assert "already exists" in one_line_error(capsys, box, STYLE, "-o", out, "--frames", "2", *RANDOM)
    other = ["--frames", "2", "--overwrite", "--temporal-weight", "5"]
    message = one_line_error(capsys, box, STYLE, "-o", out, *other, *RANDOM)
    assert str(frames_folder(out)) in message and "other options" in message
