"""Frames, animation, comparison figure, loss log and plot: one real CLI run, checked file by file."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from impasto.apps.cli import main
from impasto.engine import Iterate
from impasto.record.figures import GAP, comparison_figure
from impasto.record.frames import HOLD_SECONDS, MAX_FRAMES, FrameSampler, write_animation
from impasto.record.progress import Progress

ITERATIONS = 12


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, squeezenet_weights: Path) -> Path:
    """A real 64 px SqueezeNet run that asks for every output."""
    from conftest import shrunk

    folder = tmp_path_factory.mktemp("outputs")
    content, style = shrunk("tubingen.jpg", 80, folder), shrunk("starry_night.jpg", 80, folder)
    code = main(
        [
            str(content),
            str(style),
            "-o",
            str(folder / "out.png"),
            "--quiet",
            "--model",
            "squeezenet1_1",
            "--weights",
            str(squeezenet_weights),
            "--size",
            "64",
            "--iterations",
            str(ITERATIONS),
            "--save-every",
            "4",
            "--animate",
            str(folder / "out.gif"),
            "--comparison",
            str(folder / "cmp.png"),
            "--loss-log",
            str(folder / "losses.csv"),
            "--loss-plot",
            str(folder / "losses.png"),
        ]
    )
    assert code == 0
    return folder


def test_frames_are_saved_every_k_iterations_with_sortable_names(run: Path) -> None:
    names = sorted(p.name for p in (run / "out_frames").iterdir())
    assert names == ["0000.png", "0004.png", "0008.png", "0012.png"]
    first, last = (np.asarray(Image.open(run / "out_frames" / n)) for n in (names[0], names[-1]))
    assert np.abs(first.astype(int) - last).mean() > 5  # the image evolved
    assert np.array_equal(last, np.asarray(Image.open(run / "out.png")))


def test_gif_has_one_frame_per_saved_iteration_and_rests_on_the_result(run: Path) -> None:
    frames = iio.imread(run / "out.gif", index=None)
    assert frames.shape[0] == 4
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 5
    with Image.open(run / "out.gif") as gif:
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == HOLD_SECONDS * 1000


def test_loss_csv_has_a_row_per_iteration_and_a_falling_total(run: Path) -> None:
    rows = list(csv.DictReader(open(run / "losses.csv")))
    assert [int(r["iteration"]) for r in rows] == list(range(ITERATIONS + 1))
    assert set(rows[0]) >= {"content", "style", "tv", "total", "elapsed_s"}
    totals = [float(r["total"]) for r in rows]
    assert totals[-1] < 0.5 * totals[0]
    elapsed = [float(r["elapsed_s"]) for r in rows]
    assert elapsed == sorted(elapsed)
    for r in rows:
        assert float(r["total"]) == pytest.approx(float(r["content"]) + float(r["style"]) + float(r["tv"]), rel=1e-4)


def test_loss_plot_and_comparison_are_pngs_of_the_expected_size(run: Path) -> None:
    with Image.open(run / "losses.png") as plot:
        assert (plot.format, plot.size) == ("PNG", (800, 500))
    result = Image.open(run / "out.png")
    with Image.open(run / "cmp.png") as figure:
        assert figure.format == "PNG"
        content = Image.open(run / "tubingen_80.png")
        style = Image.open(run / "starry_night_80.png")
        widths = [round(i.width * result.height / i.height) for i in (content, style, result)]
        assert figure.width == sum(widths) + 4 * GAP
        assert figure.height > result.height + 2 * GAP
        # the result panel is the result itself, pasted at full size
        x = GAP + widths[0] + GAP + widths[1] + GAP
        panel = np.asarray(figure.crop((x, GAP, x + result.width, GAP + result.height)))
        assert np.array_equal(panel, np.asarray(result))


def test_comparison_scales_every_panel_to_one_height() -> None:
    tall, wide = Image.new("RGB", (20, 100), "red"), Image.new("RGB", (300, 50), "blue")
    figure = comparison_figure([(tall, "a"), (wide, "b\nc")], height=50)
    assert figure.width == 10 + 300 + 3 * GAP
    assert np.asarray(figure)[GAP + 25, GAP + 5].tolist() == [255, 0, 0]


def fake_iterate(i: int, n: int, scale: int = 0, scales: int = 1) -> Iterate:
    pixels = torch.full((1, 3, 8, 10), i / max(n, 1))
    return Iterate(i, n, {"content": 1.0, "style": 2.0 / (i + 1), "total": 3.0}, 0.1 * i, scale, scales, pixels)


def test_sampler_keeps_a_bounded_evenly_spaced_set_of_frames() -> None:
    sampler = FrameSampler()
    for i in range(1001):
        sampler.on_iterate(fake_iterate(i, 1000))
    frames = sampler.finish()
    kept = [n for n, _ in sampler.frames]
    assert len(frames) <= MAX_FRAMES + 1 and len(frames) > MAX_FRAMES // 2
    assert kept[0] == 0 and len({b - a for a, b in zip(kept, kept[1:])}) == 1
    assert frames[-1].mean() == pytest.approx(255, abs=1)  # ends on the last image


def test_mp4_reads_back_with_the_final_frame_held(tmp_path: Path) -> None:
    sampler = FrameSampler()
    for i in range(6):
        sampler.on_iterate(fake_iterate(i, 5))
    path = write_animation(sampler.finish(), tmp_path / "out.mp4", fps=10)
    video = iio.imread(path, plugin="FFMPEG")
    assert video.shape == (6 + 10 * HOLD_SECONDS, 8, 10, 3)
    assert video[0].mean() < 20 and video[-1].mean() > 235


def test_frames_of_several_scales_become_one_size(tmp_path: Path) -> None:
    sampler = FrameSampler()
    for scale, size in enumerate((6, 12)):
        for i in range(3):
            it = fake_iterate(i, 2, scale, 2)
            sampler.on_iterate(dataclasses.replace(it, pixels=torch.rand(1, 3, size, size)))
    frames = sampler.finish()
    assert len(frames) == 6 and {f.shape for f in frames} == {(12, 12, 3)}


def test_plain_log_lines_carry_losses_rate_and_eta() -> None:
    stream = io.StringIO()
    progress = Progress(log_every=5, stream=stream)
    for i in range(11):
        progress.on_iterate(fake_iterate(i, 10))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "iteration 10/10" in lines[-1]
    assert "content 1 style 0.182 total 3" in lines[-1] and "it/s" in lines[1] and "ETA" in lines[1]


def test_quiet_prints_nothing_and_the_bar_shows_losses() -> None:
    silent = io.StringIO()
    for i in range(3):
        Progress(quiet=True, stream=silent).on_iterate(fake_iterate(i, 2))
    assert silent.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress(stream=terminal)
    for i in range(3):
        bar.on_iterate(fake_iterate(i, 2))
    bar.close()
    shown = terminal.getvalue()
    assert "2/2" in shown and "total 3" in shown and "it/s" in shown
