"""The web job's engine callback: previews at most a few a second as JPEG, progress counted
over all scales, losses that JSON can carry, and the latest image kept on disk."""

import base64
import io
import json
import time

import torch
from PIL import Image

from impasto import Iterate, Settings
from impasto.apps.web.live import PREVIEW_EVERY, LiveRun, LiveView
from impasto.engine import RunStart
from impasto.record.provenance import read_record
from impasto.record.result import Provenance


def test_previews_are_throttled_and_progress_spans_the_scales(tmp_path, content_path, style_path):
    settings = Settings(model="squeezenet1_1", weights="random")
    provenance = Provenance()
    provenance.on_run_start(RunStart(settings, settings, str(content_path), [str(style_path)], "cpu", "random"))
    events, saved = [], []
    view = LiveView("a" * 32, events.append)  # the server's side, passing each event on
    live = LiveRun("a" * 32, 100, provenance, tmp_path / "latest.png", view.publish, saved.append)
    pixels = torch.rand(1, 3, 24, 32)
    started = time.monotonic()
    for scale, iterations in ((0, 40), (1, 60)):
        for i in range(iterations + 1):
            live.on_iterate(
                Iterate(
                    i, iterations, {"content": 1.0, "style": float("nan"), "total": 10 / (i + 1)}, 0.0, scale, 2, pixels
                )
            )
    elapsed = time.monotonic() - started

    previews = [e for e in events if e["type"] == "preview"]
    assert 3 <= len(previews) <= 3 + elapsed / PREVIEW_EVERY  # each scale's start, the end, and at most 4 a second
    jpeg = base64.b64decode(previews[-1]["image"].removeprefix("data:image/jpeg;base64,"))
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    progress = [e for e in events if e["type"] == "progress"]
    assert (progress[-1]["iteration"], progress[-1]["iterations"]) == (100, 100)
    points = [p for e in progress for p in e["points"]]
    assert [p["i"] for p in points] == list(range(41)) + list(range(40, 101))
    assert points[0] == {"i": 0, "content": 1.0, "style": None, "total": 10.0}
    json.dumps(events, allow_nan=False)  # a browser's JSON.parse has no NaN
    snapshot = view.snapshot()
    assert snapshot["points"] == points and snapshot["preview"] == previews[-1]["image"]
    assert (snapshot["job"], snapshot["iteration"], snapshot["iterations"], snapshot["eta"]) == ("a" * 32, 100, 100, 0)
    assert saved == [0]  # the first image at once, then every few seconds
    assert read_record(tmp_path / "latest.png")["interrupted_at"] == {"scale": 0, "iteration": 0}
