"""Provenance: what made an image (settings, seed, inputs, weights, versions), stored in
the PNG itself or in a JSON sidecar, and read back to repeat the run (`--replay`)."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from impasto.errors import ImpastoError
from impasto.image.io import save_image
from impasto.settings import Settings
from impasto.atomic import write_text_atomic
from impasto.features.weights import sha256_file

PNG_KEY = "impasto"
"""The PNG text chunk that holds the JSON record."""
FORMAT = 1


def sidecar_path(image_path: str | os.PathLike[str]) -> Path:
    """`out.jpg` -> `out.jpg.json`: where non-PNG outputs keep their record."""
    path = Path(image_path)
    return path.with_name(path.name + ".json")


def _input(path: str | os.PathLike[str]) -> dict[str, str]:
    source = Path(path)
    return {"path": str(source), "absolute": str(source.resolve()), "sha256": sha256_file(source)}


def build_record(
    settings: Settings,
    content: str | os.PathLike[str],
    styles: Sequence[str | os.PathLike[str]],
    *,
    version: str,
    device: str,
    weights_sha256: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready record of one run. `settings` are the ones given (defaults still
    open), so a replay under a newer impasto uses its defaults; `resolved` is informative."""
    return {
        "format": FORMAT,
        "impasto": version,
        "settings": settings.to_dict(),
        "resolved": settings.resolved().to_dict(),
        "seed": settings.seed,
        "content": _input(content),
        "styles": [_input(s) for s in styles],
        "weights_sha256": weights_sha256,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
        **(extra or {}),
    }


def save_with_record(image: Image.Image, path: str | os.PathLike[str], record: dict[str, Any]) -> list[Path]:
    """Saves `image` with its record: a PNG text chunk, or a `.json` sidecar for other formats."""
    text = json.dumps(record, sort_keys=True)
    target = Path(path)
    if target.suffix.lower() == ".png":
        return [save_image(image, target, png_text={PNG_KEY: text})]
    return [save_image(image, target), write_text_atomic(sidecar_path(target), json.dumps(record, indent=2) + "\n")]


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of an impasto output: from a PNG's text chunk, a `.json` file, or the
    sidecar beside any other image."""
    source = Path(path)
    if not source.exists():
        raise ImpastoError(f"replay {source}: no such file; give an image impasto wrote", "replay")
    if source.suffix.lower() == ".json":
        text = source.read_text(encoding="utf-8")
    elif source.suffix.lower() == ".png":
        with Image.open(source) as image:
            text = image.text.get(PNG_KEY) if hasattr(image, "text") else None
        if text is None:
            raise ImpastoError(f"replay {source}: this PNG carries no impasto record; was it written by impasto?", "replay")
    elif sidecar_path(source).exists():
        text = sidecar_path(source).read_text(encoding="utf-8")
    else:
        raise ImpastoError(f"replay {source}: its record {sidecar_path(source)} is missing; keep it beside the image", "replay")
    try:
        record = json.loads(text)
        missing = sorted({"settings", "content", "styles", "weights_sha256"} - set(record))
    except (ValueError, TypeError) as error:
        raise ImpastoError(f"replay {source}: its impasto record is damaged ({error})", "replay") from error
    if missing:
        raise ImpastoError(f"replay {source}: its impasto record lacks {', '.join(missing)}", "replay")
    return record


def replay_inputs(record: dict[str, Any]) -> tuple[str, list[str]]:
    """The content and style paths of a record, checked to be the very same files."""
    return _located(record["content"], "content"), [_located(s, "style") for s in record["styles"]]


def _located(entry: dict[str, str], role: str) -> str:
    """The recorded file (as given, else by its absolute path) whose checksum still matches."""
    for candidate in (entry["path"], entry["absolute"]):
        if Path(candidate).is_file():
            if sha256_file(candidate) != entry["sha256"]:
                raise ImpastoError(
                    f"the {role} image {candidate} has changed since the run (its checksum differs): "
                    "restore the original file to replay"
                )
            return candidate
    raise ImpastoError(f"the {role} image {entry['path']} of the recorded run is gone: put it back to replay")


def recorded_settings(record: dict[str, Any], overrides: dict[str, Any] | None = None) -> Settings:
    """The recorded settings with any options given on the command line applied on top."""
    return Settings.from_dict({**record["settings"], **(overrides or {})})
