"""The Ray backend on a real local cluster: the same images (and video frames) as the local
backend, and a job whose worker is killed mid-run finishes on another."""

import io
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from apps.test_batch import OUTPUTS, batch, jobs_csv, make_inputs, picture, run_flags
from conftest import IMAGES
from PIL import Image

from impasto.apps.cli import main as impasto
from impasto.apps.ray_pool import PoolJob, StylizerPool, encode_png
from impasto.apps.ray_pool.cluster import WorkerShape, weights_payload, worker_shape
from impasto.apps.video.io import Clip, read_clip, write_video
from impasto.apps.video.shots import shot_bounds
from impasto.apps.video.store import frames_folder
from impasto.image.io import load_image
from impasto.settings import Settings


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray for the whole session (it takes seconds to start): 2 CPUs, no dashboard."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def main(argv: list[str]) -> int:
    return impasto(["batch", *argv])


def video_main(argv: list[str]) -> int:
    return impasto(["video", *argv])


@pytest.fixture
def torch_threads():
    """Sets the local run's torch threads to a worker's (CPU sums, and so the images, depend on
    the thread count); restores them after."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.ray
def test_ray_batch_gives_the_local_images_bit_for_bit(ray_cluster, tmp_path, capsys, torch_threads, squeezenet_weights):
    torch_threads(1)  # 2 workers on 2 CPUs: one thread each
    photos, styles = make_inputs(tmp_path)
    (photos / "broken.jpg").unlink()
    run = run_flags(squeezenet_weights)
    code, err = batch(capsys, photos, styles, "-o", tmp_path / "local", *run)
    assert code == 0, err
    code, err = batch(capsys, photos, styles, "-o", tmp_path / "ray", *run, "--backend", "ray", "--workers", "2")
    assert code == 0, err
    assert {row["status"] for row in jobs_csv(tmp_path / "ray").values()} == {"done"}
    for name in OUTPUTS:
        local, remote = (np.asarray(Image.open(tmp_path / folder / name)) for folder in ("local", "ray"))
        assert np.array_equal(local, remote), name
    assert (
        jobs_csv(tmp_path / "ray")["a.jpg__starry.png"]["total_loss"]
        == jobs_csv(tmp_path / "local")["a.jpg__starry.png"]["total_loss"]
    )


@pytest.mark.ray
def test_job_of_a_killed_worker_finishes_on_another(ray_cluster, tmp_path):
    settings = Settings(model="squeezenet1_1", weights="random", size=64, iterations=100, stop_tolerance=0)
    content = encode_png(load_image(picture("tubingen.jpg", tmp_path / "c.png")))
    style = encode_png(load_image(picture("starry_night.jpg", tmp_path / "s.png")))
    with StylizerPool(settings, workers=2) as pool:
        killed = pool.actors[0]
        threading.Timer(0.5, ray_cluster.kill, [killed]).start()  # mid-job: each worker has one that takes seconds
        results = {r.key: r for r in pool.map([PoolJob(content, (style,), key=key) for key in "ab"])}
        assert killed not in pool.actors and len(pool.actors) == 2
    assert [results[key].error for key in "ab"] == [None, None]
    assert sorted(results[key].attempts for key in "ab") == [1, 2]
    images = [np.asarray(Image.open(io.BytesIO(results[key].png))) for key in "ab"]
    assert np.array_equal(*images)  # the retried job gives the very image the other worker made


def test_ray_backend_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch, clips):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    picture("tubingen.jpg", tmp_path / "photos" / "a.jpg")
    code = main(
        [
            str(tmp_path / "photos"),
            str(tmp_path / "photos"),
            "-o",
            str(tmp_path / "out"),
            "--weights",
            "random",
            "--backend",
            "ray",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err == 'impasto: error: the Ray backend needs Ray: pip install "impasto[ray]"\n'
    assert (
        video_main(
            [
                str(clips["box"]),
                str(IMAGES / "starry_night.jpg"),
                "-o",
                str(tmp_path / "v.mp4"),
                "--weights",
                "random",
                "--backend",
                "ray",
            ]
        )
        == 1
    )
    assert capsys.readouterr().err == err and not (tmp_path / "v_frames").exists()


def test_workers_are_one_per_gpu_else_one_per_two_cpus():
    assert worker_shape({"CPU": 16.0, "GPU": 2.0}) == WorkerShape(2, 1.0, 1.0)
    assert worker_shape({"CPU": 16.0, "GPU": 2.0}, workers=4).gpus == 0.5  # 4 workers share 2 GPUs
    cpu = worker_shape({"CPU": 8.0})
    assert (cpu.count, cpu.cpus, cpu.gpus, cpu.threads) == (4, 2.0, 0.0, 2)
    assert worker_shape({"CPU": 2.0}, workers=4).cpus == 0.5 and worker_shape({"CPU": 2.0}, workers=4).threads == 1


def test_weights_travel_as_bytes_only_when_they_are_a_local_file(tmp_path):
    (tmp_path / "net-caffe.pth").write_bytes(b"weights")
    assert weights_payload(Settings(model="squeezenet1_1", weights=str(tmp_path / "net-caffe.pth"))) == (
        "net-caffe.pth",
        b"weights",
    )
    assert weights_payload(Settings(model="squeezenet1_1", weights="random")) is None
    assert weights_payload(Settings(model="squeezenet1_1")) is None  # built in: each worker has them
    assert weights_payload(Settings(model="squeezenet1_1", weights="official")) is None  # each worker downloads it


def joined_clip(path: Path, clips: dict[str, Path]) -> Path:
    """An MP4 of 3 frames of the box clip then 3 of the pan clip: two shots."""
    frames = [*read_clip(clips["box"], 64).frames[:3], *read_clip(clips["pan"], 64).frames[:3]]
    write_video(frames, path, Clip(frames, frames, 15.0, path, 0.0, False))
    return path


@pytest.mark.ray
def test_ray_video_runs_shots_on_workers_and_gives_the_local_frames(
    ray_cluster, tmp_path, capsys, torch_threads, clips
):
    torch_threads(1)  # 2 workers on 2 CPUs: one thread each
    clip = joined_clip(tmp_path / "joined.mp4", clips)
    assert shot_bounds(read_clip(clip, 64).frames) == [(0, 3), (3, 6)]
    run = [clip, IMAGES / "starry_night.jpg", "--model", "squeezenet1_1", "--weights", "random", "--size", "64",
           "--iterations", "6", "--frame-iterations", "3", "--quiet"]  # fmt: skip
    local, remote = tmp_path / "local.mp4", tmp_path / "ray.mp4"
    assert video_main([str(a) for a in [*run, "-o", local]]) == 0, capsys.readouterr().err
    assert video_main([str(a) for a in [*run, "-o", remote, "--backend", "ray", "--workers", "2"]]) == 0, (
        capsys.readouterr().err
    )
    frames = {out: sorted(frames_folder(out).glob("[0-9]*.png")) for out in (local, remote)}
    assert len(frames[local]) == len(frames[remote]) == 6 and len(read_clip(remote, 64).frames) == 6
    for mine, theirs in zip(frames[local], frames[remote]):
        assert np.array_equal(np.asarray(Image.open(mine)), np.asarray(Image.open(theirs))), mine.name
    last = frames[remote][-1]
    before = np.asarray(Image.open(last))
    last.unlink()  # as if the run had been stopped before the last frame: only that shot goes out again
    assert (
        video_main([str(a) for a in [*run, "-o", remote, "--backend", "ray", "--workers", "2", "--overwrite"]]) == 0
    ), capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(last)), before)
