"""What every benchmark shares: where its inputs are (../shared, beside the checkout), the
SqueezeNet weights, images as tensors, a description of the machine, and the results files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IMAGES = SHARED / "images"
RESULTS = ROOT / "benchmarks" / "results"
CONTENT = IMAGES / "tubingen.jpg"
STYLE = IMAGES / "starry_night.jpg"
SQUEEZENET = SHARED / "models" / "squeezenet1_1-caffe.pth"
SOURCES = {
    "images": "jcjohnson/neural-style's example inputs (MIT licence; the paintings are in the public domain)",
    "references": "jcjohnson/neural-style's published example outputs (MIT licence)",
    "video": "short clips cut from the sample videos of OpenCV's documentation (BSD/Apache licence)",
}
"""Where each folder of ../shared comes from, for the message when it is missing."""


def require(*paths: Path) -> None:
    """Exits with one line naming the first missing input and where such files come from."""
    for path in paths:
        if path.exists():
            continue
        folder = path.relative_to(SHARED).parts[0] if path.is_relative_to(SHARED) else ""
        source = SOURCES.get(folder, "the project's shared inputs")
        raise SystemExit(
            f"{path} not found: the benchmarks read {source} from ../shared/{folder} beside the checkout; put them there"
        )


def squeezenet_weights() -> str | None:
    """The real SqueezeNet 1.1 weights: ../shared's file when it is there, else None (the
    package's built-in copy of the same tensors)."""
    return str(SQUEEZENET) if SQUEEZENET.exists() else None


def fitted(path: Path, longest: int | None = None) -> Image.Image:
    """An image as RGB, scaled (LANCZOS) so that its longest side is `longest`, as impasto scales
    its inputs: an objective built at that size then uses these very pixels."""
    image = Image.open(path).convert("RGB")
    if longest is None:
        return image
    scale = longest / max(image.size)
    return image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )


def as_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """An RGB image as a float32 (1, 3, H, W) tensor in 0..1."""
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255)
    return pixels.permute(2, 0, 1)[None].contiguous().to(device)


def cpu_name() -> str:
    """The CPU's model and its widest vector instructions, e.g. "AMD EPYC (AVX-512, bf16)"."""
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
        name = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()
    flags = next((line for line in lines if line.startswith("Flags")), "")
    return f"{name} ({'AVX-512' if 'avx512f' in flags else 'AVX2'}{', bf16' if 'avx512_bf16' in flags else ''})"


def machine(device: torch.device | None = None) -> str:
    """The device's name (a GPU's, else the CPU's with its cores and torch's threads) and torch's version."""
    if device is not None and device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{cpu_name()}, {os.cpu_count()} cores, torch on {torch.get_num_threads()} threads"
    return f"{name}, torch {torch.__version__}"


def show(row: dict[str, Any]) -> None:
    """One result as a line of key=value, as it arrives."""
    print("  ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}" for k, v in row.items()), flush=True)


def table(columns: list[str], rows: list[list[Any]], align: str = "") -> list[str]:
    """A Markdown table's lines; `align` has a letter per column, l or r (default: all left)."""
    cells = ("---:" if side == "r" else "---" for side in align.ljust(len(columns), "l"))
    lines = ["| " + " | ".join(columns) + " |", "|" + "".join(f"{cell}|" for cell in cells)]
    return lines + ["| " + " | ".join("" if cell is None else str(cell) for cell in row) + " |" for row in rows]


def write_results(stem: Path, report: Any, markdown: str) -> None:
    """Writes `stem`.json and `stem`.md, each whole or not at all."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    for suffix, text in ((".json", json.dumps(report, indent=1) + "\n"), (".md", markdown.rstrip("\n") + "\n")):
        part = stem.with_name(stem.name + suffix + ".part")
        part.write_text(text)
        part.replace(stem.with_name(stem.name + suffix))
    print(f"wrote {stem}.json and {stem}.md")
