"""The smallest image a feature network accepts: found once per model and depth by running a
one-channel copy of the registry's layer stack on a few tiny probes, so it is exact for every
network and layer, whatever its modules do, without a table to keep in step."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator

import torch

from impasto.features.registry import spec


def min_side(model: str, layers: Iterable[str]) -> int:
    """Pixels each side of an image needs so that every one of `layers` has a feature map
    (at least 2, which the total-variation loss needs)."""
    names = [name for name, _ in _stack(model)]
    return _min_side(model, max(names.index(layer) for layer in layers) + 1)


@functools.cache
def _stack(model: str) -> list[tuple[str, torch.nn.Module]]:
    return spec(model).build(width=1e-3)  # one channel per layer: only the sizes matter


@functools.cache
def _min_side(model: str, depth: int) -> int:
    network = torch.nn.Sequential(*(module for _, module in _stack(model)[:depth]))

    def fits(side: int) -> bool:
        try:
            return min(network(torch.zeros(1, 3, side, side)).shape[-2:]) >= 1
        except RuntimeError:  # "output size is too small" and its kin
            return False

    with torch.no_grad(), _one_thread():
        high = 2
        while not fits(high):  # doubling, then halving the gap: about ten probes of a few pixels
            high *= 2
        low = high // 2 + 1
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return max(2, high)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny probes run a hundred times faster on one thread than on a busy pool."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
