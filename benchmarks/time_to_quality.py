"""Time to quality: how long impasto's default mode takes to reach the paper mode's loss.

Both modes run on the same network (SqueezeNet 1.1, real weights) and images; every loss
is measured afterwards, in fp32, on the 8-bit image that would be saved, by the same
fp32 network, so that precision and parametrisation cannot flatter a mode. It is the
`quality` section of the speed benchmark:

    python3 -m benchmarks.speed --sections quality [--quick] [--ablations]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import torch

from benchmarks.common import CONTENT, STYLE, show, squeezenet_weights
from benchmarks.objectives import pick_device
from impasto import Iterate, Settings, stylize
from impasto.defaults import resolve
from impasto.engine import reference_objective


def paper_mode(size: int, evaluations: int) -> Settings:
    """Gatys et al.: single scale, L-BFGS (history 50) clamped every step, fp32, content init."""
    return Settings(
        model="squeezenet1_1",
        weights=squeezenet_weights(),
        size=size,
        optimizer="lbfgs",
        iterations=evaluations,
        lr=1.0,
        init="content",
        precision="fp32",
        scales=1,
    )


def candidates(size: int, evaluations: int, ablations: bool = False) -> dict[str, Settings]:
    """impasto's default mode (and, with `ablations`, each of its levers alone) on the paper's network
    and size, with `evaluations` at the final size, so that a mode may need more than the paper's."""
    paper = paper_mode(size, evaluations)
    default = Settings(model="squeezenet1_1", weights=squeezenet_weights(), size=size, iterations=evaluations)
    modes = {"default mode": default}
    if ablations:
        modes["paper + auto precision only"] = dataclasses.replace(paper, precision="auto")
        modes["paper + lbfgs-pyramid only"] = dataclasses.replace(paper, optimizer="lbfgs-pyramid")
        modes["paper + 2 scales only"] = dataclasses.replace(paper, scales=2, scale_iterations=(200, evaluations))
    return modes


def timed_run(settings: Settings, every: int) -> list[tuple[float, int, torch.Tensor]]:
    """(seconds since the call, iteration, pixels) every `every` iterations of the last scale, and at its end."""
    snapshots = []
    began = time.perf_counter()

    def keep(iterate: Iterate) -> None:
        last = iterate.scale == iterate.scales - 1
        if last and (iterate.iteration % every == 0 or iterate.iteration == iterate.iterations):
            assert iterate.pixels is not None  # every event carries its image
            snapshots.append((time.perf_counter() - began, iterate.iteration, iterate.pixels.clone()))

    stylize(CONTENT, STYLE, settings, callback=keep)
    return snapshots


def saved_loss_meter(settings: Settings, device: torch.device) -> Callable[[torch.Tensor], float]:
    """A function from pixels to the fp32 total loss of their 8-bit rounding."""
    objective = reference_objective(CONTENT, STYLE, settings, device)

    @torch.no_grad()
    def measure(pixels: torch.Tensor) -> float:
        return objective((pixels.clamp(0, 1) * 255).round() / 255)["total"].item()

    return measure


def quality_section(quick: bool, device_name: str, ablations: bool = False) -> dict:
    """Paper-mode time and loss; for each candidate, the time to reach that loss and the ratio."""
    size, evaluations = (256, 100) if quick else (512, 300)
    device = pick_device(device_name)
    paper = dataclasses.replace(paper_mode(size, evaluations), device=device_name)
    measure = saved_loss_meter(paper, device)
    timed_run(dataclasses.replace(paper, iterations=20), 20)  # warm-up, so that no mode pays for it
    paper_seconds, _, paper_pixels = timed_run(paper, evaluations)[-1]
    target = measure(paper_pixels)
    rows: list[dict[str, Any]] = [
        {
            "mode": "paper",
            "seconds_to_paper_loss": round(paper_seconds, 1),
            "evaluations": evaluations,
            "paper loss": round(target, 5),
            "ratio": 1.0,
        }
    ]
    show(rows[0])
    budget = evaluations * 3 // 2  # candidates may take more (cheaper) evaluations than the paper's
    for name, settings in candidates(size, budget, ablations).items():
        runs = timed_run(dataclasses.replace(settings, device=device_name), 5)
        reached = next(((t, i) for t, i, pixels in runs if measure(pixels) <= target), None)
        rows.append(
            {
                "mode": name,
                "seconds_to_paper_loss": None if reached is None else round(reached[0], 1),
                "evaluations": None if reached is None else reached[1],
                f"loss after {budget} evaluations": round(measure(runs[-1][2]), 5),
                "ratio": None if reached is None else round(paper_seconds / reached[0], 2),
            }
        )
        show(rows[-1])
    resolved = resolve(candidates(size, evaluations)["default mode"]).to_dict()
    return {
        "size": size,
        "network": "squeezenet1_1 (real weights)",
        "rows": rows,
        "default_settings": {k: v for k, v in resolved.items() if k != "weights"},
    }
