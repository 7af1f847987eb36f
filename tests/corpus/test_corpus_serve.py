"""The corpus for `impasto serve`: an address it cannot have, a data folder another server
holds, Ctrl-C with a page open and browsers that drop out mid-request each end in one line
on the server's terminal, no traceback, and nothing touched that belongs to another server."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")

from impasto.apps.cli import main
from impasto.apps.web.store import Store

REPO = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "impasto", "serve", "--model", "squeezenet1_1"]  # built in: no file, no warning


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(capsys, *argv: object) -> tuple[int, str, str]:
    code = main(["serve", "--model", "squeezenet1_1", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_port_in_use_is_one_line_and_the_data_folder_is_not_touched(tmp_path, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = serve(capsys, "--port", port, "--data", tmp_path / "data")
    assert code == 1 and out == ""  # no "serving" line before the refusal
    assert err == (
        f"impasto: error: --port {port} is already in use on 127.0.0.1 (another impasto serve?): "
        "stop that program, or choose a free port with --port\n"
    )
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("host", ["nowhere.invalid", "192.0.2.1"], ids=["no-such-name", "not-this-machines"])
def test_a_host_that_cannot_be_listened_on_is_one_line_naming_host(tmp_path, capsys, host) -> None:
    code, out, err = serve(capsys, "--host", host, "--port", free_port(), "--data", tmp_path / "data")
    assert code == 1 and out == "" and len(err.splitlines()) == 1, err  # no warning about listening beyond loopback
    assert err.startswith(f"impasto: error: --host {host} is not an address of this machine (")
    assert err.endswith("use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)\n")
    assert not (tmp_path / "data").exists()


def test_a_data_folder_another_server_holds_is_refused_before_its_jobs_are_touched(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    first = Store(data)  # the first server, in the middle of a job with another queued
    running = first.add("squeezenet1_1", {"model": "squeezenet1_1"}, {"content": {}, "styles": []}, None)
    first.claim(running["id"])
    queued = first.add("squeezenet1_1", {"model": "squeezenet1_1"}, {"content": {}, "styles": []}, None)
    before = sorted(p.name for p in data.iterdir())
    try:
        code, out, err = serve(capsys, "--port", free_port(), "--data", data)
        assert code == 1 and out == ""
        assert err == (
            f"impasto: error: the data folder {data} is in use by another impasto serve (process {os.getpid()}): "
            "stop that server, or give this one another folder with --data ANOTHER_FOLDER\n"
        )
        assert first.get(running["id"])["state"] == "running" and first.get(queued["id"])["state"] == "queued"
        assert sorted(p.name for p in data.iterdir()) == before
    finally:
        first.close()


def test_a_data_folder_that_is_a_file_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "data").write_text("mine")
    code, out, err = serve(capsys, "--port", free_port(), "--data", tmp_path / "data")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"impasto: error: cannot use the data folder {tmp_path / 'data'} (") and "--data" in err
    assert (tmp_path / "data").read_text() == "mine"


class Server:
    """A real `impasto serve` on a free loopback port and a data folder in tmp."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [*SERVE, "--data", str(data), "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/config", timeout=2):
                    return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, self.process.communicate()
                time.sleep(0.1)

    def send_partly(self, head: str, body: bytes) -> None:
        """A request whose body stops short of its Content-Length: the browser goes away."""
        with socket.create_connection(("127.0.0.1", self.port)) as client:
            client.sendall(head.format(host=f"127.0.0.1:{self.port}").encode() + b"\r\n" + body)
            time.sleep(0.3)


UPLOAD = "POST /api/uploads HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100000\r\nX-Filename: photo.png\r\n"
MULTIPART = (
    "POST /api/uploads HTTP/1.1\r\nHost: {host}\r\nContent-Length: 50000\r\nX-Filename: scan.png\r\n"
    "Content-Type: multipart/form-data; boundary=XyZ\r\n"
)
SUBMIT = "POST /api/jobs HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5000\r\nContent-Type: application/json\r\n"


@pytest.mark.slow
def test_the_server_logs_dropped_requests_in_one_line_and_stops_at_once_with_a_page_open(tmp_path) -> None:
    server = Server(tmp_path / "data")
    try:
        server.ready()
        rival = Server(tmp_path / "data")  # a second server on the same folder, on another port
        _, rival_err = rival.process.communicate(timeout=60)
        assert rival.process.returncode == 1 and rival_err.count("\n") == 1, rival_err
        assert f"the data folder {tmp_path / 'data'} is in use by another impasto serve" in rival_err
        server.send_partly(UPLOAD, b"\x89PNG" + b"x" * 1000)
        server.send_partly(MULTIPART, b"--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\n" + b"y" * 500)
        server.send_partly(SUBMIT, b'{"settings": {')
        page = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        page.request("GET", "/api/events")  # the page's live updates, left open
        assert page.getresponse().status == 200
        asked = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        out, err = server.process.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert server.process.returncode == 130
    assert "Traceback" not in err and "ERROR" not in err, err
    assert err.splitlines() == [
        "impasto: the upload of photo.png stopped before it was whole (the browser went away); nothing was kept",
        "impasto: the upload of scan.png stopped before it was whole (the browser went away); nothing was kept",
        "impasto: a POST /api/jobs stopped before it was whole (the browser went away); nothing was kept",
        "impasto: interrupted",
    ]
    assert took < 2.5, f"Ctrl-C took {took:.1f} s"  # the server itself stops in about 0.2 s; Python's exit is the rest
    assert os.listdir(tmp_path / "data" / "tmp") == []  # no partial upload left
