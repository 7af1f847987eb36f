"""Checks of a frozen dataclass's fields against their annotations and metadata: the one
validator of `Settings` and `OutputOptions`, so a new field is checked the moment it exists.

Every value must have its annotated type (`int`, `float`, `str`, `bool`, `tuple[T, ...]`,
each optionally `| None`); numbers must be finite and within the field's metadata bounds
(`minimum`, `maximum` inclusive; `above`, `below` exclusive; applied to each item of a
tuple); strings non-empty and, where the metadata lists `choices`, one of them. Values are
normalised in place (NumPy numbers to Python ones, ints to floats, lists to tuples), so the
dataclass round-trips through JSON. The first problem raises an `ImpastoError` naming the
field.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from typing import Any

from impasto.errors import ImpastoError

_NAMES = {int: "a whole number", float: "a number", str: "a text", bool: "true or false"}


def check_fields(instance: Any) -> None:
    """Validates and normalises every field of the frozen dataclass `instance`."""
    cls: type = type(instance)
    hints = _hints(cls)
    for f in dataclasses.fields(instance):
        value = _checked(f.name, getattr(instance, f.name), hints[f.name], f.metadata)
        object.__setattr__(instance, f.name, value)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _checked(name: str, value: Any, annotation: Any, metadata: Any) -> Any:
    """`value` converted to the field's type, or an ImpastoError naming the field."""
    kind, optional = _unwrapped(annotation)
    if value is None:
        if optional:
            return None
        raise ImpastoError(f"{name} must be given: it has no empty value", name)
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
            raise ImpastoError(f"{name} must be a list of {_NAMES[item]}s, got {value!r}", name)
        if not value:
            raise ImpastoError(f"{name} must list at least one value, got none", name)
        return tuple(_scalar(name, v, item, metadata) for v in value)
    return _scalar(name, value, kind, metadata)


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(annotation))
    return annotation, False


def _scalar(name: str, value: Any, kind: type, metadata: Any) -> Any:
    """One value of type `kind`, converted, and checked against the field's bounds and choices."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ImpastoError(f"{name} must be true or false, got {value!r}", name)
        return bool(value)
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise ImpastoError(f"{name} must be a non-empty text, got {value!r}", name)
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ImpastoError(f"{name} must be a whole number, got {value!r}", name)
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ImpastoError(f"{name} must be a number, got {value!r}", name)
        value = float(value)
        if not math.isfinite(value):
            raise ImpastoError(f"{name} must be a finite number, got {value}", name)
    _check_bounds(name, value, metadata)
    choices = metadata.get("choices")
    if choices is not None and value not in choices:
        raise ImpastoError(f"{name} {value!r} is unknown: choose from {', '.join(map(str, choices))}", name)
    return value


def _check_bounds(name: str, value: Any, metadata: Any) -> None:
    if isinstance(value, str):
        return
    low, high = metadata.get("minimum"), metadata.get("maximum")
    above, below = metadata.get("above"), metadata.get("below")
    if low is not None and value < low:
        raise ImpastoError(f"{name} must be at least {low}, got {value}", name)
    if high is not None and value > high:
        raise ImpastoError(f"{name} must be at most {high:,}, got {value:,}", name)
    if above is not None and not value > above:
        raise ImpastoError(f"{name} must be above {above}, got {value}", name)
    if below is not None and not value < below:
        raise ImpastoError(f"{name} must be below {below}, got {value}", name)
