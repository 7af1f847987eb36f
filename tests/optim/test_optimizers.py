"""The optimiser registry: every kind builds an optimiser of one image that lowers a loss, with
the iterate and history its entry promises."""

from __future__ import annotations

import pytest
import torch

from impasto.optim.optimizers import KINDS, OPTIMIZERS, optimizer_for

PAIRS = [(name, parameterization) for name, entry in OPTIMIZERS.items() for parameterization in entry.kinds]


def descend(name: str, parameterization: str, steps: int = 5) -> tuple[float, float]:
    """The loss before and after `steps` steps from a random image towards a flat grey one."""
    torch.manual_seed(0)
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    kind = optimizer_for(name, parameterization)
    opt = kind.build(image, OPTIMIZERS[name].default_lr, 5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        shown = image.clamp(0, 1) if kind.own_iterate else image
        loss = (shown - 0.3).pow(2).sum()
        loss.backward()
        return loss

    first = float(closure().detach())
    for _ in range(steps):
        opt.step(closure)  # type: ignore[arg-type]
    return first, float(closure().detach())


@pytest.mark.parametrize(("name", "parameterization"), PAIRS)
def test_every_kind_lowers_a_loss_at_its_default_learning_rate(name: str, parameterization: str) -> None:
    first, last = descend(name, parameterization)
    assert last < first


def test_the_kinds_say_which_keep_their_own_iterate_and_a_history() -> None:
    assert {name for name, kind in KINDS.items() if kind.own_iterate} == {"lbfgs-pyramid", "adam-laplacian"}
    assert {name for name, kind in KINDS.items() if kind.lbfgs_like} == {"lbfgs", "lbfgs-pyramid"}
    assert optimizer_for("adam", "laplacian").name == "adam-laplacian" and optimizer_for("adam").name == "adam"


def test_an_lbfgs_keeps_the_history_it_is_given() -> None:
    opt = optimizer_for("lbfgs").build(torch.zeros(1, 3, 4, 4, requires_grad=True), 1.0, 7)
    assert isinstance(opt, torch.optim.LBFGS) and opt.param_groups[0]["history_size"] == 7
    assert opt.param_groups[0]["max_iter"] == 1  # one loss evaluation per step
