"""Fixtures for the web app: a server configuration on the real SqueezeNet weights, the
networks loaded once for all apps, test clients on a fresh data folder, and image bytes."""

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from conftest import IMAGES, SQUEEZENET_WEIGHTS

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")

from starlette.testclient import TestClient  # noqa: E402

from impasto.apps.web.config import ServerConfig  # noqa: E402
from impasto.apps.web.jobs import Stylizers  # noqa: E402
from impasto.apps.web.server import create_app  # noqa: E402

BASE_URL = "http://127.0.0.1:8765"
MODEL = "squeezenet1_1"


def config_for(data: Path, **changes) -> ServerConfig:
    return ServerConfig(data=data, model=MODEL, weights={MODEL: str(SQUEEZENET_WEIGHTS)}, **changes)


@pytest.fixture(scope="session")
def stylizers() -> Stylizers:
    """The networks, loaded once and shared by every app of the session (as a server does)."""
    if not SQUEEZENET_WEIGHTS.exists():
        pytest.skip("the real SqueezeNet weights are not beside the repo")
    return Stylizers(config_for(Path("unused")))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def open_client(data: Path, stylizers: Stylizers) -> Callable[..., TestClient]:
    """Starts an app on `data` (config changes as keywords); the client is closed after the test."""
    clients: list[TestClient] = []

    def open_client(**changes) -> TestClient:
        client = TestClient(create_app(config_for(data, **changes), stylizers), base_url=BASE_URL)
        clients.append(client.__enter__())
        return client

    yield open_client
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(open_client) -> TestClient:
    return open_client()


def image_bytes(name: str, size: int, kind: str = "JPEG") -> bytes:
    """A shared image shrunk to `size` px (longest side), encoded as `kind`."""
    image = Image.open(IMAGES / name).convert("RGB")
    image.thumbnail((size, size), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


def send_upload(client: TestClient, name: str, size: int = 96, kind: str = "JPEG") -> dict:
    response = client.post("/api/uploads", content=image_bytes(name, size, kind), headers={"X-Filename": name})
    assert response.status_code == 201, response.text
    return response.json()


def poll(client: TestClient, job_id: str, until: Callable[[dict], bool], timeout: float = 90) -> dict:
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
    """upload(client, shared_image_name, size=96, kind="JPEG") -> the server's answer."""
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
    """encoded(shared_image_name, size, kind="JPEG") -> image file bytes."""
    return image_bytes
