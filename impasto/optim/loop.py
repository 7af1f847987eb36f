"""The optimisation loop: updates the pixels of the generated image to lower the objective."""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from impasto.errors import ImpastoError
from impasto.optim.control import RunControl
from impasto.optim.laplacian import LaplacianAdam
from impasto.optim.no_dynamo import skip_dynamo_import
from impasto.optim.pyramid import PyramidLBFGS


@dataclass(frozen=True)
class Resume:
    """Where a run continues: the scale, the iteration, its pixels and the optimiser's state.

    `elapsed` carries the seconds already spent, so reported times run on; `average` is
    the iterate average's (steps, value) when one is kept.
    """

    scale: int
    iteration: int
    pixels: torch.Tensor = field(repr=False)
    optimizer_state: dict[str, Any] = field(repr=False)
    elapsed: float = 0.0
    average: tuple[int, torch.Tensor] | None = field(repr=False, default=None)
    recent: tuple[float, ...] = ()  # the last totals, which the convergence test looks back on


STOP_WINDOW = 50
"""Evaluations the convergence test looks back over."""

Report = Callable[[int, int, dict[str, float], float, torch.Tensor], None]
"""Told (iteration, iterations, losses, elapsed seconds, pixels) after every evaluation; the
pixels are the optimiser's own tensor, to be copied by whoever keeps them."""


class IterateAverage:
    """Bias-corrected exponential moving average of the iterates."""

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.steps = 0
        self.accumulated: torch.Tensor | None = None

    def update(self, pixels: torch.Tensor) -> None:
        current = pixels.detach().float()
        previous = torch.zeros_like(current) if self.accumulated is None else self.accumulated
        self.accumulated = self.decay * previous + (1 - self.decay) * current
        self.steps += 1

    def value(self) -> torch.Tensor:
        assert self.accumulated is not None, "no iterate averaged yet"
        return self.accumulated / (1 - self.decay**self.steps)


OWN_ITERATE = ("lbfgs-pyramid", "adam-laplacian")
"""Optimisers that keep their own iterate and are evaluated clamped rather than projected."""


def optimizer_name(optimizer: str, parameterization: str = "pixels") -> str:
    """The optimiser that runs `optimizer` on the image's `parameterization` (adam-laplacian for Adam on
    a Laplacian pyramid; the settings allow no other laplacian pairing)."""
    return f"{optimizer}-laplacian" if parameterization == "laplacian" else optimizer


def make_optimizer(name: str, pixels: torch.Tensor, lr: float, history: int = 50) -> torch.optim.Optimizer:
    """L-BFGS (one loss evaluation per step, `history` past steps), Adam (on the pixels or on their
    Laplacian pyramid: adam-laplacian), or plain gradient descent."""
    skip_dynamo_import()
    if name == "lbfgs":
        return torch.optim.LBFGS([pixels], lr=lr, max_iter=1, history_size=history)
    if name == "lbfgs-pyramid":
        return PyramidLBFGS([pixels], lr=lr, history=history)
    if name == "adam":
        return torch.optim.Adam([pixels], lr=lr)
    if name == "adam-laplacian":
        return LaplacianAdam([pixels], lr=lr)
    if name == "gd":
        return torch.optim.SGD([pixels], lr=lr)
    raise ImpastoError(f"unknown optimiser {name!r}: choose from lbfgs, lbfgs-pyramid, adam, gd")


class _Run:
    """One scale's optimisation: the pixels, the optimiser and the count of evaluations."""

    def __init__(
        self, objective, start, optimizer, iterations, lr, report, control, scale, ema_decay, resume, history, tolerance
    ):
        self.objective, self.report, self.control = objective, report, control
        self.iterations, self.scale, self.tolerance = iterations, scale, tolerance
        self.recent: deque[float] = deque(() if resume is None else resume.recent, maxlen=STOP_WINDOW + 1)
        self.pixels = (start if resume is None else resume.pixels.to(start.device)).detach().clone()
        self.pixels.requires_grad_(True)
        self.average = IterateAverage(ema_decay) if ema_decay > 0 else None
        self.opt = make_optimizer(optimizer, self.pixels, lr, history)
        # Pyramid L-BFGS and Laplacian Adam keep their own iterate and evaluate it clamped (one
        # consistent objective); the others are projected into 0..1 after every step.
        self.project = optimizer not in OWN_ITERATE
        self.evaluations = 0 if resume is None else resume.iteration
        self.began = time.perf_counter() - (0.0 if resume is None else resume.elapsed)
        if resume is not None:
            self.opt.load_state_dict(resume.optimizer_state)
            if self.average is not None and resume.average is not None:
                self.average.steps, self.average.accumulated = resume.average[0], resume.average[1].to(start.device)

    def snapshot(self) -> Resume:
        """Copies of everything that determines the rest of the run."""
        average = self.average
        kept = None if average is None or average.accumulated is None else (average.steps, average.accumulated.clone())
        return Resume(
            self.scale,
            self.evaluations,
            self.pixels.detach().clone(),
            copy.deepcopy(self.opt.state_dict()),
            time.perf_counter() - self.began,
            kept,
            tuple(self.recent),
        )

    def shown(self) -> torch.Tensor:
        """The pixels as evaluated: the iterate itself, or clamped for the optimisers with their own iterate."""
        return self.pixels if self.project else self.pixels.clamp(0, 1)

    def evaluate(self) -> torch.Tensor:
        """Computes the loss of the current pixels and reports them to the callback."""
        losses = self.objective(self.shown())
        values = dict(zip(losses, torch.stack([v.detach().float() for v in losses.values()]).tolist()))  # one copy
        if not math.isfinite(values["total"]):
            raise ImpastoError(
                f"the loss became {values['total']} at iteration {self.evaluations}: lower --lr or the loss weights"
            )
        if self.report is not None:
            self.report(
                self.evaluations, self.iterations, values, time.perf_counter() - self.began, self.shown().detach()
            )
        self.recent.append(values["total"])  # after the report, so a snapshot taken there resumes exactly
        self.evaluations += 1
        return losses["total"]

    def converged(self) -> str | None:
        """ "converged" once the total fell by less than `tolerance` (relative) over the last STOP_WINDOW evaluations."""
        if not self.tolerance or len(self.recent) <= STOP_WINDOW:
            return None
        before, now = self.recent[0], self.recent[-1]
        return "converged" if before - now <= self.tolerance * abs(before) else None

    def closure(self) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        total = self.evaluate()
        total.backward()
        return total

    def run(self) -> torch.Tensor:
        if self.control is not None:
            self.control.attach(self.snapshot)
        for _ in range(self.evaluations, self.iterations):
            reason = "stopped" if self.control is not None and self.control.stopped else self.converged()
            if reason:
                if self.control is not None:
                    self.control.reason = reason
                self.iterations = self.evaluations  # the final evaluation reports the result
                break
            self.opt.step(self.closure)  # type: ignore[arg-type]  # torch's stub wants a float; closures return the loss tensor
            with torch.no_grad():
                if self.project:
                    self.pixels.clamp_(0, 1)
                if self.average is not None:
                    self.average.update(self.pixels)
        with torch.no_grad():
            if self.average is not None and self.average.steps:
                self.pixels.copy_(self.average.value())
            self.evaluate()
        if self.control is not None:
            self.control.attach(None)
        return self.pixels.detach().clamp(0, 1)


def optimize(
    objective: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    start: torch.Tensor,
    *,
    optimizer: str,
    iterations: int,
    lr: float,
    report: Report | None = None,
    control: RunControl | None = None,
    scale: int = 0,
    ema_decay: float = 0.0,
    resume: Resume | None = None,
    history: int = 50,
    tolerance: float = 0.0,
) -> torch.Tensor:
    """Runs `iterations` optimiser steps from `start` and returns the final pixels.

    Pixels are kept in 0..1 by clamping after every step (projected descent), so each
    evaluation sees, and the result is, a valid image; lbfgs-pyramid instead evaluates
    its iterate clamped to 0..1, which L-BFGS's curvature pairs tolerate far better.
    With `ema_decay` > 0 the result is the exponential moving average of the iterates
    (bias-corrected), which removes the iterate noise of optimisers such as Adam. With
    `resume` (from `RunControl.resume_state`) the run continues at that iteration from its
    pixels and optimiser state, and ends where the uninterrupted run would have. With
    `tolerance` > 0 the run ends early once the total loss fell by less than that fraction
    over the last STOP_WINDOW evaluations (the picture no longer changes visibly).
    """
    return _Run(
        objective, start, optimizer, iterations, lr, report, control, scale, ema_decay, resume, history, tolerance
    ).run()
