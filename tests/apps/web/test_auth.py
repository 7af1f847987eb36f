"""The token of a shared server: every route of a real `impasto serve --token` refuses a
request without it (401) or with a wrong one (403) and gives no data either way, a right
`?token=` becomes an HttpOnly, SameSite=Strict cookie, a server beyond loopback makes its own
token and prints it once, and the token is in no log line, database byte or record."""

import hmac
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import IMAGES
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from impasto.apps.cli import main
from impasto.apps.web import auth, serving
from impasto.apps.web.auth import COOKIE, new_token, server_token
from impasto.apps.web.config import ServerConfig
from impasto.apps.web.store import Store
from impasto.errors import ImpastoError
from impasto.record.provenance import read_record

TOKEN = new_token()
WRONG = new_token()
SMALL = {"size": "64", "iterations": "4", "style_loss": "gram-relative"}
LONG = {**SMALL, "iterations": "100000"}
"""A run that goes on until it is stopped."""
Answer = tuple[httpx.Response, bytes]
Server = Any
"""A `ServerProcess` (tests/apps/web/conftest.py) with a finished job's `job` and `inputs`."""
MODEL = "squeezenet1_1"

ROUTES = [
    ("GET", "/"),
    ("GET", "/api/config"),
    ("POST", "/api/uploads"),
    ("GET", "/api/uploads/{upload_id}/thumb"),
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs/{job_id}"),
    ("POST", "/api/jobs/{job_id}/stop"),
    ("GET", "/api/jobs/{job_id}/files/{name}"),
    ("GET", "/api/events"),
    ("GET", "/static"),
]
"""Every route of the app with its method (checked against the app's own table below)."""


@pytest.fixture(scope="module")
def gated(tmp_path_factory, squeezenet_weights, server_process) -> Iterator[Server]:
    """A server started with --token on loopback, holding one finished job."""
    root = tmp_path_factory.mktemp("gated")
    server = server_process(root / "data", root / "home", squeezenet_weights, "--token", TOKEN)
    with member(server) as client:
        photo, artwork = (upload(client, name) for name in ("tubingen.jpg", "starry_night.jpg"))
        server.inputs = {"content": photo, "styles": [artwork]}
        server.job = submit(client, server.inputs, SMALL)
        wait_until(client, server.job["id"], "done")
    yield server
    server.stop()


def member(server: Server, **headers: str) -> httpx.Client:
    """A client of `server` that carries its token."""
    return httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {TOKEN}", **headers}, timeout=30)


def upload(client: httpx.Client, name: str) -> dict:
    answer = client.post("/api/uploads", content=(IMAGES / name).read_bytes(), headers={"x-filename": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_until(client: httpx.Client, job_id: str, state: str) -> dict:
    """The job once it has left the states before `state` (queued, then running)."""
    before = ("queued",) if state == "running" else ("queued", "running")
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] in before:
        assert time.monotonic() < deadline, f"job stayed {job['state']}"
        time.sleep(0.05)
    assert job["state"] == state, job
    return job


def printed_after_first_line(server: Server) -> str:
    """What `server` printed after its first line, once stopped."""
    server.stop()
    return server.process.stdout.read()


def submit(client: httpx.Client, inputs: dict, settings: dict) -> dict:
    answer = client.post("/api/jobs", json={"settings": settings, **inputs})
    assert answer.status_code == 201, answer.text
    return answer.json()


def path_of(server: Server, route: tuple[str, str]) -> str:
    """The route's path for the server's finished job, its photo and a static file."""
    template = "/static/app.js" if route[1] == "/static" else route[1]
    return template.format(job_id=server.job["id"], upload_id=server.inputs["content"]["id"], name="result.png")


def call(server: Server, route: tuple[str, str], token: str | None, how: str = "cookie") -> Answer:
    """One request to `route` of `server`, carrying `token` as `how` says (cookie, bearer, query);
    the answer and its body (of the event stream, its first line)."""
    method, path = route[0], path_of(server, route)
    headers, cookies, params, body = {}, {}, {}, {}
    if token is not None:
        if how == "cookie":
            cookies[COOKIE] = token
        elif how == "bearer":
            headers["authorization"] = f"Bearer {token}"
        else:
            params["token"] = token
    if route == ("POST", "/api/uploads"):
        body, headers["x-filename"] = {"content": (IMAGES / "tubingen.jpg").read_bytes()}, "x.jpg"
    elif route == ("POST", "/api/jobs"):
        body = {"json": {"settings": SMALL, **server.inputs}}
    with (
        httpx.Client(base_url=server.url, timeout=30, cookies=cookies) as client,
        client.stream(method, path, headers=headers, params=params, **body) as answer,
    ):
        if path == "/api/events" and answer.status_code == 200:
            return answer, next(answer.iter_lines()).encode()  # the stream never ends: its first event
        return answer, answer.read()


def what_members_see(server: Server) -> tuple[list[str], list[str]]:
    """The jobs and the uploads, which a refused request must leave as they were (whether it
    stops a running job is the test of its own below)."""
    with member(server) as client:
        jobs = [job["id"] for job in client.get("/api/jobs").json()]
    return jobs, sorted(path.name for path in (server.data / "uploads").iterdir())


def assert_refused(call_answer: Answer, status: int, server: Server) -> None:
    """A refusal: the status, one JSON message, the guard's headers, and no data at all."""
    answer = call_answer[0]
    assert answer.status_code == status, (answer.request.method, answer.request.url, answer.text)
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"field", "message"} and answer.json()["field"] is None
    assert "default-src 'self'" in answer.headers["content-security-policy"]  # the guard saw it first
    assert "set-cookie" not in answer.headers and answer.headers["cache-control"] == "no-store"
    for secret in (TOKEN, WRONG, server.job["id"], server.inputs["content"]["id"]):
        assert secret not in answer.text
    assert (status == 401) == ("www-authenticate" in answer.headers)


def test_the_route_table_is_the_apps(open_client):
    """ROUTES names every route, so that a new one cannot be left out of the checks below."""
    app = open_client(token=TOKEN).app
    while not hasattr(app, "routes"):
        app = app.app  # through the guard and the token gate
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("GET", route.path))
        elif isinstance(route, Route):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    assert found == set(ROUTES)


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_wants_the_token(gated, route):
    before = what_members_see(gated)
    for how in ("cookie", "bearer", "query"):
        assert_refused(call(gated, route, WRONG, how), 403, gated)
    assert_refused(call(gated, route, None), 401, gated)
    if route[0] == "GET":
        head = httpx.head(gated.url + path_of(gated, route))
        assert head.status_code == 401 and head.content == b""
    assert what_members_see(gated) == before  # nothing was uploaded or queued
    for how in ("cookie", "bearer"):
        answer, body = call(gated, route, TOKEN, how)
        assert answer.status_code in (200, 201), body
        assert_has_data(gated, route, body)


def assert_has_data(server: Server, route: tuple[str, str], body: bytes) -> None:
    """What a member gets from `route`: the page, the job's own bytes, the event stream's hello."""
    template = route[1]
    if template == "/":
        assert b'<script type="module" src="/static/app.js">' in body
    elif template == "/api/jobs/{job_id}/files/{name}":
        assert body == (server.data / "jobs" / server.job["id"] / "result.png").read_bytes()
    elif template == "/api/uploads/{upload_id}/thumb":
        assert body == (server.data / "uploads" / f"{server.inputs['content']['id']}.thumb.jpg").read_bytes()
    elif template == "/api/events":
        hello = json.loads(body.decode().removeprefix("data: "))
        assert hello["type"] == "hello" and server.job["id"] in [job["id"] for job in hello["jobs"]]
    elif route == ("POST", "/api/jobs"):
        assert json.loads(body)["inputs"]["content"]["id"] == server.inputs["content"]["id"]  # queued
    elif template in ("/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/stop"):
        assert server.job["id"].encode() in body
    elif template == "/static":
        assert b"import" in body
    else:
        assert json.loads(body)  # the form, an upload, a queued job


@pytest.mark.slow
def test_a_running_job_is_stopped_by_members_only(gated):
    with member(gated) as client:
        job = submit(client, gated.inputs, LONG)
        wait_until(client, job["id"], "running")
        for headers in ({}, {"authorization": f"Bearer {WRONG}"}, {"cookie": f"{COOKIE}={WRONG}"}):
            assert httpx.post(f"{gated.url}/api/jobs/{job['id']}/stop", headers=headers).status_code in (401, 403)
        time.sleep(0.5)
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "running"
        assert client.post(f"/api/jobs/{job['id']}/stop").status_code == 200
        wait_until(client, job["id"], "stopped")


def test_a_right_query_token_becomes_a_strict_cookie(open_client):
    client = open_client(token=TOKEN)
    answer = client.get(f"/api/jobs?page=2&token={TOKEN}&x", follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["location"] == "/api/jobs?page=2&x"  # the rest is kept
    assert answer.headers["set-cookie"] == f"{COOKIE}={TOKEN}; HttpOnly; Path=/; SameSite=strict"
    assert answer.headers["cache-control"] == "no-store" and TOKEN not in answer.text
    assert client.get("/api/jobs").status_code == 200  # the cookie alone lets it in now
    assert client.get("/api/jobs", headers={"authorization": f"Bearer {WRONG}"}).status_code == 403


def test_the_cookie_is_secure_behind_https(open_client):
    client = TestClient(open_client(token=TOKEN).app, base_url="https://127.0.0.1")  # as a TLS proxy forwards
    answer = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["location"] == "/"
    assert answer.headers["set-cookie"] == f"{COOKIE}={TOKEN}; HttpOnly; Path=/; SameSite=strict; Secure"


def test_tokens_are_compared_in_constant_time(open_client, monkeypatch):
    client = open_client(token=TOKEN)
    compared = []

    def compare_digest(a, b):
        compared.append((a, b))
        return hmac_compare(a, b)

    hmac_compare = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    assert client.get("/api/jobs", headers={"authorization": f"Bearer {WRONG}"}).status_code == 403
    assert client.get("/api/jobs", headers={"cookie": f"{COOKIE}={TOKEN}"}).status_code == 200
    assert compared == [(WRONG.encode(), TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]
    # a header can hold any byte: a token that is not ASCII is wrong, not a crash
    assert client.get("/api/jobs", headers={"authorization": "Bearer t\xe9".encode("latin-1")}).status_code == 403


def test_the_guard_refuses_cross_site_writes_before_the_token_gate(open_client):
    client = open_client(token=TOKEN)
    cross_site = client.post(
        "/api/jobs", json={}, headers={"origin": "http://evil.example", "authorization": f"Bearer {TOKEN}"}
    )
    assert cross_site.status_code == 403 and cross_site.json()["message"] == "requests from other web sites are refused"
    # with a token, the token keeps out a page that reaches the server under a name of its own (DNS rebinding)
    assert client.get("/api/jobs", headers={"host": "rebound.example"}).status_code == 401
    # while a proxy may pass on the public name (the loopback-only Host check is for a server without a token)
    assert client.get("/api/jobs", headers={"host": "studio.example", "cookie": f"{COOKIE}={TOKEN}"}).status_code == 200


@pytest.mark.slow
def test_behind_a_tls_proxy_the_cookie_is_secure_and_the_page_may_write(gated):
    """What a proxy on this machine sends (uvicorn trusts its X-Forwarded-Proto from loopback)."""
    proxied = {"host": "studio.example", "x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.7"}
    first = httpx.get(f"{gated.url}/?token={TOKEN}", headers=proxied)
    assert first.status_code == 307 and first.headers["set-cookie"].endswith("; Secure")
    member_page = {**proxied, "cookie": f"{COOKIE}={TOKEN}", "x-filename": "p.jpg"}
    photo = (IMAGES / "tubingen.jpg").read_bytes()
    for origin, status in (("https://studio.example", 201), ("http://studio.example", 403)):
        answer = httpx.post(f"{gated.url}/api/uploads", content=photo, headers={**member_page, "origin": origin})
        assert answer.status_code == status, answer.text


def test_a_websocket_is_closed_without_the_token(open_client):
    client = open_client(token=TOKEN)
    for headers in ({}, {"authorization": f"Bearer {WRONG}"}):
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/events", headers=headers):
            pass
        assert closed.value.code == 1008


def test_loopback_without_a_token_is_open_as_before(open_client):
    client = open_client()
    assert client.get(f"/api/jobs?token={WRONG}", follow_redirects=False).status_code == 200
    assert "set-cookie" not in client.get("/").headers


def test_job_ids_are_random_uuids(data):
    store = Store(data)
    ids = [store.add(MODEL, {}, {}, None)["id"] for _ in range(3)]
    store.close()
    assert len(set(ids)) == 3
    assert all(uuid.UUID(hex=job_id).version == 4 for job_id in ids)  # 122 bits from os.urandom


def test_when_a_token_is_required(monkeypatch):
    monkeypatch.delenv(auth.ENVIRONMENT, raising=False)
    assert server_token("127.0.0.1", None) is None and server_token("::1", None) is None
    made = {server_token(host, None) for host in ("0.0.0.0", "192.168.1.20", "::", "0.0.0.0")}
    assert len(made) == 4 and all(len(token) == 43 for token in made)  # 32 random bytes, new at each start
    assert server_token("0.0.0.0", TOKEN) == TOKEN
    assert TOKEN not in repr(ServerConfig(token=TOKEN))  # a config that ends up in a message does not show it
    monkeypatch.setenv(auth.ENVIRONMENT, WRONG)
    assert server_token("127.0.0.1", None) == WRONG and server_token("127.0.0.1", TOKEN) == TOKEN
    monkeypatch.setenv(auth.ENVIRONMENT, "short")
    with pytest.raises(ImpastoError, match="^IMPASTO_TOKEN is too short to keep others out: use at least 16"):
        server_token("0.0.0.0", None)
    with pytest.raises(ImpastoError, match="^--token may hold only letters, digits and - _ . ~: choose another"):
        server_token("0.0.0.0", "a token; with spaces")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_in_process(monkeypatch, tmp_path, squeezenet_weights, *extra: str) -> list:
    """Runs `impasto serve` in this process up to the point it would serve; returns the app."""
    served = []
    monkeypatch.setattr(serving, "run", lambda app, sock, on_exit: served.append(app))
    monkeypatch.setenv("IMPASTO_OFFLINE", "1")
    argv = ["serve", "--model", MODEL, "--weights", str(squeezenet_weights), "--data", str(tmp_path / "data")]
    assert main([*argv, "--port", str(free_port()), *extra]) == 0
    return served


def test_the_environments_token_works_on_loopback(monkeypatch, capsys, tmp_path, squeezenet_weights):
    monkeypatch.setenv(auth.ENVIRONMENT, TOKEN)
    [app] = serve_in_process(monkeypatch, tmp_path, squeezenet_weights)
    out, err = capsys.readouterr()
    assert f"/?token={TOKEN}  (data: " in out and out.count(TOKEN) == 1 and err == ""
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api/jobs").status_code == 401
        assert client.get("/api/jobs", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_short_token_is_refused_before_anything_is_touched(monkeypatch, capsys, tmp_path, squeezenet_weights):
    monkeypatch.setattr(serving, "run", lambda app, sock, on_exit: pytest.fail("served"))
    argv = ["serve", "--model", MODEL, "--weights", str(squeezenet_weights), "--data", str(tmp_path / "data")]
    assert main([*argv, "--token", "secret"]) == 1
    assert capsys.readouterr().err == (
        "impasto: error: --token is too short to keep others out: use at least 16 characters, "
        "or leave it out to have one generated\n"
    )
    assert not (tmp_path / "data").exists()


def test_uvicorn_keeps_no_access_log(monkeypatch):
    """Its request lines would hold the ?token= of a first visit."""
    configs = []
    monkeypatch.setattr(serving.Server, "run", lambda self, sockets: configs.append(self.config))
    serving.run(lambda scope, receive, send: None, None, on_exit=lambda: None)
    assert configs[0].access_log is False


@pytest.mark.slow
def test_beyond_loopback_a_token_is_made_and_printed_once(tmp_path, squeezenet_weights, server_process):
    server = server_process(tmp_path / "data", tmp_path / "home", squeezenet_weights, "--host", "0.0.0.0")
    try:
        prefix = f"impasto: serving http://0.0.0.0:{server.port}/?token="
        assert server.first_line.startswith(prefix)
        token = server.first_line.removeprefix(prefix).split()[0]
        assert len(token) == 43 and server.first_line.endswith(f"(data: {server.data}; Ctrl-C to stop)")
        assert httpx.get(server.url + "/").status_code == 401  # 0.0.0.0 takes 127.0.0.1's connections too
        assert httpx.get(server.url + "/api/jobs", cookies={COOKIE: WRONG}).status_code == 403
        first = httpx.get(f"{server.url}/?token={token}", follow_redirects=True)
        assert first.status_code == 200 and first.url.path == "/" and not first.url.query  # cookie exchanged
    finally:
        out = printed_after_first_line(server)
    log = server.log.read_text()
    assert "only a browser given the token below gets in; beyond a trusted network, put a reverse proxy" in log
    assert token not in log and token not in out


@pytest.mark.slow
def test_the_token_is_in_no_log_database_or_record(gated):
    """Last: it stops the server, to read all it printed and all it wrote."""
    with member(gated) as client:
        assert (
            httpx.get(f"{gated.url}/api/jobs/{gated.job['id']}?token={TOKEN}", follow_redirects=True).status_code == 200
        )
        assert httpx.get(f"{gated.url}/api/jobs?token={WRONG}").status_code == 403
        jobs = client.get("/api/jobs").text
    assert gated.first_line == f"impasto: serving {gated.url}/?token={TOKEN}  (data: {gated.data}; Ctrl-C to stop)"
    out, log = printed_after_first_line(gated), gated.log.read_text()
    assert TOKEN not in out + log + jobs and WRONG not in out + log
    files = [path for path in gated.data.rglob("*") if path.is_file()]
    assert gated.data / "jobs.sqlite3" in files
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path
    record = read_record(gated.data / "jobs" / gated.job["id"] / "result.png")  # its text chunk may be compressed
    assert TOKEN not in json.dumps(record)
