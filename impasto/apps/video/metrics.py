"""Flicker, measured: the warping error of Lai et al. (2018, "Learning Blind Video Temporal
Consistency"), E = mean over t > 1 of sum(M_t ||O_t - warp(O_{t-1})||^2) / (3 sum M_t),
with the flow and the non-occlusion mask M_t taken from the input frames. Pixel values in
0..1; lower is steadier; the input video's own error is the floor a stylisation can reach."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from impasto.apps.video.flow import Motion, motion, warp
from impasto.apps.video.io import Clip


def clip_motions(clip: Clip) -> list[Motion]:
    """The motion from each frame of the clip to the one before it (frame t -> t-1, for t >= 1)."""
    frames = clip.flow_frames
    return [motion(frames[t], frames[t - 1], clip.size) for t in range(1, len(frames))]


def _pixels(frame: np.ndarray) -> torch.Tensor:
    return torch.tensor(frame).permute(2, 0, 1)[None].float() / 255  # a copy: decoded frames are read-only


def frame_errors(outputs: Sequence[np.ndarray], motions: Sequence[Motion]) -> list[float]:
    """Masked mean squared difference between each output frame and the previous one warped onto it."""
    errors = []
    for t, moved in enumerate(motions, 1):
        mask = torch.from_numpy(moved.visible)
        difference = (_pixels(outputs[t]) - warp(_pixels(outputs[t - 1]), moved.flow)).pow(2).mean(1)[0]
        errors.append(float((mask * difference).sum() / mask.sum().clamp_min(1)))
    return errors


def warping_error(outputs: Sequence[np.ndarray], motions: Sequence[Motion]) -> float:
    """The clip's warping error: the mean of `frame_errors` (0 for a single frame)."""
    errors = frame_errors(outputs, motions)
    return float(np.mean(errors)) if errors else 0.0
