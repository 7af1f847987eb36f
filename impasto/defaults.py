"""The defaults that depend on other settings, filled in in one place: the network's layers,
the style weight of the loss and scale count, the optimiser's learning rate and iterate
average, the scale count; and the iterations a run makes in all.

Every front end and the engine call `resolve`; a record keeps both the settings as given
(a replay under a newer impasto takes its defaults) and the resolved ones (for reading).
Like `Settings`, this module imports no PyTorch.
"""

from __future__ import annotations

import dataclasses

from impasto.features.catalogue import network
from impasto.losses.kinds import content_loss, style_loss
from impasto.optim.optimizers import optimizer
from impasto.optim.schedule import default_scales, scale_sizes
from impasto.settings import Settings

HALVED_UP_TO_SCALES = 3
"""A normalised loss's default strength halves per coarser scale up to this many scales (measured)."""


def resolve(settings: Settings) -> Settings:
    """A copy of `settings` with every default that depends on other settings filled in."""
    net = network(settings.model)
    style_layers = settings.style_layers or net.style_layers
    scales = default_scale_count(settings) if settings.scales is None else settings.scales
    entry = optimizer(settings.optimizer)
    return dataclasses.replace(
        settings,
        content_layers=settings.content_layers or default_content_layers(settings),
        style_layers=style_layers,
        style_layer_weights=settings.style_layer_weights or (1.0,) * len(style_layers),
        style_weight=default_style_weight(settings, scales) if settings.style_weight is None else settings.style_weight,
        lr=entry.default_lr if settings.lr is None else settings.lr,
        ema_decay=entry.default_ema_decay if settings.ema_decay is None else settings.ema_decay,
        scales=scales,
    )


def default_content_layers(settings: Settings) -> tuple[str, ...]:
    """The network's content layers; for a content loss that takes the style layers too (self-similarity),
    its content and style layers, shallow to deep."""
    net = network(settings.model)
    if not content_loss(settings.content_loss).with_style_layers:
        return net.content_layers
    wanted = {*net.content_layers, *(settings.style_layers or net.style_layers)}
    return tuple(layer for layer in net.layers if layer in wanted)


def default_scale_count(settings: Settings) -> int | None:
    """One per `scale_iterations`, else min_size's count (left open), else `default_scales`."""
    if settings.scale_iterations is not None:
        return len(settings.scale_iterations)
    return None if settings.min_size is not None else default_scales(settings.size, settings.iterations)


def default_style_weight(settings: Settings, scales: int | None) -> float:
    """The network's paper weight for the paper's loss, else the normalised loss's one-scale
    strength halved for each coarser scale up to HALVED_UP_TO_SCALES: a coarse scale lays the style
    out and the finer ones keep it, so a coarse-to-fine run stylises more at the same weight
    (measured: one scale at 20 and three at 5 give the benchmark's best results; more scales
    add less and keep three's weight)."""
    one_scale = style_loss(settings.style_loss).one_scale_weight
    if one_scale is None:
        return network(settings.model).style_weight
    count = min(len(scale_sizes(settings.size, scales, settings.min_size)), HALVED_UP_TO_SCALES)
    return one_scale / 2 ** (count - 1)


def total_iterations(settings: Settings) -> int:
    """The iterations a run of `settings` makes at most, over all its scales (what its progress counts
    to): `scale_iterations` summed, else `iterations`, which the scales split among them."""
    return settings.iterations if settings.scale_iterations is None else sum(settings.scale_iterations)
