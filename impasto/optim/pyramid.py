"""L-BFGS preconditioned by an image pyramid: more loss gained per evaluation.

Plain L-BFGS starts each two-loop recursion from a multiple of the identity, so coarse,
image-wide changes (colour casts, large strokes) are found only slowly. Here the initial
inverse Hessian is gamma * M with M = sum_k decay^(2k) U_k U_k^T, U_k the bilinear
upsampling from 1/2^k of the size: the same method as optimising a Laplacian-pyramid
parametrisation of the image, but on the pixels themselves, so clamping, checkpoints and
progress see an ordinary image. One loss evaluation per step, as in the paper's L-BFGS.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import vjp

from impasto.optim.single import ImageOptimizer


def pyramid_metric(gradient: torch.Tensor, levels: int, decay: float) -> torch.Tensor:
    """M g = sum over levels k of decay^(2k) U_k U_k^T g (level 0 is g itself)."""
    height, width = gradient.shape[-2:]
    result = gradient.clone()
    for k in range(1, levels):
        coarse = torch.zeros(*gradient.shape[:-2], max(1, height >> k), max(1, width >> k), device=gradient.device)

        def upsample(x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)

        _, adjoint = vjp(upsample, coarse)  # type: ignore[misc]  # torch types vjp as 2 or 3 values; without has_aux it is 2
        result += decay ** (2 * k) * upsample(adjoint(gradient)[0])
    return result


class PyramidLBFGS(ImageOptimizer):
    """L-BFGS with a pyramid-metric initial Hessian and unit steps (no line search).

    One parameter tensor of shape (B, C, H, W); `history` steps are remembered.
    """

    def __init__(self, params, lr: float = 1.0, history: int = 50, levels: int = 5, decay: float = 0.35) -> None:
        super().__init__(params, {"lr": lr, "history": history, "levels": levels, "decay": decay})

    def _metric(self, vector: torch.Tensor) -> torch.Tensor:
        group = self.param_groups[0]
        return pyramid_metric(vector, group["levels"], group["decay"])

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        group, image, gradient, loss = self.evaluate(closure)
        gradient = gradient.detach().clone()
        state = self.state[image]
        pairs = state.setdefault("pairs", [])  # (step, change, 1 / step.change), oldest first
        if "previous_image" in state:  # the step actually taken, after any clamping
            step, change = image.detach() - state["previous_image"], gradient - state["previous_gradient"]
            curvature = torch.vdot(step.flatten(), change.flatten())
            if curvature > 1e-10:  # keep only pairs with positive curvature
                if len(pairs) == group["history"]:
                    pairs.pop(0)
                pairs.append((step, change, 1.0 / curvature))
                state["gamma"] = curvature / torch.vdot(change.flatten(), self._metric(change).flatten())
        direction = self._direction(gradient, pairs, state.get("gamma"))
        state["previous_image"], state["previous_gradient"] = image.detach().clone(), gradient
        image.add_(direction, alpha=group["lr"])
        return loss

    def _direction(self, gradient: torch.Tensor, pairs: list, gamma: torch.Tensor | None) -> torch.Tensor:
        """The two-loop recursion: -H g, with H0 = gamma * M."""
        if not pairs:  # first step: a small preconditioned gradient step, as torch's L-BFGS takes
            return -self._metric(gradient) / max(1.0, gradient.abs().sum().item())  # a zero gradient: no step
        assert gamma is not None  # set with the first pair
        q = gradient.clone()
        alphas = []
        for step, change, rho in reversed(pairs):
            alpha = rho * torch.vdot(step.flatten(), q.flatten())
            q.sub_(alpha * change)
            alphas.append(alpha)
        r = self._metric(q).mul_(gamma)
        for (step, change, rho), alpha in zip(pairs, reversed(alphas)):
            beta = rho * torch.vdot(change.flatten(), r.flatten())
            r.add_((alpha - beta) * step)
        return r.neg_()
