"""Stopping when converged: a scale ends once the loss stops improving, says why, and resumes exactly."""

from __future__ import annotations

import numpy as np
from snapshots import SnapshotAt

from impasto import Settings, stylize
from impasto.optim.loop import STOP_WINDOW


def run(content_path, style_path, **changes):
    events = []
    settings = Settings(
        **{"weights": "random", "size": 32, "iterations": 150, "style_loss": "gram-relative", **changes}
    )
    image = stylize(content_path, style_path, settings, callback=events.append)
    return image, events


def test_a_converged_run_ends_early_and_says_why(content_path, style_path):
    _, events = run(content_path, style_path, stop_tolerance=0.15)
    last = events[-1]
    assert STOP_WINDOW < last.iteration == last.iterations < 150
    assert last.reason == "converged"
    totals = [e.losses["total"] for e in events[:-1]]
    assert totals[-1 - STOP_WINDOW] - totals[-1] <= 0.15 * totals[-1 - STOP_WINDOW]  # the rule that fired
    assert all(e.reason is None for e in events[:-1])


def test_tolerance_zero_runs_every_iteration(content_path, style_path):
    _, events = run(content_path, style_path, stop_tolerance=0.0)
    assert events[-1].iteration == 150 and events[-1].reason is None


def test_a_run_resumed_past_the_window_stops_where_the_whole_run_did(content_path, style_path):
    keep = SnapshotAt(STOP_WINDOW + 5)
    settings = Settings(weights="random", size=32, iterations=150, stop_tolerance=0.15, style_loss="gram-relative")
    whole = stylize(content_path, style_path, settings, callback=keep)
    events = []
    resumed = stylize(content_path, style_path, settings, resume=keep.resume, callback=events.append)
    assert np.array_equal(np.asarray(whole), np.asarray(resumed))
    assert events[-1].reason == "converged"
