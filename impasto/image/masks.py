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
from impasto.image.io import ImageInput, as_image

MaskInput = ImageInput


def load_mask(source: MaskInput, size: tuple[int, int], device: torch.device | str = "cpu") -> torch.Tensor:
    """A mask as a (1, 1, H, W) float tensor in 0..1 for an image of PIL `size` (W, H)."""
    grey = as_image(source, "mask").convert("L").resize(size, Image.Resampling.BILINEAR)
    values = torch.frombuffer(bytearray(grey.tobytes()), dtype=torch.uint8).float() / 255
    return values.reshape(1, 1, size[1], size[0]).to(device)


def content_regions(
    sources: Sequence[MaskInput],
    styles: int,
    size: tuple[int, int],
    device: torch.device | str = "cpu",
    names: Sequence[str] | None = None,
) -> torch.Tensor:
    """One content region per style, as an (R, 1, H, W) tensor.

    Give one mask per style; with two styles a single mask also works: the first style
    takes its white part and the second the rest. `names` (the files) name a mask in errors.
    """
    masks = [load_mask(s, size, device) for s in sources]
    if len(masks) == 1 and styles == 2:
        masks.append(1 - masks[0])
    if len(masks) != styles:
        raise ImpastoError(
            f"content_mask has {len(sources)} file(s) for {styles} style(s): give one mask per style", "content_mask"
        )
    for index, mask in enumerate(masks):
        if mask.max() <= 0:
            which = _name(names, sources, min(index, len(sources) - 1))
            colour, fix = (
                ("black", "paint the region of its style white")
                if index < len(sources)
                else ("white", "leave the second style's region black")
            )
            raise ImpastoError(
                f"content_mask {which} is {colour} everywhere at this size: every style needs a region; {fix}",
                "content_mask",
            )
    return torch.cat(masks)


def style_regions(
    sources: Sequence[MaskInput] | None,
    styles: Sequence[torch.Tensor],
    device: torch.device | str = "cpu",
    names: Sequence[str] | None = None,
) -> list[torch.Tensor | None]:
    """Per style image, the (1, 1, H, W) part its statistics come from (None: all of it);
    `names` (the files) name a mask in errors."""
    if sources is None:
        return [None] * len(styles)
    if len(sources) != len(styles):
        raise ImpastoError(
            f"style_mask has {len(sources)} file(s) for {len(styles)} style(s): give one mask per style", "style_mask"
        )
    regions: list[torch.Tensor | None] = []
    for index, (source, style) in enumerate(zip(sources, styles)):
        mask = load_mask(source, (style.shape[-1], style.shape[-2]), device)
        if mask.max() <= 0:
            raise ImpastoError(
                f"style_mask {_name(names, sources, index)} is black everywhere: whiten the region to copy",
                "style_mask",
            )
        regions.append(mask)
    return regions


def _name(names: Sequence[str] | None, sources: Sequence[MaskInput], index: int) -> str:
    """How errors name mask `index`: its file, else its number."""
    if names is not None:
        return str(names[index])
    source = sources[index]
    return str(source) if isinstance(source, (str, os.PathLike)) else f"number {index + 1}"


def fit_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`mask` (R, 1, H, W) resized to a feature map's height and width by area averaging."""
    if mask.shape[-2:] == (height, width):
        return mask
    return F.interpolate(mask, size=(height, width), mode="area")
