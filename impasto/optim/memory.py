"""Memory policy: how many bytes a run may use, and what to do when an evaluation would not fit
(evaluate it in tiles, keep fewer L-BFGS steps)."""

from __future__ import annotations

import logging
import os

import torch
from torch import nn

from impasto.errors import ImpastoError
from impasto.losses.objective import Objective
from impasto.losses.tiled import ALIGN, TiledObjective, tileable, tiles

LOG = logging.getLogger("impasto")
CHECKPOINT_PIXELS = 1024 * 1024
"""From this many output pixels on, the network's early blocks are recomputed in the backward pass
(`FeatureExtractor.checkpointing`): gigabytes less memory for a few per cent more time."""


def recomputes(pixels: int) -> bool:
    """Whether a run at `pixels` output pixels recomputes the network's early blocks (CHECKPOINT_PIXELS)."""
    return pixels >= CHECKPOINT_PIXELS


def activation_bytes_per_pixel(extractor: nn.Module, device: torch.device) -> float:
    """Bytes autograd keeps per image pixel for one evaluation, measured on two small probes
    (their difference leaves out what does not grow with the image, such as weights)."""
    saved = {64: 0, 128: 0}

    for side in saved:
        seen: set[int] = set()

        def pack(tensor: torch.Tensor, side: int = side, seen: set[int] = seen) -> torch.Tensor:
            if tensor.data_ptr() not in seen:  # a tensor saved by two layers is stored once
                seen.add(tensor.data_ptr())
                saved[side] += tensor.numel() * tensor.element_size()
            return tensor

        image = torch.rand(1, 3, side, side, device=device, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            extractor(image)
    return 1.5 * (saved[128] - saved[64]) / (128**2 - 64**2)  # plus gradients in flight in the backward pass


def memory_budget(device: torch.device, max_memory_gib: float | None) -> int:
    """Bytes a run may use: --max-memory, else 80% of the GPU's memory or of the machine's RAM."""
    if max_memory_gib is not None:
        return int(max_memory_gib * 2**30)
    if device.type == "cuda":
        return int(0.8 * torch.cuda.get_device_properties(device).total_memory)
    return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def lbfgs_history(image: torch.Tensor, budget: int, wanted: int = 50) -> int:
    """L-BFGS keeps two image-sized vectors per remembered step: at most 40% of the budget."""
    fits = int(0.4 * budget / (2 * image.numel() * 4))
    if fits < wanted:
        LOG.warning(
            "impasto: keeping %d L-BFGS steps instead of %d to stay within the memory budget", max(fits, 5), wanted
        )
    return max(5, min(wanted, fits))


def fit_memory(objective: Objective, image: torch.Tensor, budget: int, halo: int, fixed: int = 0) -> nn.Module:
    """`objective` itself when a whole-image evaluation fits in `budget` bytes (besides `fixed`
    bytes of optimiser state); otherwise a `TiledObjective` whose tiles fit, saying so."""
    height, width = image.shape[-2:]
    per_pixel = activation_bytes_per_pixel(objective.extractor, image.device)
    room = budget - fixed - 8 * image.numel() * 4  # pixels, gradient, content, start, result...
    if per_pixel * height * width <= room:
        return objective
    if not tileable(objective):
        raise ImpastoError(
            f"a {width}x{height} output with masks, a style_loss other than gram/gram-relative or content_loss "
            f"self-similarity needs about {per_pixel * height * width / 2**30:.1f} GiB, more than --max-memory "
            "allows: lower --size, raise --max-memory, or use --style-loss gram-relative with --content-loss feature, "
            "which can be evaluated in tiles"
        )
    side = int((max(room, 0) / per_pixel) ** 0.5) - 2 * halo
    core = max(4 * ALIGN, side // ALIGN * ALIGN)
    tiled = TiledObjective(objective, core, halo)
    LOG.warning(
        "impasto: a %dx%d evaluation needs about %.1f GiB at once, more than the %.1f GiB left of the "
        "memory budget (--max-memory): evaluating it in %d tiles of %d px",
        width,
        height,
        per_pixel * height * width / 2**30,
        room / 2**30,
        len(tiles(height, width, core, halo)),
        core,
    )
    return tiled
