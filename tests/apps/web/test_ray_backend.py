"""The web app's Ray backend on a real local Ray of two workers (`impasto serve --backend ray
--workers 2`): a job runs on a worker with its previews and progress published and its files
written into its folder, Stop reaches the worker, a killed worker's job runs again on a fresh
one (and fails, keeping its last image, when that one dies too) while the server answers, and
the server's own process builds no network at all."""

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import IMAGES
from starlette.testclient import TestClient

from impasto.apps.web import server
from impasto.apps.web.backends import backend_for
from impasto.apps.web.backends.remote import RayBackend
from impasto.apps.web.config import ServerConfig
from impasto.engine import Stylizer
from impasto.record.provenance import read_record

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray")

SMALL = {"size": "64", "iterations": "30", "style_loss": "gram-relative"}
LONG = {**SMALL, "iterations": "100000"}
"""A run that goes on until it is stopped (or its worker dies)."""
MODEL = "squeezenet1_1"
ENDED = ("done", "stopped", "failed", "interrupted", "cancelled")


class Studio:
    """A client of an app on the Ray backend, its backend, two uploads, and the networks
    built in this process since the app was made."""

    client: TestClient
    backend: RayBackend
    data: Path
    inputs: dict[str, Any]
    networks: list[str]


@pytest.fixture(scope="module")
def studio(tmp_path_factory, squeezenet_weights) -> Iterator[Studio]:
    """One local Ray and one app for the module (Ray and its workers take seconds to start);
    every Stylizer and torch module made in this process from here on is noted."""
    owned = not ray.is_initialized()
    if owned:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    found, built = Studio(), []  # type: list[Any]
    found.networks = []

    def keep(config, stylizers=None):
        built.append(backend_for(config, stylizers))
        return built[-1]

    with pytest.MonkeyPatch.context() as patch:
        for kind in (torch.nn.Module, Stylizer):
            patch.setattr(kind, "__init__", noting(kind.__init__, found.networks))
        patch.setattr(server, "backend_for", keep)
        data = tmp_path_factory.mktemp("ray-web") / "data"
        weights = {MODEL: str(squeezenet_weights)}  # a local file: sent to the workers as bytes
        app = server.create_app(ServerConfig(data=data, model=MODEL, weights=weights, backend="ray", workers=2))
        with TestClient(app, base_url="http://127.0.0.1:8765") as client:
            found.client, found.backend, found.data = client, built[0], data
            found.inputs = {"content": upload(client, "tubingen.jpg"), "styles": [upload(client, "starry_night.jpg")]}
            yield found
    if owned:
        ray.shutdown()


def upload(client: TestClient, name: str) -> dict:
    answer = client.post("/api/uploads", content=(IMAGES / name).read_bytes(), headers={"X-Filename": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def noting(init, made: list[str]):
    """`init`, noting the type of each object it makes in `made`."""

    def noted(self, *args, **kwargs):
        made.append(type(self).__name__)
        init(self, *args, **kwargs)

    return noted


def submit(studio: Studio, settings: dict) -> dict:
    answer = studio.client.post("/api/jobs", json={"settings": settings, **studio.inputs})
    assert answer.status_code == 201, answer.text
    return answer.json()


def job(studio: Studio, job_id: str) -> dict:
    answer = studio.client.get(f"/api/jobs/{job_id}")
    assert answer.status_code == 200
    return answer.json()


def wait(what, timeout: float = 300):
    """what() once it is truthy."""
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)
    return found


def events_until_ended(studio: Studio, events: list[dict], jobs: int = 1) -> None:
    """Reads the event stream into `events` until `jobs` jobs' rows say they have ended."""
    with studio.client.stream("GET", "/api/events") as answer:
        for line in answer.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                jobs -= events[-1]["type"] == "job" and events[-1]["job"]["state"] in ENDED
                if not jobs:
                    return


def listening(studio: Studio, jobs: int = 1) -> tuple[threading.Thread, list[dict]]:
    """A thread reading the event stream until `jobs` jobs end, and the events it has read;
    it has the hello when this returns, so it sees every event of the jobs queued after."""
    events: list[dict] = []
    reader = threading.Thread(target=events_until_ended, args=(studio, events, jobs))
    reader.start()
    wait(lambda: events)
    return reader, events


def ended(studio: Studio, job_id: str) -> dict:
    """The job once it has ended."""
    return wait(lambda: (found := job(studio, job_id))["state"] in ENDED and found)


def renewed(path: Path, since: float) -> None:
    """Waits for `path` to be written after `since`."""
    wait(lambda: path.exists() and path.stat().st_mtime > since)


def worker_pids(studio: Studio) -> list[int]:
    return [info["pid"] for info in ray.get([actor.ready.remote() for actor in studio.backend.actors], timeout=120)]


def test_a_job_runs_on_a_worker_with_its_previews_and_its_files_land_in_its_folder(studio):
    reader, events = listening(studio)
    queued = submit(studio, {**SMALL, "stop_tolerance": "0"})
    reader.join(300)
    done = job(studio, queued["id"])
    assert done["state"] == "done" and done["message"] == "finished 30 iterations", done["message"]
    mine = [event for event in events if event.get("job") == queued["id"]]
    previews = [event for event in mine if event["type"] == "preview"]
    assert len(previews) >= 2 and all(event["image"].startswith("data:image/jpeg;base64,") for event in previews)
    points = [point["i"] for event in mine if event["type"] == "progress" for point in event["points"]]
    assert points == list(range(31))
    folder = studio.data / "jobs" / queued["id"]
    assert {"result.png", "animation.gif", "comparison.png", "losses.csv", "thumb.jpg"} <= set(done["files"])
    assert not (folder / "latest.png").exists() and not list(folder.glob(".*"))  # no temporary file left
    assert read_record(folder / "result.png")["settings"]["iterations"] == 30


def test_stop_reaches_the_worker_and_keeps_its_image(studio):
    running = submit(studio, LONG)
    wait(lambda: (studio.data / "jobs" / running["id"] / "latest.png").exists())  # saved by the worker, sent back
    assert job(studio, running["id"])["iteration"] >= 0
    studio.client.post(f"/api/jobs/{running['id']}/stop")
    stopped = ended(studio, running["id"])
    assert stopped["state"] == "stopped" and stopped["message"].startswith("stopped at iteration"), stopped["message"]
    assert {"result.png", "animation.gif", "thumb.jpg"} <= set(stopped["files"])


def test_killed_workers_jobs_run_again_on_fresh_ones(studio):
    reader, events = listening(studio, jobs=2)
    queued = [submit(studio, {**SMALL, "iterations": "150", "stop_tolerance": "0"}) for _ in range(2)]
    for job_id in (entry["id"] for entry in queued):
        wait((studio.data / "jobs" / job_id / "latest.png").exists)  # both run, one per worker
    killed = list(studio.backend.actors)
    for actor in killed:
        ray.kill(actor)
    assert studio.client.get("/api/config").status_code == 200  # the server answers meanwhile
    reader.join(300)
    for entry in queued:
        said = [event["job"]["message"] for event in events if event["type"] == "job" and event["job"]["id"] == entry["id"]]  # fmt: skip
        assert any(message.startswith("its Ray worker died (") and message.endswith("): running it again on a fresh one") for message in said), said  # fmt: skip
        done = job(studio, entry["id"])
        assert done["state"] == "done" and done["message"] == "finished 150 iterations", done["message"]
        assert "result.png" in done["files"]
    assert not set(studio.backend.actors) & set(killed)


def test_jobs_whose_workers_die_twice_fail_with_their_last_images(studio):
    doomed = [submit(studio, LONG) for _ in range(2)]
    latest = [studio.data / "jobs" / entry["id"] / "latest.png" for entry in doomed]
    for path in latest:
        wait(path.exists)
    first = list(studio.backend.actors)
    for pid in worker_pids(studio):
        os.kill(pid, signal.SIGKILL)
    wait(lambda: not set(studio.backend.actors) & set(first))
    worker_pids(studio)  # the fresh workers have started
    replaced = time.time()
    for path in latest:
        renewed(path, replaced)  # the runs have begun again
    for pid in worker_pids(studio):
        os.kill(pid, signal.SIGKILL)
    assert studio.client.get("/api/config").status_code == 200
    for entry, path in zip(doomed, latest):
        failed = ended(studio, entry["id"])
        assert failed["state"] == "failed", failed["message"]
        assert failed["message"].startswith("its Ray worker died 2 times (") and "; kept its image from iteration" in failed["message"]  # fmt: skip
        assert {"result.png", "thumb.jpg"} <= set(failed["files"]) and not path.exists()
    after = submit(studio, SMALL)  # the slots have fresh workers again
    assert ended(studio, after["id"])["state"] == "done"


def test_the_server_process_builds_no_network(studio):
    """Last: after every job above, not one torch module was made in the server's process."""
    assert job(studio, submit(studio, SMALL)["id"])
    wait(lambda: all(run["state"] in ENDED for run in studio.client.get("/api/jobs").json()))
    assert studio.networks == []
    assert isinstance(studio.backend, RayBackend) and not hasattr(studio.backend, "stylizers")
