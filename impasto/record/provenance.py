"""Provenance: what made an image (settings, seed, inputs, weights, versions), stored in
the PNG itself or in a JSON sidecar, and read back to repeat the run (`--replay`)."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from impasto.atomic import write_text_atomic
from impasto.errors import ImpastoError
from impasto.features.weights import sha256_file
from impasto.files import read_input
from impasto.image.io import opened_image, save_image
from impasto.settings import Settings

PNG_KEY = "impasto"
"""The PNG text chunk that holds the JSON record."""
FORMAT = 1


def sidecar_path(image_path: str | os.PathLike[str]) -> Path:
    """`out.jpg` -> `out.jpg.json`: where non-PNG outputs keep their record."""
    path = Path(image_path)
    return path.with_name(path.name + ".json")


def record_files(image_path: str | os.PathLike[str]) -> list[Path]:
    """The files `save_with_record` writes: the image, and its sidecar unless it is a PNG."""
    path = Path(image_path)
    return [path] if path.suffix.lower() == ".png" else [path, sidecar_path(path)]


def _input(path: str | os.PathLike[str], checksums: Mapping[str, str]) -> dict[str, str]:
    source = Path(path)
    digest = checksums.get(str(path)) or sha256_file(source)
    return {"path": str(source), "absolute": str(source.resolve()), "sha256": digest}


def build_record(
    settings: Settings,
    content: str | os.PathLike[str],
    styles: Sequence[str | os.PathLike[str]],
    *,
    version: str,
    device: str,
    weights_sha256: str,
    resolved: Settings,
    extra: dict[str, Any] | None = None,
    checksums: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-ready record of one run. `settings` are the ones given (defaults still open), kept
    under "settings" so that a replay under a newer impasto uses its defaults; `resolved` are the
    ones the run used (`impasto.defaults.resolve` of them), kept under "resolved" for reading. `checksums` (path -> SHA-256) are those of the bytes the run read,
    where it has them."""
    checksums = checksums or {}
    return {
        "format": FORMAT,
        "impasto": version,
        "settings": settings.to_dict(),
        "resolved": resolved.to_dict(),
        "seed": settings.seed,
        "content": _input(content, checksums),
        "styles": [_input(s, checksums) for s in styles],
        "weights_sha256": weights_sha256,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
        **(extra or {}),
    }


def save_with_record(
    image: Image.Image | torch.Tensor,
    path: str | os.PathLike[str],
    record: dict[str, Any],
    *,
    bits: int = 8,
    replace: bool = True,
) -> list[Path]:
    """Saves `image` (see `save_image`) with its record: a PNG text chunk, or a `.json`
    sidecar for other formats (written first, so that an image never lacks its record)."""
    target = Path(path)
    if target.suffix.lower() == ".png":
        return [
            save_image(
                image, target, png_text={PNG_KEY: json.dumps(record, sort_keys=True)}, bits=bits, replace=replace
            )
        ]
    sidecar = write_text_atomic(sidecar_path(target), json.dumps(record, indent=2) + "\n", replace)
    return [save_image(image, target, bits=bits, replace=replace), sidecar]


RECORD = {"settings": dict, "content": dict, "styles": list, "weights_sha256": str}
"""The entries a replay needs, and their types."""
INPUT = ("path", "absolute", "sha256")
"""The entries of each recorded input, all texts."""


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of an impasto output: from a PNG's text chunk, a `.json` file, or the
    sidecar beside any other image, read and checked like every input."""
    source = Path(path)
    data = read_input(source, "image", "replay")
    if source.suffix.lower() == ".json":
        return _parsed(data, source)
    with opened_image(data, f"replay image {source}", "replay") as image:
        text = getattr(image, "text", {}).get(PNG_KEY) if image.format == "PNG" else None
    if text is not None:
        return _parsed(text.encode("utf-8"), source)
    if image.format == "PNG":
        raise ImpastoError(
            f"replay {source}: this PNG carries no impasto record: replay an image impasto wrote", "replay"
        )
    if not os.path.lexists(sidecar_path(source)):
        raise ImpastoError(
            f"replay {source}: its record {sidecar_path(source)} is missing; keep it beside the image", "replay"
        )
    return _parsed(read_input(sidecar_path(source), "record", "replay"), source)


def _parsed(data: bytes, source: Path) -> dict[str, Any]:
    """A record's JSON, with every entry a replay reads present and of its type."""
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ImpastoError(
            f"replay {source}: its impasto record is damaged (not UTF-8 JSON): re-run the original", "replay"
        ) from error
    invalid = _invalid_entry(record)
    if invalid:
        raise ImpastoError(
            f"replay {source}: its impasto record lacks a valid {invalid!r} entry: re-run the original", "replay"
        )
    return record


def _invalid_entry(record: Any) -> str | None:
    """The first entry a replay needs that is missing or malformed, or None."""
    if not isinstance(record, dict):
        return "settings"
    for key, kind in RECORD.items():
        if not isinstance(record.get(key), kind):
            return key
    for key, entries in (("content", [record["content"]]), ("styles", record["styles"])):
        if not entries or not all(
            isinstance(e, dict) and all(isinstance(e.get(k), str) for k in INPUT) for e in entries
        ):
            return key
    return None


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
