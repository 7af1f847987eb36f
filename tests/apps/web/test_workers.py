"""Several jobs at once on the local backend (`impasto serve --workers 2`): two jobs run side
by side, each with its own live state in the event stream's hello and its own Stop; jobs that
finish out of order leave the queue, the gallery and every state right; a server that stops
keeps every running job's image; and the options are refused in one line when they cannot be."""

import json
import socket
import sys
import time

import pytest
import torch

from impasto.apps.cli import main
from impasto.apps.web.backends.local import LocalBackend, Stylizers, slot_device
from impasto.apps.web.config import ServerConfig

SMALL = {"size": "64", "iterations": "8", "style_loss": "gram-relative"}
LONG = {**SMALL, "iterations": "100000"}
"""A run that goes on until it is stopped."""
ENDED = ("done", "stopped", "failed", "interrupted", "cancelled")


def submit(client, inputs, settings) -> dict:
    answer = client.post("/api/jobs", json={"settings": settings, **inputs})
    assert answer.status_code == 201, answer.text
    return answer.json()


def states(client) -> dict[str, str]:
    return {job["id"]: job["state"] for job in client.get("/api/jobs").json()}


def hello(client) -> dict:
    """The event stream's first event."""
    with client.stream("GET", "/api/events") as answer:
        return json.loads(next(answer.iter_lines()).removeprefix("data: "))


def wait(what, timeout: float = 300):
    """what() once it is truthy."""
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)
    return found


@pytest.fixture
def studio(open_client, upload):
    """A client of an app with two workers, and a photo and an artwork uploaded to it."""
    client = open_client(workers=2)
    client.inputs = {"content": upload(client, "tubingen.jpg"), "styles": [upload(client, "starry_night.jpg")]}
    return client


def test_two_jobs_run_at_once_each_with_its_live_state_and_its_own_stop(studio, wait_for, data):
    first, second = (
        submit(studio, studio.inputs, settings)
        for settings in (LONG, {**SMALL, "iterations": "400", "stop_tolerance": "0"})
    )
    wait(lambda: {first["id"], second["id"]} <= {i for i, state in states(studio).items() if state == "running"})

    def both_live() -> list[dict] | None:
        live = hello(studio)["live"]
        return (
            live
            if {run["job"] for run in live if run["preview"] and run["points"]}
            == {
                first["id"],
                second["id"],
            }
            else None
        )

    live = wait(both_live)
    assert all(run["iterations"] in (100000, 400) and run["iteration"] >= 0 for run in live)
    assert {run["iterations"] for run in live} == {100000, 400}
    studio.post(f"/api/jobs/{first['id']}/stop")
    stopped = wait_for(studio, first["id"], lambda job: job["state"] in ENDED)
    assert stopped["state"] == "stopped" and stopped["message"].startswith("stopped at iteration")
    assert {"result.png", "thumb.jpg"} <= set(stopped["files"])
    assert [run["job"] for run in hello(studio)["live"]] == [second["id"]]  # the other runs on
    done = wait_for(studio, second["id"], lambda job: job["state"] in ENDED)
    assert done["state"] == "done" and done["iteration"] == 400, done["message"]
    assert done["started"] < stopped["finished"] and stopped["started"] < done["finished"]  # they overlapped
    assert hello(studio)["live"] == []
    assert not any((data / "jobs" / job["id"] / "latest.png").exists() for job in (stopped, done))


def test_jobs_finishing_out_of_order_keep_the_queue_and_the_gallery_right(studio, wait_for, data):
    long = submit(studio, studio.inputs, LONG)
    short = submit(studio, studio.inputs, SMALL)
    queued = submit(studio, studio.inputs, {**SMALL, "seed": "5"})
    cancelled = submit(studio, studio.inputs, {**SMALL, "seed": "6"})
    assert studio.post(f"/api/jobs/{cancelled['id']}/stop").json()["state"] == "cancelled"
    short_done = wait_for(studio, short["id"], lambda job: job["state"] in ENDED)
    assert short_done["state"] == "done" and states(studio)[long["id"]] == "running"
    queued_done = wait_for(studio, queued["id"], lambda job: job["state"] in ENDED)  # on the slot the short one freed
    assert queued_done["state"] == "done" and queued_done["started"] >= short_done["finished"]
    assert states(studio)[long["id"]] == "running" and [run["job"] for run in hello(studio)["live"]] == [long["id"]]
    studio.post(f"/api/jobs/{long['id']}/stop")
    long_done = wait_for(studio, long["id"], lambda job: job["state"] in ENDED)
    assert long_done["state"] == "stopped" and long_done["finished"] > queued_done["finished"]
    gallery = studio.get("/api/jobs").json()
    assert [job["id"] for job in gallery] == [cancelled["id"], queued["id"], short["id"], long["id"]]  # newest first
    assert [job["state"] for job in gallery] == ["cancelled", "done", "done", "stopped"]
    assert all("result.png" in job["files"] for job in gallery[1:]) and gallery[0]["files"] == []


def test_stopping_the_server_keeps_every_running_jobs_image(open_client, studio, wait_for, data):
    running = [submit(studio, studio.inputs, LONG) for _ in range(2)]
    for job in running:
        wait_for(studio, job["id"], lambda job: (data / "jobs" / job["id"] / "latest.png").exists())
    studio.__exit__(None, None, None)  # the server shuts down (Ctrl-C)

    client = open_client(workers=2)
    for job in running:
        interrupted = client.get(f"/api/jobs/{job['id']}").json()
        assert interrupted["state"] == "interrupted", interrupted["message"]
        assert interrupted["message"].startswith("the server stopped at iteration")
        assert {"result.png", "thumb.jpg"} <= set(interrupted["files"])


def test_workers_default_to_one_per_gpu_each_on_its_own(monkeypatch, tmp_path):
    config = ServerConfig(data=tmp_path, device="auto")
    stylizers = Stylizers(config)  # nothing is loaded until a job asks
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert LocalBackend(config, stylizers).workers == 1 and slot_device("auto", 1) == "auto"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert LocalBackend(config, stylizers).workers == 2
    assert [slot_device(device, 3) for device in ("auto", "cuda", "cpu", "cuda:0")] == ["cuda:1", "cuda:1", "cpu", "cuda:0"]  # fmt: skip
    assert LocalBackend(ServerConfig(data=tmp_path, device="cpu"), stylizers).workers == 1
    assert LocalBackend(ServerConfig(data=tmp_path, workers=3), stylizers).workers == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--backend", "ray", "--cpus-per-worker", "0"], "--cpus-per-worker must be at least 1, got 0"),
        (
            ["--address", "auto"],
            "--address and --cpus-per-worker are for --backend ray: add --backend ray, or leave them out",
        ),  # fmt: skip
        (
            ["--cpus-per-worker", "2"],
            "--address and --cpus-per-worker are for --backend ray: add --backend ray, or leave them out",
        ),  # fmt: skip
    ],
)
def test_scaling_options_that_cannot_apply_are_one_line(options, message, capsys, tmp_path):
    assert main(["serve", "--data", str(tmp_path / "data"), *options]) == 1
    assert capsys.readouterr().err == f"impasto: error: {message}\n"
    assert not (tmp_path / "data").exists()


def test_the_ray_backend_without_ray_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = ["--data", str(tmp_path / "data"), "--port", str(port), "--model", "squeezenet1_1", "--backend", "ray"]
    assert main(["serve", *options]) == 1
    assert capsys.readouterr().err == 'impasto: error: the Ray backend needs Ray: pip install "impasto[ray]"\n'
    assert not (tmp_path / "data").exists()  # refused before the data folder is made
