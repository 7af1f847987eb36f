"""Multi-resolution schedules: the output sizes of a coarse-to-fine run and the
iterations spent at each.

Sizes grow by a constant factor (sqrt(2) unless both ends and a count are given) up to
the output size. Iterations are split so that most are spent at the small, cheap sizes:
each scale gets 1/factor of the previous scale's share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from impasto.errors import ImpastoError

FACTOR = math.sqrt(2)
COARSEST_DEFAULT_SCALE = 256
"""A run that names no scales starts at most this large (three scales at 512 px, five at 1024),
and has at least three scales where the next rule allows (measured: see docs/quality.md)."""
SMALLEST_DEFAULT_SCALE = 128
"""No default scale is smaller: below it the coarse scale sees too little to lay out."""


def default_scales(size: int, iterations: int) -> int:
    """The scale count a run gets when it names none: enough sqrt(2) steps to start at most
    COARSEST_DEFAULT_SCALE px, at least two steps, but none below SMALLEST_DEFAULT_SCALE px
    and no more scales than iterations."""
    steps = max(2, math.ceil(math.log(size / COARSEST_DEFAULT_SCALE, FACTOR) - 1e-9))
    while steps and round(size / FACTOR**steps) < SMALLEST_DEFAULT_SCALE:
        steps -= 1
    return min(1 + steps, iterations)


def scale_sizes(size: int, scales: int | None = None, min_size: int | None = None) -> list[int]:
    """Longest sides of the scales, smallest first and ending at `size`.

    scales only: `size / sqrt(2)**k` for k = scales-1 ... 0;
    min_size only: sizes from `size` down by sqrt(2) while they stay >= min_size;
    both: `scales` sizes spaced geometrically from min_size to size;
    neither: the single size.
    """
    if scales is not None and scales < 1:
        raise ImpastoError(f"scales must be at least 1, got {scales}", "scales")
    if min_size is not None and not 1 <= min_size <= size:
        raise ImpastoError(f"min_size must be between 1 and --size ({size}), got {min_size}", "min_size")
    if scales is None and min_size is None:
        return [size]
    factor = FACTOR
    if scales is None:
        assert min_size is not None  # one of the two is given
        scales = 1 + math.floor(math.log(size / min_size, FACTOR) + 1e-9)
    elif min_size is not None and scales > 1:
        factor = (size / min_size) ** (1 / (scales - 1))
    sizes = [max(1, round(size / factor**k)) for k in reversed(range(scales))]
    if len(set(sizes)) != len(sizes):
        raise ImpastoError(
            f"scales {scales} is too many for size {size}: the smallest scales coincide; use fewer scales", "scales"
        )
    return sizes


def split_iterations(total: int, scales: int, factor: float = FACTOR) -> list[int]:
    """`total` iterations over `scales` scales, each getting 1/factor of the previous
    share (most at the smallest size), at least one each, summing to `total`."""
    if total < scales:
        raise ImpastoError(
            f"iterations {total} is fewer than the {scales} scales: give at least one per scale", "iterations"
        )
    shares = [factor**-k for k in range(scales)]
    exact = [1 + (total - scales) * s / sum(shares) for s in shares]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(scales), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def relative_cost(sizes: Sequence[int], iterations: Sequence[int]) -> float:
    """The work of a schedule in full-size iterations (cost per iteration ~ pixels)."""
    return sum(n * (s / sizes[-1]) ** 2 for s, n in zip(sizes, iterations))
