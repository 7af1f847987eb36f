"""The optimisation loop: updates the pixels of the generated image to lower the objective."""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from impasto.errors import ImpastoError
from impasto.optim.callbacks import CallbackList
from impasto.optim.control import StopToken
from impasto.optim.events import Resume

STOP_WINDOW = 50
"""Evaluations the convergence test looks back over."""

Objective = Callable[[torch.Tensor], dict[str, torch.Tensor]]
"""The loss terms of an image, with their "total"."""


@dataclass(frozen=True)
class OptimizerFactory:
    """How to make one scale's optimiser of the pixels (from `impasto.optim.optimizers`).

    `own_iterate`: the optimiser keeps its own iterate and is evaluated clamped to 0..1
    (pyramid L-BFGS, Laplacian Adam); the others are projected into 0..1 after every step.
    """

    build: Callable[[torch.Tensor], torch.optim.Optimizer]
    own_iterate: bool = False


@dataclass(frozen=True)
class Steps:
    """How one scale runs: its evaluations, its index, the iterate average's decay (0: none),
    the convergence tolerance (0: run them all) and, when resuming it, where to continue."""

    iterations: int
    scale: int = 0
    ema_decay: float = 0.0
    tolerance: float = 0.0
    resume: Resume | None = field(repr=False, default=None)


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


class _Run:
    """One scale's optimisation: the pixels, the optimiser and the count of evaluations."""

    def __init__(
        self,
        objective: Objective,
        start: torch.Tensor,
        optimizer: OptimizerFactory,
        steps: Steps,
        callbacks: CallbackList,
        stop: StopToken | None,
    ) -> None:
        resume = steps.resume
        self.objective, self.callbacks, self.stop = objective, callbacks, stop
        self.iterations, self.scale, self.tolerance = steps.iterations, steps.scale, steps.tolerance
        self.recent: deque[float] = deque(() if resume is None else resume.recent, maxlen=STOP_WINDOW + 1)
        self.pixels = (start if resume is None else resume.pixels.to(start.device)).detach().clone()
        self.pixels.requires_grad_(True)
        self.average = IterateAverage(steps.ema_decay) if steps.ema_decay > 0 else None
        self.opt = optimizer.build(self.pixels)
        self.project = not optimizer.own_iterate
        self.evaluations = 0 if resume is None else resume.iteration
        self.began = time.perf_counter() - (0.0 if resume is None else resume.elapsed)
        self.reason: str | None = None
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
        """Computes the loss of the current pixels and tells the callbacks."""
        losses = self.objective(self.shown())
        values = dict(zip(losses, torch.stack([v.detach().float() for v in losses.values()]).tolist()))  # one copy
        if not math.isfinite(values["total"]):
            raise ImpastoError(
                f"the loss became {values['total']} at iteration {self.evaluations}: lower --lr or the loss weights"
            )
        elapsed = time.perf_counter() - self.began
        reason = self.reason if self.evaluations == self.iterations else None
        self.callbacks.iterate(
            self.evaluations, self.iterations, values, elapsed, self.shown().detach(), self.snapshot, reason
        )
        self.recent.append(values["total"])  # after the callbacks, so a snapshot taken there resumes exactly
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
        for _ in range(self.evaluations, self.iterations):
            self.reason = "stopped" if self.stop is not None and self.stop.stopped else self.converged()
            if self.reason:
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
        return self.pixels.detach().clamp(0, 1)


def optimize(
    objective: Objective,
    start: torch.Tensor,
    optimizer: OptimizerFactory,
    steps: Steps,
    callbacks: CallbackList | None = None,
    stop: StopToken | None = None,
) -> tuple[torch.Tensor, str | None]:
    """Runs `steps.iterations` optimiser steps from `start`; returns the final pixels and why
    the scale ended early ("converged", "stopped") or None.

    Pixels are kept in 0..1 by clamping after every step (projected descent), so each
    evaluation sees, and the result is, a valid image; optimisers with their own iterate
    instead evaluate it clamped to 0..1, which L-BFGS's curvature pairs tolerate far better.
    With `steps.ema_decay` > 0 the result is the exponential moving average of the iterates
    (bias-corrected), which removes the iterate noise of optimisers such as Adam. With
    `steps.resume` the run continues at that iteration from its pixels and optimiser state,
    and ends where the uninterrupted run would have. With `steps.tolerance` > 0 the run ends
    early once the total loss fell by less than that fraction over the last STOP_WINDOW
    evaluations (the picture no longer changes visibly). `stop` ends it after the evaluation
    in progress.
    """
    run = _Run(objective, start, optimizer, steps, callbacks or CallbackList(), stop)
    return run.run(), run.reason
