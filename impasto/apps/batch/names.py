"""Output names `CONTENT__STYLE.png`: readable, unique (also on case-insensitive disks) and short."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

SEPARATOR = "__"
MAX_LABEL_BYTES = 80
"""Longest label of one input in an output name, in UTF-8 bytes; names stay far below 255."""
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def short_hash(text: str) -> str:
    """Six hex digits that tell apart names which would otherwise be equal."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:6]


def _clean(text: str) -> str:
    """The text with characters that some disks refuse replaced, and no leading dots or spaces."""
    return _UNSAFE.sub("_", text).lstrip(". ") or "image"


def _shortened(label: str) -> str:
    """The label cut to MAX_LABEL_BYTES, ending in a hash of the whole so cut labels stay distinct."""
    data = label.encode("utf-8", "surrogateescape")
    if len(data) <= MAX_LABEL_BYTES:
        return label
    head = data[: MAX_LABEL_BYTES - 7].decode("utf-8", "ignore")
    return f"{head}-{short_hash(label)}"


def labels(paths: Sequence[Path]) -> dict[Path, str]:
    """A distinct label for each input: its stem; its whole name where stems collide (a.jpg,
    a.png); plus a hash of its path where even names collide (x/a.jpg, y/a.jpg)."""
    unique = list(dict.fromkeys(paths))
    stems = Counter(_clean(p.stem).casefold() for p in unique)
    first = {p: _clean(p.stem) if stems[_clean(p.stem).casefold()] == 1 else _clean(p.name) for p in unique}
    names = Counter(label.casefold() for label in first.values())
    return {
        p: _shortened(label if names[label.casefold()] == 1 else f"{label}-{short_hash(str(p))}")
        for p, label in first.items()
    }


def output_names(pairs: Sequence[tuple[Path, Path]]) -> list[str]:
    """`CONTENT__STYLE.png` for each (content, style) pair, unique even when labels hold the
    separator themselves (a__b + c against a + b__c)."""
    content_labels = labels([c for c, _ in pairs])
    style_labels = labels([s for _, s in pairs])
    names = [f"{content_labels[c]}{SEPARATOR}{style_labels[s]}" for c, s in pairs]
    counts = Counter(name.casefold() for name in names)
    return [
        f"{name}.png" if counts[name.casefold()] == 1 else f"{name}-{short_hash(f'{c}|{s}')}.png"
        for name, (c, s) in zip(names, pairs)
    ]
