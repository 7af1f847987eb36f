"""The common part of impasto's own optimisers, which each work on one image tensor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


class ImageOptimizer(torch.optim.Optimizer):
    """An optimiser of exactly one (B, C, H, W) image tensor."""

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        if len(self.param_groups[0]["params"]) != 1:
            raise ValueError(f"{type(self).__name__} optimises a single image tensor")

    def evaluate(
        self, closure: Callable[[], torch.Tensor]
    ) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor, torch.Tensor]:
        """(the parameter group, the image, its gradient, the loss), the closure run with gradients on."""
        group = self.param_groups[0]
        image = group["params"][0]
        with torch.enable_grad():
            loss = closure()
        if image.grad is None:
            raise RuntimeError(f"{type(self).__name__}: the closure left no gradient on the image")
        return group, image, image.grad, loss
