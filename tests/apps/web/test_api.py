"""The web app's HTTP API through Starlette's TestClient: the form from Settings, uploads
and every way they are refused, validation errors tied to their field, the queue, stop,
downloads, restart recovery, and traversal attempts."""

import dataclasses
import hashlib
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from impasto.apps.web.form import SERVER_FIELDS
from impasto.apps.web.store import Store
from impasto.defaults import resolve
from impasto.errors import ImpastoError
from impasto.image.io import MAX_INPUT_PIXELS
from impasto.record.provenance import read_record, save_with_record
from impasto.settings import Settings

SMALL = {"size": "64", "iterations": "8", "style_loss": "gram-relative"}
"""Runs as small as the tests allow; their style loss is one whose cost, unlike w2's
eigendecompositions, shrinks with the image (these tests are about the queue, not the loss)."""


def submit(client, content, styles, **settings):
    return client.post("/api/jobs", json={"settings": {**SMALL, **settings}, "content": content, "styles": styles})


def test_form_is_built_from_settings(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    form = client.get("/api/config").json()
    fields = {f["name"]: f for f in form["fields"]}
    expected = [f for f in dataclasses.fields(Settings) if f.name not in SERVER_FIELDS]
    assert set(fields) == {f.name for f in expected}
    assert not [f for f in expected if "FILE" in f.metadata.get("metavar", "")]  # no path from a browser
    for f in expected:
        if f.name != "model":
            default = list(f.default) if isinstance(f.default, tuple) else f.default
            assert fields[f.name]["default"] == default, f.name
        assert fields[f.name]["help"]
    assert fields["model"]["default"] == "squeezenet1_1"  # the server's network, not Settings'
    assert fields["init"]["choices"] == ["content", "palette", "gaussian", "uniform", "blend"]
    assert form["models"] == {"vgg19": "VGG-19", "squeezenet1_1": "SqueezeNet 1.1"}
    assert form["network_defaults"]["squeezenet1_1"]["content_layers"] == ["fire4"]
    for asset in ("app.js", "form.js", "chart.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_uploads_are_typed_by_content_and_named_by_hash(client, encoded, data):
    png = encoded("tubingen.jpg", 90, "PNG")
    answer = client.post("/api/uploads", content=png, headers={"X-Filename": "holiday%20photo.jpg"})
    assert answer.status_code == 201
    upload = answer.json()
    assert upload == {
        "id": hashlib.sha256(png).hexdigest()[:32],
        "name": "holiday photo.jpg",
        "width": 90,
        "height": 68,
    }
    assert (data / "uploads" / f"{upload['id']}.png").read_bytes() == png  # a PNG whatever its name said
    thumb = client.get(f"/api/uploads/{upload['id']}/thumb")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (90, 68)
    assert list((data / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"just some text, not a picture", 415, "fake.png is not a PNG, JPEG"),
        (b"", 400, "fake.png is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 415, "fake.png"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", 415, "not a PNG, JPEG"),
    ],
)
def test_fake_typed_uploads_are_refused(client, data, body, status, words):
    answer = client.post("/api/uploads", content=body, headers={"X-Filename": "fake.png"})
    assert answer.status_code == status
    assert answer.json()["field"] == "images" and words in answer.json()["message"]
    assert list((data / "uploads").iterdir()) == [] and list((data / "tmp").iterdir()) == []


def test_oversized_uploads_are_refused_early(client, data):
    declared = client.post("/api/uploads", content=b"\0" * (100 * 2**20), headers={"X-Filename": "big.jpg"})
    assert declared.status_code == 413
    assert declared.json()["message"] == "big.jpg is over the 50 MB upload limit: use a smaller file"

    sent = []

    def chunks():  # no Content-Length: the server counts while it reads, and stops
        for _ in range(100):
            sent.append(1)
            yield b"\0" * 2**20

    streamed = client.post("/api/uploads", content=chunks(), headers={"X-Filename": "big.jpg"})
    assert streamed.status_code == 413 and "50 MB" in streamed.json()["message"]
    assert list((data / "tmp").iterdir()) == [] and list((data / "uploads").iterdir()) == []


def _png_header_only(width, height):
    """A PNG that claims width x height pixels in a few dozen bytes: a decompression bomb's header."""

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def test_images_over_the_pixel_limit_are_refused(client):
    answer = client.post("/api/uploads", content=_png_header_only(30_000, 30_000), headers={"X-Filename": "bomb.png"})
    assert answer.status_code == 415
    message = answer.json()["message"]
    assert "bomb.png is too large" in message and f"{MAX_INPUT_PIXELS:,} pixels" in message


@pytest.mark.parametrize(
    "settings, field, message",
    [
        ({"size": "abc"}, "size", "Size must be a whole number, got 'abc'"),
        ({"size": "100000"}, "size", "Size is at most 2048 pixels on this server (impasto serve --max-size)"),
        ({"iterations": ""}, "iterations", "Iterations needs a value"),
        ({"weights": "/etc/passwd"}, None, "'weights' cannot be set from the page: the server chooses it"),
        ({"content_mask": "../../mask.png"}, None, "'content_mask' cannot be set from the page: the server chooses it"),
    ],
)
def test_settings_errors_name_their_field(client, pair, settings, field, message):
    answer = submit(client, pair[0], [pair[1]], **settings)
    assert answer.status_code == 400
    assert answer.json() == {"field": field, "message": message}
    assert client.get("/api/jobs").json() == []


@pytest.mark.parametrize(
    "field, text, value, label",
    [
        ("size", "0", 0, "Size"),
        ("style_weight", "-1", -1.0, "Style weight"),
        ("init", "zebra", "zebra", "Initial image"),
        ("model", "alexnet", "alexnet", "Network"),
        ("style_layer_weights", "1, 2", (1.0, 2.0), "Style layer weights"),
    ],
)
def test_settings_messages_are_the_engines_with_the_fields_label(client, pair, field, text, value, label):
    with pytest.raises(ImpastoError) as engine:
        resolve(Settings(**{"model": "squeezenet1_1", field: value}))
    answer = submit(client, pair[0], [pair[1]], **{field: text})
    assert answer.status_code == 400
    assert answer.json() == {"field": field, "message": str(engine.value).replace(field, label, 1)}


def test_a_run_needs_both_images(client, pair):
    assert submit(client, None, [pair[1]]).json()["field"] == "content"
    assert submit(client, pair[0], []).json()["field"] == "styles"
    missing = submit(client, {"id": "0" * 32, "name": "gone.jpg"}, [pair[1]])
    assert missing.json() == {
        "field": "images",
        "message": "an image of this run is no longer on the server: upload it again",
    }


def finished_job(data, inputs=None):
    """A job that has run, as a server leaves it in the data folder (no run needed)."""
    store = Store(data)
    job = store.add("squeezenet1_1", {**SMALL, "model": "squeezenet1_1"}, inputs or {"content": {}, "styles": []}, None)
    store.update(job["id"], state="done", message="finished 8 iterations")
    (data / "jobs" / job["id"]).mkdir()
    Image.new("RGB", (64, 48), "teal").save(data / "jobs" / job["id"] / "result.png")
    store.close()
    return job


def test_traversal_attempts_touch_nothing(open_client, data, encoded):
    job = finished_job(data)
    client = open_client()
    outside = data.parent / "x.png"
    answer = client.post(
        "/api/uploads", content=encoded("tubingen.jpg", 40, "PNG"), headers={"X-Filename": "../../x.png"}
    )
    assert answer.json()["name"] == "x.png" and not outside.exists()
    for bad in ("../../x.png", "..%2F..%2Fx", "/etc/passwd", "A" * 32):
        assert submit(client, {"id": bad, "name": "x"}, [answer.json()]).json()["field"] == "content"
    assert client.get(f"/api/jobs/{job['id']}/files/result.png").status_code == 200
    for path in (
        f"/api/jobs/{job['id']}/files/..%2Fjobs.sqlite3",
        f"/api/jobs/{job['id']}/files/..%2F..%2Fjobs.sqlite3",
        f"/api/jobs/{job['id']}/files/inputs%2Fcontent.jpg",
        "/api/jobs/..%2F..%2Fjobs.sqlite3/files/result.png",
        "/api/jobs/../../jobs.sqlite3",
        "/static/..%2F..%2Fstore.py",
        "/static/../server.py",
        "/api/uploads/..%2F..%2Fjobs.sqlite3/thumb",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert b"SQLite" not in answer.content and b"import" not in answer.content
    assert client.post("/api/jobs/..%2F..%2Fx/stop").status_code == 404
    assert not outside.exists()


def test_foreign_hosts_and_cross_site_writes_are_refused(client, encoded):
    assert client.get("/api/config", headers={"Host": "evil.example:8765"}).status_code == 403
    assert client.get("/api/config", headers={"Host": "localhost:8765"}).status_code == 200
    cross = client.post("/api/uploads", content=encoded("tubingen.jpg", 40), headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and cross.json()["message"] == "requests from other web sites are refused"
    same = client.post("/api/uploads", content=encoded("tubingen.jpg", 40), headers={"Origin": "http://127.0.0.1:8765"})
    assert same.status_code == 201


def test_jobs_queue_run_one_at_a_time_and_stop_keeps_the_image(client, pair, wait_for, data):
    long = submit(client, pair[0], [pair[1]], iterations="2000").json()
    short = submit(client, pair[0], [pair[1]], iterations="2", seed="3").json()
    cancelled = submit(client, pair[0], [pair[1]]).json()
    assert [long["state"], short["state"], cancelled["state"]] == ["queued"] * 3
    wait_for(client, long["id"], lambda job: job["state"] == "running")
    assert client.get(f"/api/jobs/{short['id']}").json()["state"] == "queued"  # one job at a time
    assert client.post(f"/api/jobs/{cancelled['id']}/stop").json()["state"] == "cancelled"
    wait_for(
        client, long["id"], lambda job: job["iteration"] > 0 or (data / "jobs" / long["id"] / "latest.png").exists()
    )
    client.post(f"/api/jobs/{long['id']}/stop")
    stopped = wait_for(client, long["id"], lambda job: job["state"] != "running")
    assert stopped["state"] == "stopped" and 0 <= stopped["iteration"] < 2000
    assert stopped["message"].startswith("stopped at iteration")
    assert {"result.png", "animation.gif", "comparison.png", "thumb.jpg"} <= set(stopped["files"])
    done = wait_for(client, short["id"], lambda job: job["state"] not in ("queued", "running"))
    assert done["state"] == "done" and done["iteration"] == 2
    assert client.get(f"/api/jobs/{cancelled['id']}").json()["state"] == "cancelled"
    assert not (data / "jobs" / cancelled["id"] / "result.png").exists()


def test_downloads_are_the_run_with_its_record(client, pair, wait_for, tmp_path):
    job = submit(client, pair[0], [pair[1]], iterations="3", seed="7", style_weight="500").json()
    job = wait_for(client, job["id"], lambda job: job["state"] == "done")
    result = client.get(f"/api/jobs/{job['id']}/files/result.png?download")
    assert result.headers["content-disposition"] == f'attachment; filename="impasto-{job["id"][:8]}-result.png"'
    saved = tmp_path / "result.png"
    saved.write_bytes(result.content)
    assert Image.open(saved).size == (64, 48)
    record = read_record(saved)
    assert record["settings"]["seed"] == 7 and record["settings"]["style_weight"] == 500.0
    assert record["settings"]["model"] == "squeezenet1_1" and record["weights_sha256"]
    gif = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/files/animation.gif").content))
    assert gif.format == "GIF" and gif.n_frames > 2
    sheet = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/files/comparison.png").content))
    assert sheet.width > 3 * 64
    assert client.get(f"/api/jobs/{job['id']}/files/latest.png").status_code == 404


def test_restart_keeps_the_gallery_and_marks_a_dead_run_interrupted(open_client, data):
    finished = finished_job(data)
    # What a server that died mid-run leaves: a job marked running, and its latest image.
    store = Store(data)
    dead = store.add("squeezenet1_1", {**SMALL, "model": "squeezenet1_1"}, {"content": {}, "styles": []}, None)
    store.claim(dead["id"])
    store.update(dead["id"], iteration=3, iterations=8)
    (data / "jobs" / dead["id"]).mkdir()
    save_with_record(Image.new("RGB", (64, 48), "olive"), data / "jobs" / dead["id"] / "latest.png", {"settings": {}})
    store.close()

    client = open_client()
    jobs = {job["id"]: job for job in client.get("/api/jobs").json()}
    assert jobs[finished["id"]]["state"] == "done" and "result.png" in jobs[finished["id"]]["files"]
    recovered = jobs[dead["id"]]
    assert recovered["state"] == "interrupted"
    assert recovered["message"] == "the server stopped during this run; kept its image from iteration 3"
    result = client.get(f"/api/jobs/{dead['id']}/files/result.png")
    assert Image.open(io.BytesIO(result.content)).getpixel((0, 0)) == (128, 128, 0)
    assert "thumb.jpg" in recovered["files"] and not (data / "jobs" / dead["id"] / "latest.png").exists()


def test_settings_are_stored_as_given_for_run_again(client, pair, wait_for):
    job = submit(
        client, pair[0], [pair[1]], style_layers="relu1, fire2", preserve_color="luminance", normalize_vgg=False
    ).json()
    assert job["settings"] == {
        "size": 64,
        "iterations": 8,
        "style_loss": "gram-relative",
        "style_layers": ["relu1", "fire2"],
        "preserve_color": "luminance",
        "normalize_vgg": False,
        "model": "squeezenet1_1",
    }
    assert job["inputs"]["content"]["name"] == "tubingen.jpg" and job["inputs"]["styles"][0]["file"] == "style-1.jpg"
    again = client.post(
        "/api/jobs",
        json={
            "settings": {**job["settings"], "seed": 4},
            "content": job["inputs"]["content"],
            "styles": job["inputs"]["styles"],
            "parent": job["id"],
        },
    ).json()
    assert again["parent"] == job["id"] and again["settings"]["seed"] == 4
    assert json.loads(json.dumps(again["settings"]))["style_layers"] == ["relu1", "fire2"]


def test_stopping_the_server_keeps_the_running_image_and_the_queue(open_client, client, pair, wait_for, data):
    running = submit(client, pair[0], [pair[1]], iterations="2000").json()
    waiting = submit(client, pair[0], [pair[1]], iterations="2").json()
    wait_for(client, running["id"], lambda job: (data / "jobs" / job["id"] / "latest.png").exists())
    client.__exit__(None, None, None)  # the server shuts down (Ctrl-C)

    client = open_client()
    interrupted = client.get(f"/api/jobs/{running['id']}").json()
    assert interrupted["state"] == "interrupted" and interrupted["message"].startswith(
        "the server stopped at iteration"
    )
    assert {"result.png", "animation.gif", "comparison.png"} <= set(interrupted["files"])
    assert wait_for(client, waiting["id"], lambda job: job["state"] == "done")["iteration"] == 2


def test_stop_pressed_as_a_job_starts_keeps_its_first_image(client, pair, wait_for, monkeypatch):
    """Stop before the first iteration: the job is stopped with its starting image and a one-frame
    animation, not failed with an internal error."""
    import impasto.apps.web.jobs as jobs

    class StoppedAtOnce(jobs.StopToken):
        def __init__(self) -> None:
            super().__init__()
            self.stop()

    monkeypatch.setattr(jobs, "StopToken", StoppedAtOnce)
    job = submit(client, pair[0], [pair[1]]).json()
    ended = wait_for(client, job["id"], lambda job: job["state"] not in ("queued", "running"))
    assert ended["state"] == "stopped" and ended["iteration"] == 0, ended["message"]
    assert {"result.png", "animation.gif", "comparison.png"} <= set(ended["files"])
    gif = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/files/animation.gif").content))
    assert gif.n_frames == 1
