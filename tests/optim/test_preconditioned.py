"""Pyramid-preconditioned L-BFGS: a symmetric positive metric, and more loss gained per evaluation."""

import torch
from features.test_precision import fp32_loss

from impasto import Settings, stylize
from impasto.optim.pyramid import pyramid_metric


def test_pyramid_metric_is_symmetric_positive_and_favours_coarse_changes() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(1, 3, 40, 56, generator=generator) for _ in range(2))
    ma, mb = pyramid_metric(a, 4, 0.5), pyramid_metric(b, 4, 0.5)
    assert torch.allclose((a * mb).sum(), (ma * b).sum(), rtol=1e-4)
    assert (a * ma).sum() > (a * a).sum() > 0
    flat = torch.ones(1, 3, 40, 56)
    gain_flat = (pyramid_metric(flat, 4, 0.5) * flat).sum() / (flat * flat).sum()
    gain_noise = (a * ma).sum() / (a * a).sum()
    assert gain_flat > 2 * gain_noise  # a uniform change moves faster than pixel noise


def test_pyramid_lbfgs_beats_plain_lbfgs_at_equal_evaluations(content_path, style_path, squeezenet_weights) -> None:
    base = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        iterations=30,
        device="cpu",
        precision="fp32",
        scales=1,
        init="content",
    )
    losses = {}
    for optimizer in ("lbfgs", "lbfgs-pyramid"):
        settings = Settings(**{**base.to_dict(), "optimizer": optimizer})
        seen = []
        result = stylize(content_path, style_path, settings, callback=lambda it, seen=seen: seen.append(it.pixels))
        assert all(0 <= p.min() and p.max() <= 1 for p in seen)  # every reported image is valid
        losses[optimizer] = fp32_loss(result, content_path, style_path, base)
    assert losses["lbfgs-pyramid"] < losses["lbfgs"]


def test_pyramid_lbfgs_takes_no_step_at_a_zero_gradient() -> None:
    from impasto.optim.pyramid import PyramidLBFGS

    pixels = torch.full((1, 3, 12, 12), 0.5, requires_grad=True)
    optimizer = PyramidLBFGS([pixels], lr=1.0, history=5)

    def closure() -> torch.Tensor:  # a flat loss, as with every weight at the start image zero
        optimizer.zero_grad()
        loss = (pixels * 0).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert torch.equal(pixels.detach(), torch.full((1, 3, 12, 12), 0.5))
