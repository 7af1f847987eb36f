"""The style matched a second time on the output shrunk by the style scale, so that a style scale
above 1 enlarges the strokes.

A network's style layers see patches of a bounded size. With the artwork enlarged by the style
scale, its strokes outgrow those patches, and the statistics describe the inside of a stroke
rather than the stroke: the output gets finer texture, not larger strokes (measured in
`benchmarks/style_scale.py`). Shrinking the output by the same factor and matching it with the
artwork at its unscaled size asks that the output, seen from that much farther away, look like
the artwork: its strokes are then that much larger. The full-size style term still sets the
texture inside them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from impasto.losses.terms import StyleTerm


def shrink(image: torch.Tensor, factor: float) -> torch.Tensor:
    """A (B, C, H, W) image scaled by `factor` (below 1), at least 1 px a side: antialiased bilinear,
    whose gradient spreads smoothly over the pixels (area averaging's is constant over each block,
    and the optimiser paints the blocks' grid into the image)."""
    height, width = image.shape[-2:]
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


class CoarseStyleTerm(nn.Module):
    """A style term evaluated on the output shrunk by `factor`, through its own pass of the network."""

    layers: tuple[str, ...] = ()
    """Read from its own pass on the shrunk image, not from the full-size features (so tiled
    objectives evaluate it whole, as a term of the pixels)."""

    def __init__(self, extractor: nn.Module, style: StyleTerm, factor: float) -> None:
        super().__init__()
        self.extractor, self.style, self.factor = extractor, style, factor

    def forward(self, image: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        small = shrink(image, self.factor)
        return self.style(small, self.extractor(small))
