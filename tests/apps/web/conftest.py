"""Fixtures for the web app: a server configuration on the real SqueezeNet weights, the
networks loaded once for all apps, test clients on a fresh data folder, and image bytes."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import IMAGES
from PIL import Image

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")

from starlette.testclient import TestClient

from impasto.apps.web.config import ServerConfig
from impasto.apps.web.jobs import Stylizers
from impasto.apps.web.server import create_app

BASE_URL = "http://127.0.0.1:8765"
MODEL = "squeezenet1_1"


def config_for(data: Path, weights: Path, **changes) -> ServerConfig:
    return ServerConfig(data=data, model=MODEL, weights={MODEL: str(weights)}, **changes)


@pytest.fixture(scope="session")
def stylizers(squeezenet_weights: Path) -> Stylizers:
    """The networks, loaded once and shared by every app of the session (as a server does)."""
    return Stylizers(config_for(Path("unused"), squeezenet_weights))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def open_client(data: Path, stylizers: Stylizers, squeezenet_weights: Path) -> Callable[..., TestClient]:
    """Starts an app on `data` (config changes as keywords); the client is closed after the test."""
    clients: list[TestClient] = []

    def open_client(**changes) -> TestClient:
        client = TestClient(create_app(config_for(data, squeezenet_weights, **changes), stylizers), base_url=BASE_URL)
        clients.append(client.__enter__())
        return client

    yield open_client
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(open_client) -> TestClient:
    return open_client()


def image_bytes(name: str, size: int, kind: str = "JPEG") -> bytes:
    """An example image shrunk to `size` px (longest side), encoded as `kind`."""
    image = Image.open(IMAGES / name).convert("RGB")
    image.thumbnail((size, size), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


def send_upload(client: TestClient, name: str, size: int = 96, kind: str = "JPEG") -> dict:
    response = client.post("/api/uploads", content=image_bytes(name, size, kind), headers={"X-Filename": name})
    assert response.status_code == 201, response.text
    return response.json()


def poll(client: TestClient, job_id: str, until: Callable[[dict], bool], timeout: float = 300) -> dict:
    """Polls a job until `until(job)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job stayed {job['state']}: {job['message']}"
        time.sleep(0.05)


@pytest.fixture
def upload() -> Callable[..., dict]:
    """upload(client, example_image_name, size=96, kind="JPEG") -> the server's answer."""
    return send_upload


@pytest.fixture
def wait_for() -> Callable[..., dict]:
    """wait_for(client, job_id, until) -> the job once until(job) holds."""
    return poll


@pytest.fixture
def pair(client) -> tuple[dict, dict]:
    """A photo and an artwork uploaded to `client`."""
    return send_upload(client, "tubingen.jpg"), send_upload(client, "starry_night.jpg")


@pytest.fixture
def encoded() -> Callable[..., bytes]:
    """encoded(example_image_name, size, kind="JPEG") -> image file bytes."""
    return image_bytes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A real `python -m impasto serve` on `data` and a free port, with HOME pointed at
    `home` (and the weights cache, shared by every impasto command, beside it) so that
    anything it writes outside its data folder shows up there; `extra` are more options."""

    def __init__(self, data: Path, home: Path, weights: Path, *extra: str) -> None:
        self.data, self.home, self.weights, self.extra = data, home, weights, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        self.weights_cache = data.parent / "weights-cache"
        self.env = {**os.environ, "HOME": str(home), "IMPASTO_CACHE": str(self.weights_cache)}
        self.env["IMPASTO_OFFLINE"] = "1"  # never a request to download.pytorch.org from a test
        for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "MPLCONFIGDIR", "TORCH_HOME"):
            self.env.pop(name, None)
        self.env.pop("IMPASTO_TOKEN", None)  # a token comes from --token only
        self.log = data.parent / "serve.log"
        self.start()

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "impasto",
            "serve",
            "--data",
            str(self.data),
            "--port",
            str(self.port),
            "--model",
            MODEL,
            "--weights",
            str(self.weights),
            *self.extra,
        ]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=log, text=True)
        self.first_line = self.process.stdout.readline().strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/config", timeout=2):
                    return
            except urllib.error.HTTPError:  # an answer all the same: a server that wants a token
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"impasto serve did not start: {self.stop()}") from None
                time.sleep(0.1)

    def ensure_running(self) -> None:
        """Starts the server again if a test stopped it."""
        if self.process.poll() is not None:
            self.start()

    def kill(self) -> None:
        """Ends the server at once, as a crash would: no shutdown code runs."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> str:
        """Ends the server as Ctrl-C does; returns what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.log.read_text()


@pytest.fixture(scope="session")
def server_process() -> type[ServerProcess]:
    """The class of `site`, to start a server of one's own (with `extra` options)."""
    return ServerProcess


@pytest.fixture(scope="session")
def site(tmp_path_factory, squeezenet_weights) -> Iterator[ServerProcess]:
    """One real server for the session's end-to-end tests (started once: it takes seconds)."""
    root = tmp_path_factory.mktemp("site")
    server = ServerProcess(root / "data", root / "home", squeezenet_weights)
    yield server
    server.stop()
