"""Region masks for spatial control (Gatys et al. 2017, "Controlling perceptual factors").

A mask is a greyscale image, white where it applies; it is resized to the image it
belongs to and then, inside the losses, to every feature map (area averaging).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from impasto.errors import ImpastoError
from impasto.image.io import load_image

MaskInput = str | os.PathLike | Image.Image


def load_mask(source: MaskInput, size: tuple[int, int], device: torch.device | str = "cpu") -> torch.Tensor:
    """A mask as a (1, 1, H, W) float tensor in 0..1 for an image of PIL `size` (W, H)."""
    image = source if isinstance(source, Image.Image) else load_image(source)
    grey = image.convert("L").resize(size, Image.Resampling.BILINEAR)
    values = torch.frombuffer(bytearray(grey.tobytes()), dtype=torch.uint8).float() / 255
    return values.reshape(1, 1, size[1], size[0]).to(device)


def content_regions(
    sources: Sequence[MaskInput], styles: int, size: tuple[int, int], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """One content region per style, as an (R, 1, H, W) tensor.

    Give one mask per style; with two styles a single mask also works: the first style
    takes its white part and the second the rest.
    """
    masks = [load_mask(s, size, device) for s in sources]
    if len(masks) == 1 and styles == 2:
        masks.append(1 - masks[0])
    if len(masks) != styles:
        raise ImpastoError(
            f"--content-mask has {len(sources)} file(s) for {styles} style(s): give one mask per style"
        )
    if torch.stack(masks).amax(dim=(1, 2, 3, 4)).min() <= 0:
        raise ImpastoError("a --content-mask is black everywhere: every style needs a white region")
    return torch.cat(masks)


def style_regions(
    sources: Sequence[MaskInput] | None, styles: Sequence[torch.Tensor], device: torch.device | str = "cpu"
) -> list[torch.Tensor | None]:
    """Per style image, the (1, 1, H, W) part its statistics come from (None: all of it)."""
    if sources is None:
        return [None] * len(styles)
    if len(sources) != len(styles):
        raise ImpastoError(
            f"style_mask has {len(sources)} file(s) for {len(styles)} style(s): give one mask per style", "style_mask"
        )
    regions = []
    for source, style in zip(sources, styles):
        mask = load_mask(source, (style.shape[-1], style.shape[-2]), device)
        if mask.max() <= 0:
            raise ImpastoError(f"style_mask {source} is black everywhere: whiten the region to copy", "style_mask")
        regions.append(mask)
    return regions


def fit_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`mask` (R, 1, H, W) resized to a feature map's height and width by area averaging."""
    if mask.shape[-2:] == (height, width):
        return mask
    return F.interpolate(mask, size=(height, width), mode="area")
