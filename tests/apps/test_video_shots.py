"""Scene cuts split a video into shots, each started afresh: found where two real clips are
joined, never inside one (camera motion, walkers, a moving hand)."""

import pytest
from conftest import SHARED

from impasto.apps.video.io import read_clip
from impasto.apps.video.shots import shot_bounds

CLIPS = {name: SHARED / "video" / f"{name}.mp4" for name in ("walkers", "tree", "box")}
pytestmark = pytest.mark.skipif(not all(p.exists() for p in CLIPS.values()), reason="the shared clips are missing")


@pytest.fixture(scope="module")
def frames() -> dict[str, list]:
    return {name: read_clip(path, 96).frames for name, path in CLIPS.items()}


def test_a_real_clip_is_one_shot(frames):
    for name, clip in frames.items():
        assert shot_bounds(clip) == [(0, len(clip))], name


def test_cuts_between_joined_clips_start_new_shots(frames):
    walkers, tree, box = frames["walkers"], frames["tree"], frames["box"]
    joined = walkers[:4] + tree[:3] + box[:5] + walkers[10:12]
    assert shot_bounds(joined) == [(0, 4), (4, 7), (7, 12), (12, 14)]
    assert shot_bounds(box[:1]) == [(0, 1)]
