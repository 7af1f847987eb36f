"""Style scale benchmark: does `--style-scale` change the size of the strokes?

For each pair (by default both Starry Night pairs) it runs impasto at each style scale (0.5, 1
and 2 by default) with the same other settings, measures every result's style distance at each
level of the pyramid (`benchmarks.measures`: level k compares 7x7 patches of the image halved k
times, so the coarse levels see large shapes and long strokes), and draws one contact sheet per
pair: photo | artwork | one result per scale. Larger strokes show as coarse levels moving toward
the artwork as the scale grows.

Writes results/style-scale.json, results/style-scale.md and results/style-scale-*.jpg.

    python3 -m benchmarks.style_scale [--size 512] [--scales 0.5 1 2] [--settings style_loss=swd]
    python3 -m benchmarks.style_scale --size 128 --scales 1 2 --out /tmp/bench  # a try-out in under a minute

Six runs at 512 px take about four minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from benchmarks.common import IMAGES, RESULTS, machine, require, squeezenet_weights, table, write_results
from benchmarks.measures import LEVELS
from benchmarks.quality import contact_sheet, parse_variant, run_one
from impasto import Settings, Stylizer

PAIRS = (("golden_gate", "starry_night"), ("tubingen", "starry_night"))


def run_pair(stylizer: Stylizer, photo: str, style: str, args: argparse.Namespace) -> list[dict]:
    """One result per style scale, measured, with the pair's contact sheet."""
    rows, results = [], []
    for scale in args.scales:
        overrides = {"size": args.size, "style_scale": scale} | parse_variant(args.settings)
        result, row = run_one(stylizer, photo, style, f"scale{scale:g}", args.out, **overrides)
        rows.append(row | {"style_scale": scale})
        results.append(result)
        print(f"{photo} × {style} at style scale {scale:g}: {row['style_distance']:.4f}", flush=True)
    images = [Image.open(IMAGES / f"{name}.jpg") for name in (photo, style)]
    contact_sheet([*images, *results]).save(args.out / f"style-scale-{photo}-{style}.jpg", quality=88)
    return rows


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    """One line per result: its style distance at every pyramid level, and its content similarity."""
    columns = ["photo × style", "style scale", *(f"level {k}" for k in range(LEVELS)), "mean", "content similarity"]
    lines = [
        [
            f"{r['photo']} × {r['style']}",
            f"{r['style_scale']:g}",
            *(f"{d:.3f}" for d in r["style_distance_levels"]),
            f"{r['style_distance']:.4f}",
            f"{r['content_similarity']:.3f}",
        ]
        for r in rows
    ]
    note = (
        f"SqueezeNet 1.1 (real weights), {args.size} px, settings: {args.settings or 'defaults'}; "
        f"{machine()}. Style distance per level (lower is closer to the artwork; level k: 7x7 patches "
        "of the image halved k times, each spanning 7·2^k pixels)."
    )
    return "\n".join(table(columns, lines, "ll" + "r" * (LEVELS + 2))) + f"\n\n{note}\n"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--settings", default="", help="settings for every run, e.g. style_loss=swd,scales=1")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    require(*(IMAGES / f"{name}.jpg" for pair in PAIRS for name in pair))
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    stylizer = Stylizer(Settings(model="squeezenet1_1", weights=squeezenet_weights()))
    rows = [row for photo, style in PAIRS for row in run_pair(stylizer, photo, style, args)]
    write_results(args.out / "style-scale", rows, markdown(rows, args))


if __name__ == "__main__":
    main()
