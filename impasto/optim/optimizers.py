"""The optimisers a run may choose, in one registry that settings, the engine, the command's
choices and the option reference all read.

An `Optimizer` is one `--optimizer` choice: its description, its default learning rate and, per
parameterisation of the image it supports, the `OptimizerKind` that runs it. A kind says whether
it keeps its own iterate (evaluated clamped to 0..1 rather than projected into it after each step)
and whether it is L-BFGS-like (it keeps a history of past steps, whose length the memory budget
sets), and builds the torch optimiser. This module imports no PyTorch until an optimiser is built,
so `Settings` reads its names and defaults for free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impasto.errors import ImpastoError

if TYPE_CHECKING:
    import torch

PARAMETERIZATIONS = ("pixels", "laplacian")
"""What an optimiser may change: the pixels, or the coefficients of the image's Laplacian pyramid."""
DEFAULT_HISTORY = 50
"""Past steps an L-BFGS-like optimiser keeps unless the memory budget trims them."""

Factory = Callable[["torch.Tensor", float, int], "torch.optim.Optimizer"]
"""Builds an optimiser of one image tensor: (the tensor, learning rate, history length)."""


@dataclass(frozen=True)
class OptimizerKind:
    """What one `--optimizer` choice runs on one parameterisation of the image."""

    name: str  # as messages and checks of a resumed state name it: "adam-laplacian"
    factory: Factory
    own_iterate: bool = False  # evaluated clamped, not projected into 0..1 after each step
    lbfgs_like: bool = False  # keeps `history` past steps (two image copies each)

    def build(self, params: torch.Tensor, lr: float, history: int = DEFAULT_HISTORY) -> torch.optim.Optimizer:
        """The torch optimiser of `params` (one image tensor, changed in place)."""
        from impasto.optim.no_dynamo import skip_dynamo_import

        skip_dynamo_import()
        return self.factory(params, lr, history)


@dataclass(frozen=True)
class Optimizer:
    """One `--optimizer` choice: what it is (one line, for help and docs), its defaults, and the
    kind that runs it on each parameterisation it supports."""

    name: str
    description: str
    default_lr: float
    kinds: Mapping[str, OptimizerKind]  # by parameterisation
    default_ema_decay: float = 0.0  # the decay of the output's iterate average; 0: none

    @property
    def parameterizations(self) -> tuple[str, ...]:
        return tuple(self.kinds)


def _lbfgs(params: torch.Tensor, lr: float, history: int) -> torch.optim.Optimizer:
    import torch

    return torch.optim.LBFGS([params], lr=lr, max_iter=1, history_size=history)  # one evaluation per step


def _pyramid_lbfgs(params: torch.Tensor, lr: float, history: int) -> torch.optim.Optimizer:
    from impasto.optim.pyramid import PyramidLBFGS

    return PyramidLBFGS([params], lr=lr, history=history)


def _adam(params: torch.Tensor, lr: float, history: int) -> torch.optim.Optimizer:
    import torch

    return torch.optim.Adam([params], lr=lr)


def _laplacian_adam(params: torch.Tensor, lr: float, history: int) -> torch.optim.Optimizer:
    from impasto.optim.laplacian import LaplacianAdam

    return LaplacianAdam([params], lr=lr)


def _gd(params: torch.Tensor, lr: float, history: int) -> torch.optim.Optimizer:
    import torch

    return torch.optim.SGD([params], lr=lr)


OPTIMIZERS: dict[str, Optimizer] = {
    entry.name: entry
    for entry in (
        Optimizer(
            "lbfgs",
            "L-BFGS, the paper's: the fewest evaluations to a low loss",
            1.0,
            {"pixels": OptimizerKind("lbfgs", _lbfgs, lbfgs_like=True)},
        ),
        Optimizer(
            "lbfgs-pyramid",
            "L-BFGS preconditioned by an image pyramid; experimental, for small outputs, see docs/performance.md",
            1.0,
            {"pixels": OptimizerKind("lbfgs-pyramid", _pyramid_lbfgs, own_iterate=True, lbfgs_like=True)},
        ),
        Optimizer(
            "adam",
            "Adam, the only optimiser of the Laplacian parameterisation",
            0.02,
            {
                "pixels": OptimizerKind("adam", _adam),
                "laplacian": OptimizerKind("adam-laplacian", _laplacian_adam, own_iterate=True),
            },
            default_ema_decay=0.8,  # it smooths Adam's noisy iterates; longer averages lag (docs/quality.md)
        ),
        Optimizer("gd", "plain gradient descent", 0.01, {"pixels": OptimizerKind("gd", _gd)}),
    )
}
OPTIMIZER_NAMES = tuple(OPTIMIZERS)
KINDS: dict[str, OptimizerKind] = {kind.name: kind for entry in OPTIMIZERS.values() for kind in entry.kinds.values()}
"""Every kind by its own name, as a resumed state's checks name it."""


def optimizer(name: str) -> Optimizer:
    """The registry entry of the `--optimizer` choice `name`, or a one-line error naming the choices."""
    if name not in OPTIMIZERS:
        raise ImpastoError(f"unknown optimizer {name!r}: choose from {', '.join(OPTIMIZER_NAMES)}", "optimizer")
    return OPTIMIZERS[name]


def optimizer_for(name: str, parameterization: str = "pixels") -> OptimizerKind:
    """The kind that runs the `--optimizer` choice `name` on `parameterization`, or a one-line
    error naming the optimisers that take it."""
    entry = optimizer(name)
    if parameterization not in PARAMETERIZATIONS:
        raise ImpastoError(
            f"unknown parameterization {parameterization!r}: choose from {', '.join(PARAMETERIZATIONS)}",
            "parameterization",
        )
    if parameterization not in entry.kinds:
        takers = [other.name for other in OPTIMIZERS.values() if parameterization in other.kinds]
        hint = "; lbfgs-pyramid is L-BFGS's form of it" if (name, parameterization) == ("lbfgs", "laplacian") else ""
        raise ImpastoError(
            f"parameterization {parameterization} is optimised with --optimizer {' or '.join(takers)}, not {name}{hint}",
            "parameterization",
        )
    return entry.kinds[parameterization]


def optimizer_kind(name: str) -> OptimizerKind:
    """The kind called `name` ("adam-laplacian"), or a one-line error naming the kinds."""
    if name not in KINDS:
        raise ImpastoError(f"unknown optimizer {name!r}: choose from {', '.join(KINDS)}", "optimizer")
    return KINDS[name]
