"""Optical flow between frames (OpenCV's DIS, no learned weights), warping by a flow,
and the forward-backward consistency mask of Sundaram et al. (2010).

Flows are (H, W, 2) float32 arrays in pixels, (dx, dy). `flow(a, b)` maps each pixel x
of `a` to where it is in `b`: a(x) ~ b(x + flow(x)), so `warp(b, flow(a, b))` moves `b`
onto `a`'s pixel grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from impasto.errors import ImpastoError


@dataclass(frozen=True)
class Motion:
    """How frame t relates to an earlier frame s: the flow from t to s, and which of t's
    pixels that flow can be trusted for (1) or not (0)."""

    flow: np.ndarray  # (H, W, 2) from frame t to frame s
    visible: np.ndarray  # (H, W) float32: seen in s (not occluded, not outside the frame)
    reliable: np.ndarray  # (H, W) float32: visible and not on a motion boundary


def _cv2():
    try:
        import cv2
    except ImportError as error:
        raise ImpastoError("video needs OpenCV: install it with pip install 'impasto[video]'") from error
    return cv2


def optical_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """DIS flow (OpenCV, medium preset) from `source` to `target`, both (H, W, 3) uint8 RGB."""
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (source, target)]
    return dis.calc(grey[0], grey[1], None).astype(np.float32)


def warp(image: torch.Tensor, flow: np.ndarray) -> torch.Tensor:
    """`image` (B, C, H, W) resampled (bilinear) at x + flow(x): moved onto the grid the
    flow starts from. Samples outside the image take the nearest border pixel."""
    height, width = flow.shape[:2]
    ys, xs = torch.meshgrid(torch.arange(height).float(), torch.arange(width).float(), indexing="ij")
    moved = torch.from_numpy(np.ascontiguousarray(flow)).to(torch.float32)
    gx = (xs + moved[..., 0]) * (2 / max(width - 1, 1)) - 1
    gy = (ys + moved[..., 1]) * (2 / max(height - 1, 1)) - 1
    grid = torch.stack((gx, gy), -1).unsqueeze(0).expand(image.shape[0], -1, -1, -1).to(image.device)
    return F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="border", align_corners=True)


def warp_flow(flow: np.ndarray, by: np.ndarray) -> np.ndarray:
    """The flow field `flow` (of frame s) sampled along `by` (from frame t to s)."""
    field = torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1))).unsqueeze(0)
    return warp(field, by)[0].numpy().transpose(1, 2, 0)


def consistency(backward: np.ndarray, forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sundaram et al.'s checks on the flow `backward` (t -> s) given `forward` (s -> t).

    A pixel is occluded when following the flow there and back does not return to it,
    |w + w'|^2 > 0.01 (|w|^2 + |w'|^2) + 0.5, or when it leaves the frame; it is on a
    motion boundary when |grad u|^2 + |grad v|^2 > 0.01 |w|^2 + 0.002. Returns the
    (visible, reliable) float32 masks: not occluded, and also not on a motion boundary.
    """
    back = warp_flow(forward, backward)
    there_and_back = ((backward + back) ** 2).sum(-1)
    occluded = there_and_back > 0.01 * ((backward**2).sum(-1) + (back**2).sum(-1)) + 0.5
    height, width = backward.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = xs + backward[..., 0], ys + backward[..., 1]
    outside = (x < -0.5) | (x > width - 0.5) | (y < -0.5) | (y > height - 0.5)  # beyond the border pixels' extent
    du_dy, du_dx = np.gradient(backward[..., 0])
    dv_dy, dv_dx = np.gradient(backward[..., 1])
    steep = du_dx**2 + du_dy**2 + dv_dx**2 + dv_dy**2
    boundary = steep > 0.01 * (backward**2).sum(-1) + 0.002
    visible = ~(occluded | outside)
    return visible.astype(np.float32), (visible & ~boundary).astype(np.float32)


def resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A flow field resampled to `size` (width, height) of the same view, its vectors rescaled."""
    height, width = flow.shape[:2]
    if (width, height) == size:
        return flow
    cv2 = _cv2()
    shrink = size[0] < width
    resized = cv2.resize(flow, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return resized * np.array([size[0] / width, size[1] / height], np.float32)


def motion(current: np.ndarray, earlier: np.ndarray, size: tuple[int, int] | None = None) -> Motion:
    """The flow from frame `current` to frame `earlier` (uint8 RGB arrays) and its masks, at
    `size` (width, height; default: the frames'). Flow found on frames larger than the
    output follows small moving objects that a flow found at the output's size blurs away."""
    backward = optical_flow(current, earlier)
    forward = optical_flow(earlier, current)
    if size is not None:
        backward, forward = resize_flow(backward, size), resize_flow(forward, size)
    visible, reliable = consistency(backward, forward)
    return Motion(backward, visible, reliable)
