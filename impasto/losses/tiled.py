"""Large images in bounded memory: the objective's value and gradient computed tile by tile.

A Gram matrix is a sum over positions, so it is also a sum over tiles. Pass one runs
the network over overlapping tiles without autograd and sums each style layer's Gram
matrix from the tiles' cores; that gives the exact loss and dL/dGram. Pass two runs each
tile again with autograd and back-propagates the tile's share, <dL/dGram, its core's Gram>
plus its core's content loss, to the pixels. Each tile carries a halo as wide as the
network's receptive field (the registry's `halo`), so its core's features are those of the whole image: the
optimiser sees one image and one gradient, and there are no seams to hide. Memory is
that of one tile's activations instead of the whole image's.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from impasto.losses.objective import Objective, Term
from impasto.losses.smoothing import SmoothedStyleLoss, smooth
from impasto.losses.terms import ContentLoss, ContentTerm, StyleLoss, StyleTerm

ALIGN = 16  # the deepest default layers' stride: tiles start on whole feature positions


@dataclass(frozen=True)
class Tile:
    """A core region of the image (what the tile contributes) inside its padded window."""

    core: tuple[int, int, int, int]  # top, bottom, left, right in pixels
    window: tuple[int, int, int, int]


def tiles(height: int, width: int, core: int, halo: int) -> list[Tile]:
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


def _gram_loss(loss: nn.Module) -> tuple[nn.Module, bool]:
    """A style layer's loss without its activation smoothing, and whether it had one (the smoothing
    is one per position: a tile's share is taken of its smoothed features)."""
    return (loss.loss, True) if isinstance(loss, SmoothedStyleLoss) else (loss, False)


def tileable(objective: Objective) -> bool:
    """Whether every feature term has a tiled form: feature content terms, and style terms of
    whole-image Gram matrices, smoothed or not (masked regions and self-similarity have none).
    Pixel terms are evaluated whole."""
    return all(
        not term.module.layers
        or (
            isinstance(term.module, ContentTerm)
            and all(type(loss) is ContentLoss for loss in term.module.losses.values())
        )
        or (
            isinstance(term.module, StyleTerm)
            and all(type(_gram_loss(loss)[0]) is StyleLoss for loss in term.module.losses.values())
        )
        for term in objective.terms
    )


class TiledObjective(nn.Module):
    """An `Objective` evaluated in tiles: the same loss terms, with memory bounded by the tile size.

    Feature terms are summed over tiles with the terms' own formulas (`StyleLoss.loss_of_gram`,
    `ContentLoss.squared_error_sum`); pixel terms (total variation, temporal) see the whole image.
    Calling it computes the gradient at once (when autograd is on) and returns terms whose
    `total` back-propagates exactly that gradient to the image, so optimisers use it unchanged.
    """

    def __init__(self, objective: Objective, core: int, halo: int) -> None:
        super().__init__()
        if not tileable(objective):
            raise ValueError("tiling supports content terms and whole-image style losses only")
        self.objective, self.core, self.halo = objective, core, halo
        self.content = [t for t in objective.terms if isinstance(t.module, ContentTerm)]
        self.style = [t for t in objective.terms if isinstance(t.module, StyleTerm)]
        self.pixel = [t for t in objective.terms if not t.module.layers]
        self._sizes: dict[tuple[int, int], dict[str, tuple[int, int]]] = {}

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        height, width = image.shape[-2:]
        size = (height, width)
        layout = tiles(height, width, self.core, self.halo)
        grams, content = self._first_pass(image.detach(), layout, size)
        style, dgrams = self._style_terms(grams)
        zero = image.new_zeros((), dtype=torch.float32)
        values = {term.name: term.weight * content[term.name] for term in self.content}
        values.update({term.name: style[term.name].detach() for term in self.style})
        values.update({term.name: term.weight * term.module(image, {}) if term.weight else zero for term in self.pixel})
        if torch.is_grad_enabled() and image.requires_grad:
            grad = self._second_pass(image.detach(), layout, size, dgrams, grams)
            surrogate = (image * grad).sum()
            carrier = (self.style or self.content)[0].name
            values[carrier] = values[carrier] + surrogate - surrogate.detach()
        ordered = {term.name: values[term.name] for term in self.objective.terms}
        ordered["total"] = sum(ordered.values(), zero)
        return ordered

    def _windows(self, image: torch.Tensor, layout: list[Tile]) -> Iterator[tuple[Tile, torch.Tensor]]:
        for tile in layout:
            top, bottom, left, right = tile.window
            yield tile, image[..., top:bottom, left:right]

    def _style_losses(self) -> Iterator[tuple[Term, str, StyleLoss, bool]]:
        """Each (style term, layer, its Gram loss, whether its activations are smoothed first)."""
        for term in self.style:
            assert isinstance(term.module, StyleTerm)
            for layer, wrapped in term.module.losses.items():
                loss, smoothed = _gram_loss(wrapped)
                assert isinstance(loss, StyleLoss)  # tileable() admits whole-image Gram losses only
                yield term, layer, loss, smoothed

    def _style_flat(
        self, features: torch.Tensor, tile: Tile, size: tuple[int, int], layer: str, smoothed: bool
    ) -> torch.Tensor:
        """A tile's core features at a style layer as (B, N, positions), smoothed where the loss is."""
        core = self._core(features, tile, size, layer)
        return (smooth(core) if smoothed else core.float()).flatten(2)

    @torch.no_grad()
    def _first_pass(self, image, layout, size) -> tuple[dict[tuple[str, str], list[Any]], dict[str, torch.Tensor]]:
        """Per (style term, layer) [sum of core F F^T, positions]; and each content term's loss."""
        grams: dict[tuple[str, str], list[Any]] = {
            (term.name, layer): [0.0, 0] for term, layer, _, _ in self._style_losses()
        }
        content = {term.name: image.new_zeros((), dtype=torch.float32) for term in self.content}
        for tile, window in self._windows(image, layout):
            features = self.objective.extractor(window)
            for term, layer, _, smoothed in self._style_losses():
                flat = self._style_flat(features[layer], tile, size, layer, smoothed)
                entry = grams[term.name, layer]
                entry[0], entry[1] = entry[0] + flat @ flat.transpose(1, 2), entry[1] + flat.shape[-1]
            for term in self.content:
                content[term.name] = content[term.name] + self._content_share(term, features, tile, size)
        return grams, content

    def _core(self, features: torch.Tensor, tile: Tile, size: tuple[int, int], layer: str) -> torch.Tensor:
        return crop(features, tile, size, self._full_size(layer, size))

    def _full_size(self, name: str, size: tuple[int, int]) -> tuple[int, int]:
        """A layer's feature map size for the whole image, from a shape-only (meta) run."""
        if size not in self._sizes:
            meta = copy.deepcopy(self.objective.extractor).to("meta")
            features = meta(torch.zeros(1, 3, *size, device="meta"))
            self._sizes[size] = {k: tuple(v.shape[-2:]) for k, v in features.items()}
        return self._sizes[size][name]

    def _content_share(self, term: Term, features, tile, size) -> torch.Tensor:
        """This tile's share of a content term (means over the whole feature map)."""
        assert isinstance(term.module, ContentTerm)
        total = torch.zeros(())
        for name, loss in term.module.losses.items():
            assert isinstance(loss, ContentLoss)  # tileable() admits feature content losses only
            height, width = loss.target.shape[-2:]
            full = (height, width)
            core = crop(features[name], tile, size, full)
            target = crop(loss.target, Tile(tile.core, (0, 0, 0, 0)), size, full)
            rows, cols = min(core.shape[-2], target.shape[-2]), min(core.shape[-1], target.shape[-1])
            share = loss.squared_error_sum(
                core[..., :rows, :cols], target[..., :rows, :cols]
            )  # ends may differ by a position
            total = total + term.module.layer_weights[name] * share / loss.target.numel()
        return total

    def _style_terms(self, grams) -> tuple[dict[str, torch.Tensor], dict[tuple[str, str], torch.Tensor]]:
        """Each weighted style term and its gradient with respect to each layer's Gram matrix."""
        style: dict[str, torch.Tensor] = {}
        dgrams: dict[tuple[str, str], torch.Tensor] = {}
        for term, layer, loss, _ in self._style_losses():
            assert isinstance(term.module, StyleTerm)
            gram = (grams[term.name, layer][0] / grams[term.name, layer][1]).requires_grad_(True)
            with torch.enable_grad():
                value = term.weight * term.module.layer_weights[layer] * loss.loss_of_gram(gram)
                dgrams[term.name, layer] = torch.autograd.grad(value, gram)[0]
            style[term.name] = style.get(term.name, 0.0) + value.detach()
        return style, dgrams

    def _second_pass(self, image, layout, size, dgrams, grams) -> torch.Tensor:
        """The gradient of the feature terms, tile by tile."""
        grad = torch.zeros_like(image)
        for tile, window in self._windows(image, layout):
            window = window.clone().requires_grad_(True)
            features = self.objective.extractor(window)
            share = sum(
                (term.weight * self._content_share(term, features, tile, size) for term in self.content),
                torch.zeros(()),
            )
            for term, layer, _, smoothed in self._style_losses():
                flat = self._style_flat(features[layer], tile, size, layer, smoothed)
                share = (
                    share
                    + (dgrams[term.name, layer] * (flat @ flat.transpose(1, 2))).sum() / grams[term.name, layer][1]
                )
            share.backward()
            assert window.grad is not None
            top, bottom, left, right = tile.window
            grad[..., top:bottom, left:right] += window.grad
        return grad
