"""Scene cuts split a video into shots, each started afresh: found where two clips are
joined, never inside one (camera motion, walkers, a moving print)."""

import pytest

from impasto.apps.video.io import read_clip
from impasto.apps.video.shots import shot_bounds


@pytest.fixture(scope="module")
def frames(clips) -> dict[str, list]:
    return {name: read_clip(path, 96).frames for name, path in clips.items()}


def test_a_real_clip_is_one_shot(frames):
    for name, clip in frames.items():
        assert shot_bounds(clip) == [(0, len(clip))], name


def test_cuts_between_joined_clips_start_new_shots(frames):
    walkers, pan, box = frames["walkers"], frames["pan"], frames["box"]
    joined = walkers[:4] + pan[:3] + box[:5] + walkers[10:12]
    assert shot_bounds(joined) == [(0, 4), (4, 7), (7, 12), (12, 14)]
    assert shot_bounds(box[:1]) == [(0, 1)]
