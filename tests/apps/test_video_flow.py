"""Optical flow, warping, the consistency masks, the temporal loss and the warping error,
on images whose motion is known exactly."""

import numpy as np
import pytest
import torch

from impasto.apps.video.flow import consistency, motion, optical_flow, warp
from impasto.apps.video.metrics import warping_error
from impasto.apps.video.temporal import TemporalLoss, long_term_weights

pytest.importorskip("cv2")


def texture(height=64, width=80, seed=0):
    """A smooth random RGB texture (uint8): enough structure for optical flow to lock on."""
    noise = torch.rand(1, 3, height // 4, width // 4, generator=torch.Generator().manual_seed(seed))
    smooth = torch.nn.functional.interpolate(noise, size=(height, width), mode="bicubic", align_corners=False)
    return (smooth[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def constant_flow(height, width, dx, dy):
    flow = np.zeros((height, width, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_warp_by_a_known_shift_moves_every_pixel_exactly():
    image = torch.rand(1, 3, 20, 30)
    warped = warp(image, constant_flow(20, 30, 3, -2))  # pixel (y, x) takes image(y - 2, x + 3)
    assert torch.allclose(warped[..., 2:, :-3], image[..., :-2, 3:], atol=1e-5)


def test_warp_by_half_a_pixel_interpolates_neighbours():
    image = torch.rand(1, 1, 8, 8)
    warped = warp(image, constant_flow(8, 8, 0.5, 0))
    assert torch.allclose(warped[..., :-1], (image[..., :-1] + image[..., 1:]) / 2, atol=1e-5)


def test_dis_flow_finds_a_known_shift_and_warping_undoes_it():
    earlier = texture()
    current = np.roll(earlier, shift=(2, -3), axis=(0, 1))  # the scene moved 3 px left and 2 px down
    flow = optical_flow(current, earlier)
    inner = flow[8:-8, 8:-8]
    assert np.allclose(np.median(inner.reshape(-1, 2), 0), (3, -2), atol=0.25)
    pixels = [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in (current, earlier)]
    moved = warp(pixels[1], flow)
    assert (moved - pixels[0])[..., 8:-8, 8:-8].abs().mean() < 0.25 * (pixels[1] - pixels[0]).abs().mean()


def square_motion():
    """Frame s has a square at columns 20..29, frame t has it at 25..34 (moved 5 px right)
    over a still background: the exact backward (t -> s) and forward (s -> t) flows."""
    backward, forward = np.zeros((40, 60, 2), np.float32), np.zeros((40, 60, 2), np.float32)
    backward[10:30, 25:35, 0] = -5
    forward[10:30, 20:30, 0] = 5
    return backward, forward


def test_occlusion_mask_marks_exactly_the_uncovered_background():
    visible, _ = consistency(*square_motion())
    uncovered = np.zeros((40, 60), bool)
    uncovered[10:30, 20:25] = True  # behind the square in frame s, in view in frame t
    assert np.array_equal(visible == 0, uncovered)


def test_reliable_mask_also_drops_motion_boundaries_and_pixels_leaving_the_frame():
    backward, forward = square_motion()
    visible, reliable = consistency(backward, forward)
    assert reliable[20, 34] == 0 and visible[20, 34] == 1  # the square's right edge: a motion boundary
    assert reliable[20, 30] == 1 and reliable[5, 5] == 1  # inside the square; the still background
    visible, _ = consistency(constant_flow(40, 60, -3, 0), constant_flow(40, 60, 3, 0))  # camera pans
    assert (visible[:, :3] == 0).all() and (visible[:, 3:] == 1).all()  # columns 0..2 were out of frame s


def test_motion_of_a_real_shift_trusts_the_interior():
    earlier = texture(seed=1)
    moved = motion(np.roll(earlier, 4, axis=1), earlier)
    assert moved.visible[8:-8, 8:-8].mean() > 0.95 and moved.visible[:, :3].mean() < 0.5


def test_temporal_loss_counts_only_weighted_pixels():
    warped = torch.rand(1, 3, 8, 8)
    weights = torch.zeros(1, 1, 8, 8)
    weights[..., :4] = 1
    loss = TemporalLoss(warped, weights)
    image = warped.clone()
    image[..., 4:] = 0  # differs only where the weight is 0
    assert loss(image, {}).item() == 0
    image[..., :4] += 0.5
    assert loss(image, {}).item() == pytest.approx(0.25 * 0.5)  # mean over all 3*8*8 values, half weighted


def test_long_term_weights_tie_each_pixel_to_its_nearest_earlier_frame():
    nearest, older = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[1.0, 1.0, 0.0]])
    weights = long_term_weights([nearest, older])
    assert weights.tolist() == [[[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]]


def test_warping_error_is_zero_for_a_video_that_follows_its_flow():
    earlier = texture(seed=2)
    frames = [earlier, np.roll(earlier, 2, axis=1)]
    moved = motion(frames[1], frames[0])
    assert warping_error(frames, [moved]) < 1e-3
    flicker = [frames[0], np.clip(frames[1].astype(int) + 40, 0, 255).astype(np.uint8)]
    assert warping_error(flicker, [moved]) > 0.01


def test_flow_found_on_larger_frames_is_rescaled_to_the_output_size():
    earlier = texture(128, 160, seed=3)
    moved = motion(np.roll(earlier, -4, axis=1), earlier, size=(80, 64))  # 4 px at 160 wide is 2 px at 80
    assert moved.flow.shape == (64, 80, 2) and moved.visible.shape == (64, 80)
    assert np.allclose(np.median(moved.flow[8:-8, 8:-8].reshape(-1, 2), 0), (2, 0), atol=0.2)
