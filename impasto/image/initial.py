"""Starting images for the optimisation: noise, the content (as it is or in the styles' colours), or a blend."""

from __future__ import annotations

import torch

from impasto.errors import ImpastoError
from impasto.image.choices import INITS
from impasto.image.color import recolor


def initial_image(
    kind: str,
    content: torch.Tensor,
    noise_ratio: float = 0.5,
    seed: int = 0,
    palette: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The image the optimiser starts from, shaped like `content`, in 0..1.

    gaussian: N(0.5, 0.25) noise; uniform: U(0, 1) noise; content: the content image;
    palette: the content recoloured to `palette`'s colour mean and covariance (the content
    as it is without one); blend: (1 - noise_ratio) * content + noise_ratio * gaussian noise.
    The noise is drawn on the CPU from `seed`, so every device starts from the same image.
    """
    generator = torch.Generator().manual_seed(seed)
    shape = tuple(content.shape)
    if kind == "content" or (kind == "palette" and palette is None):
        start = content.detach().cpu()
    elif kind == "palette" and palette is not None:
        start = recolor(content.detach(), *palette).cpu()
    elif kind == "uniform":
        start = torch.rand(shape, generator=generator)
    elif kind in ("gaussian", "blend"):
        noise = 0.5 + 0.25 * torch.randn(shape, generator=generator)
        start = noise if kind == "gaussian" else (1 - noise_ratio) * content.cpu() + noise_ratio * noise
    else:
        raise ImpastoError(f"unknown --init {kind!r}: choose from {', '.join(INITS)}")
    return start.clamp(0, 1).to(device=content.device, dtype=torch.float32)
