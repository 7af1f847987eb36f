"""The Ray backend on a real local cluster: the same images as the local backend, and a job
whose worker is killed mid-run finishes on another."""

import io
import sys
import threading

import numpy as np
import pytest
import torch
from conftest import SQUEEZENET_WEIGHTS
from PIL import Image
from apps.test_batch import OUTPUTS, RUN, batch, jobs_csv, make_inputs, picture

from impasto.apps.batch.command import main
from impasto.apps.ray_pool import PoolJob, StylizerPool, encode_png
from impasto.apps.ray_pool.cluster import WorkerShape, weights_payload, worker_shape
from impasto.image.io import load_image
from impasto.settings import Settings


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray for the whole session (it takes seconds to start): 2 CPUs, no dashboard."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture
def torch_threads():
    """Sets the local run's torch threads to a worker's (CPU sums, and so the images, depend on
    the thread count); restores them after."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.ray
def test_ray_batch_gives_the_local_images_bit_for_bit(ray_cluster, tmp_path, capsys, torch_threads):
    if not SQUEEZENET_WEIGHTS.exists():
        pytest.skip("the real SqueezeNet weights are not beside the repo")
    torch_threads(1)  # 2 workers on 2 CPUs: one thread each
    photos, styles = make_inputs(tmp_path)
    (photos / "broken.jpg").unlink()
    code, err = batch(capsys, photos, styles, "-o", tmp_path / "local", *RUN)
    assert code == 0, err
    code, err = batch(capsys, photos, styles, "-o", tmp_path / "ray", *RUN, "--backend", "ray", "--workers", "2")
    assert code == 0, err
    assert {row["status"] for row in jobs_csv(tmp_path / "ray").values()} == {"done"}
    for name in OUTPUTS:
        local, remote = (np.asarray(Image.open(tmp_path / folder / name)) for folder in ("local", "ray"))
        assert np.array_equal(local, remote), name
    assert jobs_csv(tmp_path / "ray")["a.jpg__starry.png"]["total_loss"] == jobs_csv(tmp_path / "local")["a.jpg__starry.png"]["total_loss"]


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


def test_ray_backend_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    picture("tubingen.jpg", tmp_path / "photos" / "a.jpg")
    code = main([str(tmp_path / "photos"), str(tmp_path / "photos"), "-o", str(tmp_path / "out"),
                 "--weights", "random", "--backend", "ray"])
    err = capsys.readouterr().err
    assert code == 1 and err == 'impasto: error: the Ray backend needs Ray: pip install "impasto[ray]"\n'


def test_workers_are_one_per_gpu_else_one_per_two_cpus():
    assert worker_shape({"CPU": 16.0, "GPU": 2.0}) == WorkerShape(2, 1.0, 1.0)
    assert worker_shape({"CPU": 16.0, "GPU": 2.0}, workers=4).gpus == 0.5  # 4 workers share 2 GPUs
    cpu = worker_shape({"CPU": 8.0})
    assert (cpu.count, cpu.cpus, cpu.gpus, cpu.threads) == (4, 2.0, 0.0, 2)
    assert worker_shape({"CPU": 2.0}, workers=4).cpus == 0.5 and worker_shape({"CPU": 2.0}, workers=4).threads == 1


def test_weights_travel_as_bytes_only_when_they_are_a_local_file(tmp_path):
    (tmp_path / "net-caffe.pth").write_bytes(b"weights")
    assert weights_payload(Settings(model="squeezenet1_1", weights=str(tmp_path / "net-caffe.pth"))) == ("net-caffe.pth", b"weights")
    assert weights_payload(Settings(model="squeezenet1_1", weights="random")) is None
    assert weights_payload(Settings(model="squeezenet1_1")) is None  # the official file: each worker downloads it
