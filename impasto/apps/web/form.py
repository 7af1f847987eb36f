"""The run settings a browser may choose, described from `Settings` itself (fields, types,
defaults, choices, help) so the page builds its form from one source of truth, and the
values it sends parsed and validated by `Settings` with each error tied to its field."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from impasto.defaults import resolve
from impasto.errors import ImpastoError
from impasto.features.registry import MODELS, spec
from impasto.settings import Settings

SERVER_FIELDS = ("weights", "weights_format", "pooling", "device", "max_memory", "content_mask", "style_mask")
"""Fields the server decides: files on its disk, and what picks or places its loaded networks."""
MAIN_FIELDS = (
    "model",
    "size",
    "iterations",
    "style_weight",
    "preserve_color",
    "init",
    "seed",
    "content_weight",
    "tv_weight",
)
"""Shown first, in this order; the other browser fields go under "Advanced"."""
LABELS = {
    "model": "Network",
    "tv_weight": "Smoothness (TV weight)",
    "preserve_color": "Colour preservation",
    "init": "Initial image",
    "lr": "Learning rate",
    "ema_decay": "Iterate average (EMA decay)",
    "normalize_vgg": "Normalised network",
}


def browser_fields() -> list[dataclasses.Field]:
    """The Settings fields a browser may set, main ones first, then the rest in declaration
    order: never one in SERVER_FIELDS, nor any field that names a file (metavar FILE), even
    one added to Settings later."""
    fields = {
        f.name: f
        for f in dataclasses.fields(Settings)
        if f.name not in SERVER_FIELDS and "FILE" not in f.metadata.get("metavar", "")
    }
    return [fields[name] for name in MAIN_FIELDS] + [f for name, f in fields.items() if name not in MAIN_FIELDS]


def _kind(hint: Any) -> tuple[str, str | None, bool]:
    """(kind, item kind for lists, optional) for a Settings annotation."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kind, item, _ = _kind(args[0])
        return kind, item, True
    if typing.get_origin(hint) is tuple:
        return "list", args[0].__name__, False
    return hint.__name__, None, False


def schema(default_model: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The form as JSON: each field's kind, default, choices, help and group, the network
    menu's `labels` (e.g. "SqueezeNet 1.1 (built in)"), plus the defaults each network fills
    in (shown as placeholders where a field is left empty)."""
    hints = typing.get_type_hints(Settings)
    fields = []
    for f in browser_fields():
        kind, item, optional = _kind(hints[f.name])
        default = default_model if f.name == "model" else f.default
        fields.append(
            {
                "name": f.name,
                "label": _label(f.name),
                "kind": kind,
                "item": item,
                "optional": optional,
                "default": list(default) if isinstance(default, tuple) else default,
                "choices": list(f.metadata["choices"]) if "choices" in f.metadata else None,
                "help": f.metadata["help"].replace("%%", "%").replace("--", ""),
                "group": "main" if f.name in MAIN_FIELDS else "advanced",
            }
        )
    return {
        "fields": fields,
        "models": {name: spec(name).display for name in MODELS},
        "model_labels": {name: (labels or {}).get(name, spec(name).display) for name in MODELS},
        "network_defaults": {name: _network_defaults(name) for name in MODELS},
    }


def _network_defaults(model: str) -> dict[str, Any]:
    """The values `impasto.defaults.resolve` fills in for `model` where a field is left empty."""
    given = Settings(model=model)
    resolved = resolve(given).to_dict()
    filled = [name for name, value in given.to_dict().items() if value is None and resolved[name] is not None]
    return {name: resolved[name] for name in filled if name not in SERVER_FIELDS}


def parse(values: dict[str, Any], default_model: str, max_size: int) -> dict[str, Any]:
    """The browser's values as Settings fields (empty optional fields left out, the model
    the server's default unless chosen), validated by `Settings` itself; raises an ImpastoError whose
    `setting` names the first bad field (None: the form as a whole)."""
    if not isinstance(values, dict):
        raise ImpastoError("settings must be a JSON object of field names and values")
    hints = typing.get_type_hints(Settings)
    allowed = {f.name for f in browser_fields()}
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in allowed:
            raise ImpastoError(f"{name!r} cannot be set from the page: the server chooses it")
        kind, item, optional = _kind(hints[name])
        if raw is None or raw == "":
            if not optional:
                raise ImpastoError(f"{_label(name)} needs a value", name)
            continue
        parsed[name] = _coerce(name, kind, item, raw)
    parsed.setdefault("model", default_model)
    if parsed.get("size", 0) > max_size:
        raise ImpastoError(f"Size is at most {max_size} pixels on this server (impasto serve --max-size)", "size")
    try:
        resolve(Settings(**parsed))
    except ImpastoError as error:
        raise _labelled(error) from None
    return parsed


def _coerce(name: str, kind: str, item: str | None, raw: Any) -> Any:
    """One value in the field's type, or an error that says what was expected."""
    if kind == "list" and item is not None:
        parts = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(_scalar(name, item, part) for part in parts if str(part).strip())
    return _scalar(name, kind, raw)


def _scalar(name: str, kind: str, raw: Any) -> Any:
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ImpastoError(f"{_label(name)} must be on or off", name)
        return raw
    if kind == "str":
        return str(raw).strip()
    text = str(raw).strip()
    try:
        value = int(text) if kind == "int" else float(text)
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        raise ImpastoError(f"{_label(name)} must be {what}, got {text[:40]!r}", name) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ImpastoError(f"{_label(name)} must be a finite number, got {text[:40]!r}", name)
    return value


def _labelled(error: ImpastoError) -> ImpastoError:
    """A Settings error phrased with its field's label, as the page shows it beside the field."""
    message, name = str(error), error.setting
    if name is not None and message.startswith(name):
        message = _label(name) + message[len(name) :]
    return ImpastoError(message, name)


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())
