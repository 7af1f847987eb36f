"""The corpus's situations of `impasto video` and `impasto batch` that need a run: a batch
whose output folder is its photo or style folder never takes its own results or contact
sheet as inputs, a result whose mask changed is redone, and a kept frame is reused only when
the decoded frames are the same; a video of non-square pixels keeps the shape it is shown at,
and a GIF plays at the clip's rate."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from corpus.app_cases import BATCH_RUN, VIDEO_RUN, make_clip
from corpus.hostile import Corpus
from corpus.pictures import noise
from PIL import Image

from impasto.apps.cli import main
from impasto.apps.video.io import read_clip

pytestmark = pytest.mark.slow


def run(*argv: object) -> int:
    return main([*map(str, argv)])


def statuses(folder: Path) -> dict[str, str]:
    with open(folder / "jobs.csv", newline="") as file:
        return {row["output"]: row["status"] for row in csv.DictReader(file)}


@pytest.mark.parametrize("into", ["photos", "styles", "alias"])
def test_batch_into_an_input_folder_never_takes_its_own_results(into, tmp_path, monkeypatch) -> None:
    """The output folder is the photo folder, the style folder, or a link to the photo folder."""
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    for folder, source in (("photos", "content.png"), ("styles", "style.png")):
        Path(folder).mkdir()
        shutil.copy(source, Path(folder) / ("a.png" if folder == "photos" else "s.png"))
    Path("alias").symlink_to("photos")
    inputs = sorted(p.name for p in Path(into).iterdir())
    assert run("batch", "photos", "styles", "-o", into, *BATCH_RUN) == 0
    made = sorted(p.name for p in Path(into).iterdir())
    assert made == sorted([*inputs, "a__s.png", "index.jpg", "jobs.csv"])
    assert run("batch", "photos", "styles", "-o", into, *BATCH_RUN) == 0  # the same batch: nothing new
    assert sorted(p.name for p in Path(into).iterdir()) == made and statuses(Path(into)) == {"a__s.png": "skipped"}
    assert run("batch", "photos", "styles", "-o", into, *BATCH_RUN, "--overwrite") == 0
    assert sorted(p.name for p in Path(into).iterdir()) == made and statuses(Path(into)) == {"a__s.png": "done"}


def test_batch_redoes_a_result_whose_mask_changed(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    Image.new("L", (40, 30), 255).save("mask.png")
    masked = [*BATCH_RUN, "--content-mask", "mask.png"]
    assert run("batch", "content.png", "style.png", "-o", "out", *masked) == 0
    assert run("batch", "content.png", "style.png", "-o", "out", *masked) == 0
    assert statuses(Path("out")) == {"content__style.png": "skipped"}
    noise("L", seed=4).save("mask.png")  # the same name and options, another mask
    assert run("batch", "content.png", "style.png", "-o", "out", *masked) == 0
    assert statuses(Path("out")) == {"content__style.png": "done"}


def _frames(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("[0-9]*.png")}


def test_kept_frames_are_reused_when_only_the_container_changed(tmp_path, monkeypatch, capsys) -> None:
    """Keyed on the decoded frames: a clip remuxed in place (other bytes, the same pictures) goes on."""
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    make_clip(tmp_path)
    argv = ["video", "clip.mp4", "style.png", "-o", "out.mp4", *VIDEO_RUN]
    assert run(*argv) == 0
    kept = _frames(Path("out_frames"))
    before = Path("clip.mp4").read_bytes()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    command = [ffmpeg, "-y", "-loglevel", "error", "-i", "clip.mp4", "-c", "copy", "-metadata", "title=x", "re.mp4"]
    subprocess.run(command, check=True)
    Path("re.mp4").replace("clip.mp4")
    assert Path("clip.mp4").read_bytes() != before
    assert run(*argv, "--overwrite") == 0, capsys.readouterr().err
    assert _frames(Path("out_frames")) == kept and len(kept) == 2


def test_video_of_non_square_pixels_keeps_the_shape_it_is_shown_at(tmp_path, monkeypatch) -> None:
    """32x24 stored, each pixel twice as wide as tall: shown 64x24, so written 64x24 in square pixels."""
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    make_clip(tmp_path, sar=2)
    assert run("video", "clip.mp4", "style.png", "-o", "out.mp4", *VIDEO_RUN, "--size", 64) == 0
    assert read_clip("out.mp4", 64).size == (64, 24)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", "out.mp4"], capture_output=True, text=True).stderr
    assert "SAR 2:1" not in probe and "64x24" in probe


@pytest.mark.parametrize("fps", [26.78, 10, 60])
def test_gif_plays_at_the_clips_rate(fps, tmp_path, monkeypatch) -> None:
    """GIF delays are whole hundredths of a second: alternated so the running time keeps to the
    clip's (Pillow merges equal frames, adding their delays, so the total is what counts)."""
    monkeypatch.chdir(tmp_path)
    Corpus(tmp_path)
    make_clip(tmp_path, rate=fps, frames=6)
    quick = ["--frames", 6, "--mode", "independent", "--iterations", 1, "--scales", 1]
    assert run("video", "clip.mp4", "style.png", "-o", "out.gif", *VIDEO_RUN, *quick) == 0
    with Image.open("out.gif") as gif:
        delays = []
        for index in range(gif.n_frames):
            gif.seek(index)
            delays.append(gif.info["duration"])
    shortest = max(20, 1000 / fps)  # players slow delays under 2/100 s to 1/10 s, so none is shorter
    assert all(d % 10 == 0 and d >= 20 for d in delays)
    assert abs(sum(delays) - 6 * shortest) <= 10, delays
