"""Quality benchmark: impasto's results beside jcjohnson/neural-style's published ones.

Every result is graded by measures that use no network (`benchmarks.measures`): the style distance
(patch sliced-Wasserstein over a Gaussian pyramid, lower is closer to the artwork) and the
content similarity (SSIM of blurred luminance, higher keeps more of the photo). For each of
the nine reference pairs it runs impasto's defaults (SqueezeNet 1.1, real weights) at
`--size`, measures the result and the reference output the same way, and draws a contact
sheet: photo | style | reference | impasto. `--strengths` adds impasto's curve over the
style weight (at `--sweep-size`); `--variant key=value,...` adds runs with other settings
(starts, scales, losses), each measured the same way.

Writes results/quality.json, results/quality.md and results/sheet-*.jpg.

    python3 -m benchmarks.quality [--size 512] [--iterations N] [--strengths 10 30 100]
    python3 -m benchmarks.quality --pairs tubingen_starry --size 128 --iterations 20 --out /tmp/bench  # a try-out
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from benchmarks.common import IMAGES, RESULTS, SHARED, as_tensor, fitted, require, squeezenet_weights, write_results
from benchmarks.measures import LEVELS, content_similarity, style_distances_by_level
from impasto import Iterate, Settings, Stylizer

REFERENCES = (  # reference file, photo, artwork
    ("golden_gate_matisse", "golden_gate", "woman-with-hat-matisse"),
    ("golden_gate_scream", "golden_gate", "the_scream"),
    ("golden_gate_seated", "golden_gate", "seated-nude"),
    ("golden_gate_starry", "golden_gate", "starry_night"),
    ("tubingen_scream", "tubingen", "the_scream"),
    ("tubingen_seated_nude", "tubingen", "seated-nude"),
    ("tubingen_shipwreck", "tubingen", "shipwreck"),
    ("tubingen_starry", "tubingen", "starry_night"),
    ("pitt_picasso_content_5_style_10", "brad_pitt", "picasso_selfport1907"),
)


def tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) float tensor in 0..1."""
    return as_tensor(image)[0]


def measure(result: Image.Image, photo: Image.Image, style: Image.Image) -> dict[str, Any]:
    """Style distance (with its value at each pyramid level) and content similarity of one result."""
    levels = style_distances_by_level(tensor(result), tensor(style))
    return {
        "style_distance": sum(levels) / len(levels),
        "style_distance_levels": levels,
        "content_similarity": content_similarity(tensor(result), tensor(photo)),
    }


def contact_sheet(images: list[Image.Image], height: int = 256) -> Image.Image:
    """The images side by side at one height, 8 px apart on white."""
    parts = [im.resize((round(im.width * height / im.height), height), Image.Resampling.LANCZOS) for im in images]
    sheet = Image.new("RGB", (sum(p.width for p in parts) + 8 * (len(parts) - 1), height), "white")
    x = 0
    for part in parts:
        sheet.paste(part, (x, 0))
        x += part.width + 8
    return sheet


def parse_variant(text: str) -> dict:
    """'init=blend,scales=3,style_layers=relu1+fire2' -> {'init': 'blend', 'scales': 3, 'style_layers': ('relu1', 'fire2')}."""
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return {key: _value(value) for key, value in pairs}


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return tuple(_value(part) for part in text.split("+")) if "+" in text else text


def run_one(
    stylizer: Stylizer, photo: str, style: str, label: str, out: Path, **overrides: Any
) -> tuple[Image.Image, dict]:
    """Runs one stylisation, saves it, and returns it with its measures (and the scales it ran)."""
    scales: set[int] = set()

    def count(event: Iterate) -> None:
        scales.add(event.scales)

    start = time.perf_counter()
    result = stylizer.run(IMAGES / f"{photo}.jpg", IMAGES / f"{style}.jpg", callback=count, **overrides)
    seconds = time.perf_counter() - start
    result.save(out / f"quality-{label}-{photo}-{style}.png")
    images = [Image.open(IMAGES / f"{name}.jpg") for name in (photo, style)]
    return result, {
        "label": label,
        "photo": photo,
        "style": style,
        "seconds": round(seconds, 1),
        "scales": max(scales),
        "settings": {k: str(v) for k, v in overrides.items()},
        **measure(result, *images),
    }


def markdown(rows: list[dict], note: str) -> str:
    """The per-pair table (reference beside impasto's default) and any sweep or variant rows."""
    lines = [
        "| photo × style | reference: style distance | impasto: style distance | reference: content similarity "
        "| impasto: content similarity | at least as stylised and as faithful |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    ref = {(r["photo"], r["style"]): r for r in rows if r["label"] == "reference"}
    for r in rows:
        if r["label"] != "default":
            continue
        q = ref[r["photo"], r["style"]]
        wins = dominates(r, q)
        lines.append(
            f"| {r['photo']} × {r['style']} | {q['style_distance']:.4f} | {r['style_distance']:.4f} | "
            f"{q['content_similarity']:.3f} | {r['content_similarity']:.3f} | {'yes' if wins else 'no'} |"
        )
    lines += [
        "",
        "Style distance at each pyramid level, reference / impasto (level k: 7x7 patches of the image "
        "halved k times, so each spans 7·2^k pixels):",
        "",
        "| photo × style | " + " | ".join(f"level {k}" for k in range(LEVELS)) + " |",
        "|---|" + "---:|" * LEVELS,
    ]
    for r in rows:
        if r["label"] == "default":
            q = ref[r["photo"], r["style"]]
            cells = (f"{a:.3f} / {b:.3f}" for a, b in zip(q["style_distance_levels"], r["style_distance_levels"]))
            lines.append(f"| {r['photo']} × {r['style']} | " + " | ".join(cells) + " |")
    return "\n".join(lines + _other_runs(rows, ref)) + f"\n\n{note}\n"


def dominates(row: dict, reference: dict) -> bool:
    """At least as stylised (style distance) and as faithful (content similarity) as the reference."""
    return (
        row["style_distance"] <= reference["style_distance"]
        and row["content_similarity"] >= reference["content_similarity"]
    )


def _other_runs(rows: list[dict], ref: dict) -> list[str]:
    """The variant and sweep rows, each marked where it dominates the reference, and each variant's tally."""
    others = [r for r in rows if r["label"] not in ("default", "reference")]
    if not others:
        return []
    lines = [
        "",
        "| run | photo × style | settings | style distance | content similarity | seconds | dominates |",
        "|---|---|---|---:|---:|---:|:---:|",
    ]
    for r in others:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        wins = "yes" if dominates(r, ref[r["photo"], r["style"]]) else "no"
        lines.append(
            f"| {r['label']} | {r['photo']} × {r['style']} | {settings} | "
            f"{r['style_distance']:.4f} | {r['content_similarity']:.3f} | {r['seconds']} | {wins} |"
        )
    tally: dict[str, list[bool]] = {}
    for r in rows:
        if r["label"] != "reference":
            tally.setdefault(r["label"], []).append(dominates(r, ref[r["photo"], r["style"]]))
    lines += ["", "| run | pairs where it dominates the reference |", "|---|---:|"]
    lines += [f"| {label} | {sum(wins)} of {len(wins)} |" for label, wins in tally.items()]
    return lines


def reference_row(name: str, photo: str, style: str, size: int) -> tuple[Image.Image, dict]:
    """jcjohnson/neural-style's published output, measured at the run's size as impasto's result."""
    images = [Image.open(IMAGES / f"{n}.jpg") for n in (photo, style)]
    reference = fitted(SHARED / "references" / f"{name}.png", size)
    row = {"label": "reference", "photo": photo, "style": style, "seconds": 0, "settings": {}}
    return reference, {**row, **measure(reference, *images)}


def run_pair(stylizer: Stylizer, reference: tuple[str, str, str], base: dict, args: argparse.Namespace) -> list[dict]:
    """The reference's row, impasto's default run with its contact sheet, and any variants and sweep."""
    name, photo, style = reference
    picture, row = reference_row(name, photo, style, args.size)
    result, default = run_one(stylizer, photo, style, "default", args.out, **base)
    images = [Image.open(IMAGES / f"{n}.jpg") for n in (photo, style)]
    contact_sheet([*images, picture, result]).save(args.out / f"sheet-{photo}-{style}.jpg", quality=88)
    rows = [row, default]
    for i, variant in enumerate(args.variant):
        rows.append(run_one(stylizer, photo, style, f"variant{i}", args.out, **base | parse_variant(variant))[1])
    for weight in args.strengths:
        sweep = base | {"size": args.sweep_size, "style_weight": weight}
        rows.append(run_one(stylizer, photo, style, f"sweep{weight:g}", args.out, **sweep)[1])
    return rows


def describe(settings: Settings, size: int, scales: int) -> str:
    """The note under the tables: what ran, and how it was measured."""
    return (
        f"SqueezeNet 1.1 (real weights), {size} px, style_loss {settings.style_loss}, style weight "
        f"{settings.style_weight:g}, {settings.iterations} iterations at most (stop_tolerance "
        f"{settings.stop_tolerance}), start {settings.init}, scales {scales}. "
        "Style distance: patch sliced-Wasserstein over a 6-level Gaussian pyramid (lower is closer to the artwork); "
        "content similarity: SSIM of blurred luminance (higher keeps more of the photo). Reference: "
        "jcjohnson/neural-style's published output, measured the same way."
    )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, help="default: impasto's")
    parser.add_argument("--pairs", nargs="*", help="reference names to run (default: all nine)")
    parser.add_argument("--strengths", type=float, nargs="*", default=[], help="style weights for the sweep")
    parser.add_argument("--sweep-size", type=int, default=256)
    parser.add_argument("--variant", action="append", default=[], help="extra run at --size, e.g. init=blend,scales=3")
    parser.add_argument(
        "--defaults", default="", help="settings that replace impasto's defaults for every run, e.g. scales=3"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    references = [r for r in REFERENCES if not args.pairs or r[0] in args.pairs]
    needed = [(SHARED / "references" / f"{n}.png", IMAGES / f"{p}.jpg", IMAGES / f"{s}.jpg") for n, p, s in references]
    require(*(path for paths in needed for path in paths))
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    stylizer = Stylizer(Settings(model="squeezenet1_1", weights=squeezenet_weights()))
    base = {"size": args.size} | ({"iterations": args.iterations} if args.iterations else {})
    base |= parse_variant(args.defaults)
    rows: list[dict] = []
    for reference in references:
        rows += run_pair(stylizer, reference, base, args)
        (args.out / "quality.json").write_text(json.dumps(rows, indent=1) + "\n")  # partial results survive a stop
    scales = max(r["scales"] for r in rows if r["label"] == "default")
    note = describe(stylizer.settings_for(**base), args.size, scales)
    write_results(args.out / "quality", rows, markdown(rows, note))


if __name__ == "__main__":
    main()
