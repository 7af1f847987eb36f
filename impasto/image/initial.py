"""Starting images for the optimisation: noise, the content, or a blend of both."""

from __future__ import annotations

import torch

from impasto.errors import ImpastoError


def initial_image(kind: str, content: torch.Tensor, noise_ratio: float = 0.5, seed: int = 0) -> torch.Tensor:
    """The image the optimiser starts from, shaped like `content`, in 0..1.

    gaussian: N(0.5, 0.25) noise; uniform: U(0, 1) noise; content: the content image;
    blend: (1 - noise_ratio) * content + noise_ratio * gaussian noise.
    The noise is drawn on the CPU from `seed`, so every device starts from the same image.
    """
    generator = torch.Generator().manual_seed(seed)
    shape = tuple(content.shape)
    if kind == "content":
        start = content.detach().cpu()
    elif kind == "uniform":
        start = torch.rand(shape, generator=generator)
    elif kind in ("gaussian", "blend"):
        noise = 0.5 + 0.25 * torch.randn(shape, generator=generator)
        start = noise if kind == "gaussian" else (1 - noise_ratio) * content.cpu() + noise_ratio * noise
    else:
        raise ImpastoError(f"unknown --init {kind!r}: choose from content, gaussian, uniform, blend")
    return start.clamp(0, 1).to(device=content.device, dtype=torch.float32)
