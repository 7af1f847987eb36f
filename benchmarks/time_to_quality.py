"""Time to quality: how long impasto's default mode takes to reach the paper mode's loss.

Both modes run on the same network (SqueezeNet 1.1, real weights) and images; every loss
is measured afterwards, in fp32, on the 8-bit image that would be saved, by the same
fp32 network, so that precision and parametrisation cannot flatter a mode.
"""

from __future__ import annotations

import dataclasses
import time

import torch
from speed import CONTENT, SQUEEZENET, STYLE, print_row

from impasto import Settings, stylize
from impasto.engine.stylizer import reference_objective
from impasto.features.devices import select_device


def paper_mode(size: int, evaluations: int) -> Settings:
    """Gatys et al.: single scale, L-BFGS (history 50) clamped every step, fp32, content init."""
    return Settings(
        model="squeezenet1_1",
        weights=str(SQUEEZENET),
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
    base = {"model": "squeezenet1_1", "weights": str(SQUEEZENET), "size": size, "iterations": evaluations}
    paper = paper_mode(size, evaluations).to_dict()
    modes = {"default mode": Settings(**base)}
    if ablations:
        modes["paper + auto precision only"] = Settings(**{**paper, "precision": "auto"})
        modes["paper + lbfgs-pyramid only"] = Settings(**{**paper, "optimizer": "lbfgs-pyramid"})
        modes["paper + 2 scales only"] = Settings(**{**paper, "scales": 2, "scale_iterations": (200, evaluations)})
    return modes


def timed_run(settings: Settings, every: int) -> list[tuple[float, int, torch.Tensor]]:
    """(seconds since the call, iteration, pixels) every `every` iterations of the last scale, and at its end."""
    snapshots = []
    began = time.perf_counter()

    def keep(iterate) -> None:
        last = iterate.scale == iterate.scales - 1
        if last and (iterate.iteration % every == 0 or iterate.iteration == iterate.iterations):
            snapshots.append((time.perf_counter() - began, iterate.iteration, iterate.pixels.clone()))

    stylize(CONTENT, STYLE, settings, callback=keep)
    return snapshots


def saved_loss_meter(settings: Settings, device: torch.device):
    """A function from pixels to the fp32 total loss of their 8-bit rounding."""
    objective = reference_objective(CONTENT, STYLE, settings, device)

    @torch.no_grad()
    def measure(pixels: torch.Tensor) -> float:
        return objective((pixels.clamp(0, 1) * 255).round() / 255)["total"].item()

    return measure


def quality_section(quick: bool, device_name: str, ablations: bool = False) -> dict:
    """Paper-mode time and loss; for each candidate, the time to reach that loss and the ratio."""
    size, evaluations = (256, 100) if quick else (512, 300)
    device = select_device(device_name)
    paper = dataclasses.replace(paper_mode(size, evaluations), device=device_name)
    measure = saved_loss_meter(paper, device)
    timed_run(dataclasses.replace(paper, iterations=20), 20)  # warm-up, so that no mode pays for it
    paper_seconds, _, paper_pixels = timed_run(paper, evaluations)[-1]
    target = measure(paper_pixels)
    rows = [
        {
            "mode": "paper",
            "seconds_to_paper_loss": round(paper_seconds, 1),
            "evaluations": evaluations,
            "paper loss": round(target, 5),
            "ratio": 1.0,
        }
    ]
    print_row(rows[0])
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
        print_row(rows[-1])
    settings = candidates(size, evaluations)["default mode"].resolved().to_dict()
    return {
        "size": size,
        "network": "squeezenet1_1 (real weights)",
        "rows": rows,
        "default_settings": {k: v for k, v in settings.items() if k != "weights"},
    }
