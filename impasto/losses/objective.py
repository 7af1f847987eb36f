"""The objective: a list of named, weighted loss terms evaluated on one network's features.

A term is a module called as `term(image, features)` that returns a float32 scalar; its
`layers` attribute names the feature maps it reads (empty for terms of the pixels alone,
such as total variation). Adding a loss is adding one `(name, term, weight)` entry: the
progress bar, loss log and plot show whatever terms arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from impasto.losses.terms import ContentTerm, LayerTerm, StyleTerm, TotalVariationLoss


@dataclass(frozen=True)
class Term:
    """A loss term under its reported name, with the weight it enters the total with."""

    name: str
    module: nn.Module
    weight: float


def paper_terms(
    content_losses: Mapping[str, nn.Module],
    style_losses: Mapping[str, nn.Module],
    style_layer_weights: Sequence[float],
    content_weight: float,
    style_weight: float,
    tv_weight: float,
) -> list[Term]:
    """The paper's content and style terms, with total variation: "content", "style", "tv"."""
    return [
        Term("content", ContentTerm(dict(content_losses)), content_weight),
        Term("style", StyleTerm(dict(style_losses), style_layer_weights), style_weight),
        Term("tv", TotalVariationLoss(), tv_weight),
    ]


def layers_of(terms: Sequence[Term]) -> tuple[str, ...]:
    """The feature layers the terms read, each once, in order of first use."""
    return tuple(dict.fromkeys(layer for term in terms for layer in _layers(term.module)))


def _layers(module: nn.Module) -> tuple[str, ...]:
    """The feature layers a term's module reads (none for a term of the pixels alone)."""
    return tuple(getattr(module, "layers", ()))


class Objective(nn.Module):
    """Total loss of an image: the weighted sum of its terms."""

    def __init__(self, extractor: nn.Module, terms: Sequence[Term]) -> None:
        super().__init__()
        self.extractor = extractor
        self.terms = list(terms)
        self.modules_ = nn.ModuleList(term.module for term in self.terms)  # buffers follow .to(device)
        self.layers = layers_of(self.terms)
        readers = [term for term in self.terms if term.weight and _layers(term.module)]
        layered = [(term.name, term.module) for term in readers if isinstance(term.module, LayerTerm)]
        self.streamed: dict[str, list[tuple[str, LayerTerm]]] = {}
        """The layers evaluated as the network computes them, each with the terms (name, module) that read it."""
        for name, module in layered if len(layered) == len(readers) else []:
            for layer in module.layers:
                self.streamed.setdefault(layer, []).append((name, module))

    def term(self, name: str) -> Term:
        """The term reported as `name`."""
        return next(term for term in self.terms if term.name == name)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each term's weighted value, as it enters the total, and the total.

        When every term that reads features is a `LayerTerm` (the paper's content and style
        terms), each layer's losses are taken as the network computes it (the consumers of
        `FeatureExtractor.forward`): the same values for less memory."""
        zero = image.new_zeros((), dtype=torch.float32)
        shares: dict[str, torch.Tensor] = {}

        def consumer(layer: str) -> Callable[[torch.Tensor], None]:
            def take(features: torch.Tensor) -> None:
                with torch.autocast(features.device.type, enabled=False):  # losses in float32
                    for name, module in self.streamed[layer]:
                        shares[name] = shares.get(name, zero) + module.layer_loss(layer, features)

            return take

        consumers = {layer: consumer(layer) for layer in self.streamed}
        features = self.extractor(image, consumers) if self.layers else {}
        values = {
            term.name: zero
            if not term.weight
            else term.weight * (shares[term.name] if term.name in shares else term.module(image, features))
            for term in self.terms
        }
        values["total"] = sum(values.values(), zero) if values else zero
        return values
