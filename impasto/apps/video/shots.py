"""Cutting a video into shots at its scene cuts: across a cut the previous frame says
nothing about the next, so each shot starts afresh (a full run from the chosen init), and
shots can be stylised independently, on different Ray workers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CUT_DISTANCE = 0.3
"""Total-variation distance between consecutive frames' colour histograms above which a
scene cut is seen. Measured on the clips in ../shared/video: at most 0.034 between frames
of one shot (camera motion, people walking, a hand moving an object), 0.64-0.71 across a
cut between two of them."""


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """A frame's (H, W, 3 uint8) distribution over 8x8x8 colour bins, from every other pixel."""
    bins = (frame[::2, ::2] // 32).reshape(-1, 3).astype(np.int64)
    counts = np.bincount(bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2], minlength=512)
    return counts / counts.sum()


def shot_bounds(frames: Sequence[np.ndarray]) -> list[tuple[int, int]]:
    """[(first, end), ...]: the frames of each shot, end exclusive, covering every frame."""
    histograms = [colour_histogram(frame) for frame in frames]
    cuts = [i for i in range(1, len(frames)) if 0.5 * np.abs(histograms[i] - histograms[i - 1]).sum() > CUT_DISTANCE]
    starts = [0, *cuts]
    return list(zip(starts, [*cuts, len(frames)]))
