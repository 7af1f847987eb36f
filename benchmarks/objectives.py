"""Loss evaluations to time and count: a run's objective at a size and precision, and the
seconds and FLOPs of one evaluation (forward and backward to the pixels)."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import as_tensor, fitted
from impasto import Settings, Stylizer
from impasto.features.precision import Precise, resolve_precision  # not public: see objective_at
from impasto.optim import memory  # not public: see objective_at

Evaluate = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def pick_device(name: str) -> torch.device:
    """The device named, or for "auto" the first GPU found (CUDA, then MPS), else the CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("mps" if torch.backends.mps.is_available() else "cpu")


def auto_precision(device: torch.device) -> str:
    """The precision impasto's `--precision auto` picks on `device`."""
    return resolve_precision("auto", device)


def objective_at(
    settings: Settings, content: Path, style: Path, size: int, precision: str | None, device: torch.device
) -> tuple[Any, torch.Tensor]:
    """The objective a run evaluates at `size` on `device` (the one `Stylizer.objective` returns,
    whose `extractor` and `streamed` a benchmark may change), and the content image as its pixels.

    With a `precision` the network runs in it and in the memory layout a run picks, with the
    early blocks recomputed where a run recomputes them; None keeps the plain fp32 network
    (`Stylizer.objective`). The engine builds this internally; the public API has no call
    for it yet, hence the two private imports above.
    """
    image = fitted(content, size)
    stylizer = Stylizer(dataclasses.replace(settings, device=str(device)))
    objective: Any = stylizer.objective(image, style, size=size)
    pixels = as_tensor(image, device)
    if precision is not None:
        objective.extractor.checkpointing = memory.recomputes(pixels[0, 0].numel())
        objective.extractor = Precise(objective.extractor, precision, device, settings.model)
    return objective, pixels


def synchronize(device: torch.device) -> None:
    """Waits for a GPU's queued work, so that the clock measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def seconds_per_evaluation(objective: Evaluate, image: torch.Tensor, repeats: int) -> tuple[float, float]:
    """(seconds of the first evaluation, which builds kernels and caches; median of the next `repeats`)."""
    pixels = image.clone().requires_grad_(True)
    times = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        objective(pixels)["total"].backward()
        synchronize(image.device)
        times.append(time.perf_counter() - began)
        pixels.grad = None
    return times[0], statistics.median(times[1:])


def count_flops(objective: Evaluate, image: torch.Tensor) -> float:
    """FLOPs of one evaluation (forward and backward), counted from the operators run."""
    pixels = image.clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        objective(pixels)["total"].backward()
    return float(counter.get_total_flops())
