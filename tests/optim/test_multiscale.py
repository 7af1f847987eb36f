"""Coarse-to-fine schedules and runs, and Adam's iterate average."""

import math

import pytest
import torch

from impasto import ImpastoError, Settings, stylize
from impasto.defaults import resolve
from impasto.features.registry import spec
from impasto.optim.callbacks import CallbackList
from impasto.optim.loop import IterateAverage, OptimizerFactory, Steps, optimize
from impasto.optim.optimizers import optimizer_for
from impasto.optim.schedule import default_scales, relative_cost, scale_sizes, split_iterations


def test_scale_sizes_grow_by_sqrt2_up_to_the_output_size():
    assert scale_sizes(512) == [512]
    assert scale_sizes(512, scales=3) == [256, 362, 512]
    assert scale_sizes(512, min_size=256) == [256, 362, 512]
    assert scale_sizes(512, min_size=200) == [256, 362, 512]
    assert scale_sizes(512, scales=4, min_size=64) == [64, 128, 256, 512]
    with pytest.raises(ImpastoError, match="min_size"):
        scale_sizes(512, min_size=600)
    with pytest.raises(ImpastoError, match="too many"):
        scale_sizes(4, scales=8)


def test_default_scales_start_at_256_px_or_below_but_not_under_128_px_with_one_iteration_each():
    sizes = (64, 180, 181, 255, 256, 512, 600, 1024, 4096)
    assert [default_scales(size, 500) for size in sizes] == [1, 1, 2, 2, 3, 3, 4, 5, 9]
    assert scale_sizes(1024, default_scales(1024, 500))[0] == 256
    assert default_scales(512, 2) == 2 and default_scales(512, 1) == 1


def test_unnamed_scales_resolve_to_the_default_and_its_strength_halves_per_coarse_scale():
    def resolved(**given):
        settings = resolve(Settings(model="squeezenet1_1", **given))
        return settings.scales, settings.style_weight

    assert resolved() == (3, 5.0)  # 256, 362, 512 px
    assert resolved(size=1024) == (5, 5.0)  # from 256 px; the strength halves up to three scales
    assert resolved(size=64) == (1, 20.0)  # too small for a coarser scale
    assert resolved(size=200) == (2, 10.0)
    assert resolved(scales=1) == (1, 20.0)
    assert resolved(scales=3, style_weight=7.0) == (3, 7.0)  # a given weight is kept
    assert resolved(scale_iterations=(10, 5)) == (2, 10.0)  # one scale per count
    assert resolved(iterations=2) == (2, 10.0)  # at least one iteration per scale
    assert resolved(style_loss="gram")[1] == spec("squeezenet1_1").style_weight  # the paper's loss: the net's own
    assert resolved(min_size=64, size=512)[0] is None  # min_size picks the count in scale_sizes


def test_iterations_are_split_with_most_at_the_small_sizes():
    counts = split_iterations(500, 3)
    assert sum(counts) == 500 and counts == sorted(counts, reverse=True)
    assert counts[0] / counts[1] == pytest.approx(math.sqrt(2), rel=0.02)
    assert split_iterations(3, 3) == [1, 1, 1]
    with pytest.raises(ImpastoError, match="fewer than the 3 scales"):
        split_iterations(2, 3)
    assert relative_cost([256, 512], [100, 100]) == pytest.approx(125)


def test_multiresolution_run_visits_the_sizes_in_order_and_lowers_the_loss(
    content_path, style_path, squeezenet_weights
):
    log = []
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        scales=3,
        iterations=30,
        style_weight=20,
        init="content",
    )
    result = stylize(content_path, style_path, settings, callback=log.append)
    sizes = scale_sizes(80, scales=3)
    counts = split_iterations(30, 3)
    for scale, (size, count) in enumerate(zip(sizes, counts)):
        steps = [it for it in log if it.scale == scale]
        assert all(it.scales == 3 and it.iterations == count for it in steps)
        assert [it.iteration for it in steps] == list(range(count + 1))
        assert max(steps[0].pixels.shape[-2:]) == size
        assert steps[-1].losses["total"] < steps[0].losses["total"]
    assert [it.scale for it in log] == sorted(it.scale for it in log)
    assert result.size == (80, 60)
    # each finer scale starts from the upsampled coarser result, far below a fresh start's loss
    assert [it for it in log if it.scale == 2][0].losses["total"] < 0.5 * log[0].losses["total"]


def test_per_scale_iterations_must_match_the_scales(content_path, style_path):
    settings = Settings(weights="random", size=32, scales=2, scale_iterations=(3, 2, 1))
    with pytest.raises(ImpastoError, match="scale_iterations has 3 counts for 2 scale"):
        stylize(content_path, style_path, settings)


def test_iterate_average_is_bias_corrected():
    average = IterateAverage(0.9)
    for _ in range(3):
        average.update(torch.full((2,), 0.5))
    assert torch.allclose(average.value(), torch.full((2,), 0.5))


def test_adam_returns_the_moving_average_of_its_iterates():
    target = torch.rand(1, 3, 8, 8)

    def objective(pixels):
        total = (pixels - target).pow(2).sum()
        return {"content": total, "style": total * 0, "tv": total * 0, "total": total}

    adam = OptimizerFactory(lambda pixels: optimizer_for("adam").build(pixels, 0.05))
    result, _ = optimize(objective, torch.zeros(1, 3, 8, 8), adam, Steps(20, ema_decay=0.8))
    iterates = []  # a longer plain run reports the same trajectory: iterate k before step k + 1
    optimize(objective, torch.zeros(1, 3, 8, 8), adam, Steps(21), CallbackList([lambda it: iterates.append(it.pixels)]))
    expected, weight = torch.zeros_like(target), 0.0
    for pixels in iterates[1:21]:
        expected = 0.8 * expected + 0.2 * pixels
        weight = 0.8 * weight + 0.2
    assert torch.allclose(result, expected / weight, atol=1e-6)
    assert not torch.allclose(result, iterates[20], atol=1e-3)  # the average, not the last iterate
    assert resolve(Settings(optimizer="adam")).ema_decay > 0
    assert resolve(Settings()).ema_decay == 0


def test_a_run_naming_no_scales_goes_coarse_to_fine(content_path, style_path):
    log = []
    stylize(
        content_path,
        style_path,
        Settings(model="squeezenet1_1", weights="random", size=181, iterations=4),
        callback=log.append,
    )
    assert [(it.scale, it.scales, max(it.pixels.shape[-2:])) for it in log if it.iteration == 0] == [
        (0, 2, 128),
        (1, 2, 181),
    ]
