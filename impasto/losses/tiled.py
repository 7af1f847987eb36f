"""Large images in bounded memory: the objective's value and gradient computed tile by tile.

A Gram matrix is a sum over positions, so it is also a sum over tiles. Pass one runs
the network over overlapping tiles without autograd and sums each style layer's Gram
matrix from the tiles' cores; that gives the exact loss and dL/dGram. Pass two runs each
tile again with autograd and back-propagates the tile's share, <dL/dGram, its core's Gram>
plus its core's content loss, to the pixels. Each tile carries a halo as wide as the
network's receptive field, so its core's features are those of the whole image: the
optimiser sees one image and one gradient, and there are no seams to hide. Memory is
that of one tile's activations instead of the whole image's.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from impasto.errors import ImpastoError
from impasto.losses.terms import Objective, StyleLoss

LOG = logging.getLogger("impasto")
ALIGN = 16  # the deepest default layers' stride: tiles start on whole feature positions
HALO = 96  # pixels of context around each core (about VGG-19's receptive field radius to relu5_1)


@dataclass(frozen=True)
class Tile:
    """A core region of the image (what the tile contributes) inside its padded window."""

    core: tuple[int, int, int, int]  # top, bottom, left, right in pixels
    window: tuple[int, int, int, int]


def tiles(height: int, width: int, core: int, halo: int = HALO) -> list[Tile]:
    """Cores of at most `core` px (multiples of ALIGN) covering the image, with their windows."""
    core = max(ALIGN, core // ALIGN * ALIGN)
    found = []
    for top in range(0, height, core):
        for left in range(0, width, core):
            bottom, right = min(height, top + core), min(width, left + core)
            window = (max(0, top - halo), min(height, bottom + halo), max(0, left - halo), min(width, right + halo))
            found.append(Tile((top, bottom, left, right), window))
    return found


def crop(features: torch.Tensor, tile: Tile, image_size: tuple[int, int], full_size: tuple[int, int]) -> torch.Tensor:
    """The part of a window's feature map that belongs to the tile's core.

    `image_size` is the whole image's (H, W) and `full_size` the whole image's feature map
    size at this layer; positions map to pixels by their ratio (the layer's stride).
    """
    (top, bottom, left, right), (wtop, _, wleft, _) = tile.core, tile.window
    sy, sx = (2 ** round(math.log2(p / f)) for p, f in zip(image_size, full_size))  # strides are powers of 2
    rows = _span(top, bottom, wtop, sy, image_size[0], full_size[0])
    cols = _span(left, right, wleft, sx, image_size[1], full_size[1])
    return features[..., rows[0] : rows[1], cols[0] : cols[1]]


def _span(start: int, stop: int, origin: int, stride: int, pixels: int, positions: int) -> tuple[int, int]:
    first, shift = start // stride, origin // stride
    last = positions if stop == pixels else stop // stride
    return first - shift, last - shift


class TiledObjective(nn.Module):
    """An `Objective` evaluated in tiles: the same loss terms, with memory bounded by the tile size.

    Calling it computes the gradient at once (when autograd is on) and returns terms whose
    `total` back-propagates exactly that gradient to the image, so optimisers use it unchanged.
    """

    def __init__(self, objective: Objective, core: int, halo: int = HALO) -> None:
        super().__init__()
        if not all(type(loss) is StyleLoss for loss in objective.style_losses.values()):
            raise ValueError("tiling supports whole-image style losses only")
        self.objective, self.core, self.halo = objective, core, halo
        self._sizes: dict[tuple[int, int], dict[str, tuple[int, int]]] = {}

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        obj = self.objective
        size = tuple(image.shape[-2:])
        layout = tiles(*size, self.core, self.halo)
        full = {name: tuple(loss.target.shape[-2:]) for name, loss in obj.content_losses.items()}
        grams, content = self._first_pass(image.detach(), layout, size, full)
        style, dgrams = self._style_terms(grams)
        zero = image.new_zeros(())
        tv = obj.weights["tv"] * obj.tv(image) if obj.weights["tv"] else zero
        terms = {"content": obj.weights["content"] * content, "style": style.detach(), "tv": tv}
        if torch.is_grad_enabled() and image.requires_grad:
            grad = self._second_pass(image.detach(), layout, size, full, dgrams, grams)
            surrogate = (image * grad).sum()
            terms["style"] = terms["style"] + surrogate - surrogate.detach()
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    def _windows(self, image: torch.Tensor, layout: list[Tile]) -> Iterator[tuple[Tile, torch.Tensor]]:
        for tile in layout:
            top, bottom, left, right = tile.window
            yield tile, image[..., top:bottom, left:right]

    @torch.no_grad()
    def _first_pass(self, image, layout, size, full) -> tuple[dict[str, list], torch.Tensor]:
        """Per style layer [sum of core F F^T, positions]; and the content loss."""
        obj = self.objective
        grams = {name: [0.0, 0] for name in obj.style_losses}
        content = image.new_zeros((), dtype=torch.float32)
        for tile, window in self._windows(image, layout):
            features = obj.extractor(window)
            for name in obj.style_losses:
                flat = self._core(features[name], tile, size, name, full).float().flatten(2)
                grams[name][0] = grams[name][0] + flat @ flat.transpose(1, 2)
                grams[name][1] += flat.shape[-1]
            content = content + self._content_sum(features, tile, size, full)
        return grams, content

    def _core(self, features, tile, size, name, full) -> torch.Tensor:
        full_size = full.get(name) or self._full_size(name, size)
        return crop(features, tile, size, full_size)

    def _full_size(self, name: str, size: tuple[int, int]) -> tuple[int, int]:
        """A layer's feature map size for the whole image, from a shape-only (meta) run."""
        if size not in self._sizes:
            meta = copy.deepcopy(self.objective.extractor).to("meta")
            features = meta(torch.zeros(1, 3, *size, device="meta"))
            self._sizes[size] = {k: tuple(v.shape[-2:]) for k, v in features.items()}
        return self._sizes[size][name]

    def _content_sum(self, features, tile, size, full) -> torch.Tensor:
        """This tile's share of the content loss (means over the whole feature map)."""
        obj, total = self.objective, 0.0
        for name, loss in obj.content_losses.items():
            core = crop(features[name], tile, size, full[name]).float()
            target = crop(loss.target, Tile(tile.core, (0, 0, 0, 0)), size, full[name])
            rows, cols = min(core.shape[-2], target.shape[-2]), min(core.shape[-1], target.shape[-1])
            core, target = core[..., :rows, :cols], target[..., :rows, :cols]  # ends may differ by a position
            total = total + (core - target).pow(2).sum() / loss.target.numel()
        return total / max(1, len(obj.content_losses))

    def _style_terms(self, grams) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted style loss and its gradient with respect to each layer's Gram matrix."""
        obj = self.objective
        style, dgrams = 0.0, {}
        for name, loss in obj.style_losses.items():
            gram = (grams[name][0] / grams[name][1]).requires_grad_(True)
            with torch.enable_grad():
                n = gram.shape[-1]
                value = obj.weights["style"] * obj.layer_weights[name] * (gram - loss.target).pow(2).sum() / (4 * n * n)
                dgrams[name] = torch.autograd.grad(value, gram)[0]
            style = style + value.detach()
        return style, dgrams

    def _second_pass(self, image, layout, size, full, dgrams, grams) -> torch.Tensor:
        """The gradient of the content and style terms, tile by tile."""
        obj, grad = self.objective, torch.zeros_like(image)
        for tile, window in self._windows(image, layout):
            window = window.clone().requires_grad_(True)
            features = obj.extractor(window)
            share = obj.weights["content"] * self._content_sum(features, tile, size, full)
            for name in obj.style_losses:
                flat = self._core(features[name], tile, size, name, full).float().flatten(2)
                share = share + (dgrams[name] * (flat @ flat.transpose(1, 2))).sum() / grams[name][1]
            share.backward()
            top, bottom, left, right = tile.window
            grad[..., top:bottom, left:right] += window.grad
        return grad


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
        LOG.warning("impasto: keeping %d L-BFGS steps instead of %d to stay within the memory budget", max(fits, 5), wanted)
    return max(5, min(wanted, fits))


def fit_memory(objective: Objective, image: torch.Tensor, budget: int, fixed: int = 0) -> nn.Module:
    """`objective` itself when a whole-image evaluation fits in `budget` bytes (besides `fixed`
    bytes of optimiser state); otherwise a `TiledObjective` whose tiles fit, saying so."""
    height, width = image.shape[-2:]
    per_pixel = activation_bytes_per_pixel(objective.extractor, image.device)
    room = budget - fixed - 8 * image.numel() * 4  # pixels, gradient, content, start, result...
    if per_pixel * height * width <= room:
        return objective
    if not all(type(loss) is StyleLoss for loss in objective.style_losses.values()):
        raise ImpastoError(
            f"a {width}x{height} output with masks needs about {per_pixel * height * width / 2**30:.1f} GiB, "
            "more than --max-memory allows: lower --size or raise --max-memory"
        )
    side = int((max(room, 0) / per_pixel) ** 0.5) - 2 * HALO
    core = max(4 * ALIGN, side // ALIGN * ALIGN)
    tiled = TiledObjective(objective, core)
    LOG.warning(
        "impasto: a %dx%d evaluation needs about %.1f GiB at once, more than the %.1f GiB left of the "
        "memory budget (--max-memory): evaluating it in %d tiles of %d px",
        width, height, per_pixel * height * width / 2**30, room / 2**30, len(tiles(height, width, core)), core,
    )
    return tiled
