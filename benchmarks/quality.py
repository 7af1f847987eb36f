"""Quality benchmark: the losses each optimisation mode reaches on the same budget.

Modes (all with the network's default weights and layers, content start):
- paper:    single scale, L-BFGS, as in Gatys et al. 2016;
- multires: L-BFGS over 3 scales (half the size up to the full size, by sqrt(2)), with
            as many iterations as cost the same as the paper mode's (cost ~ pixels);
- adam:     single scale, Adam without the iterate average;
- adam-ema: single scale, Adam with the default iterate average.
Every result is measured afterwards by one reference network (the run's network, fp32,
full output size, on the 8-bit image that is saved): content, style and total loss with
the default weights. SqueezeNet 1.1 runs with the real weights beside the repo; VGG-19
with `--vgg-weights FILE`, else a fixed random VGG-19 that proves the plumbing only.

Writes results/quality-*.png, results/quality.json and results/quality.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
from PIL import Image

from impasto import Settings, stylize
from impasto.image.io import load_image, save_image, to_tensor
from impasto.engine.stylizer import reference_objective
from impasto.optim.schedule import relative_cost, scale_sizes, split_iterations

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
PAIRS = (("tubingen", "starry_night"), ("golden_gate", "the_scream"), ("brad_pitt", "picasso_selfport1907"))
MODES = ("paper", "multires", "adam", "adam-ema")


def equal_cost_iterations(size: int, scales: int, budget: int) -> int:
    """The most total iterations of a `scales`-scale run that cost at most `budget` full-size ones."""
    sizes = scale_sizes(size, scales=scales)
    total = budget
    while relative_cost(sizes, split_iterations(total + 1, scales)) <= budget:
        total += 1
    return total


def mode_settings(base: Settings, mode: str, budget: int) -> Settings:
    """The settings of one mode, on `budget` full-size iterations."""
    if mode == "paper":
        return dataclasses.replace(base, optimizer="lbfgs", iterations=budget)
    if mode == "multires":
        iterations = equal_cost_iterations(base.size, 3, budget)
        return dataclasses.replace(base, optimizer="lbfgs", scales=3, iterations=iterations)
    return dataclasses.replace(base, optimizer="adam", iterations=budget, ema_decay=None if mode == "adam-ema" else 0.0)


@torch.no_grad()
def reference_losses(base: Settings, content: Path, style: Path, result: torch.Tensor) -> dict[str, float]:
    """Content, style and total loss of `result` by the reference network in fp32 at full size."""
    objective = reference_objective(content, style, base)
    return {f"{k}_loss": v.item() for k, v in objective((result * 255).round() / 255).items()}


def run_pair(net: str, base: Settings, pair: tuple[str, str], budget: int, out: Path) -> list[dict]:
    content, style = (SHARED / "images" / f"{name}.jpg" for name in pair)
    rows = []
    for mode in MODES:
        settings = mode_settings(base, mode, budget)
        began = time.perf_counter()
        image = stylize(content, style, settings)
        seconds = time.perf_counter() - began
        save_image(image, out / f"quality-{net}-{pair[0]}-{pair[1]}-{mode}.png")
        losses = reference_losses(base, content, style, to_tensor(image))
        rows.append({"network": net, "content": pair[0], "style": pair[1], "mode": mode,
                     "iterations": settings.iterations, "seconds": round(seconds, 2), **losses})
        print(f"{net:14} {pair[0]:>12} x {pair[1]:<22} {mode:9} {settings.iterations:5d} it "
              f"{seconds:7.1f} s  content {losses['content_loss']:8.3f}  style {losses['style_loss']:9.3f}  "
              f"total {losses['total_loss']:9.3f}", flush=True)
    return rows


def gallery(pairs: tuple[tuple[str, str], ...], mode: str, out: Path, dest: Path, height: int = 200) -> None:
    """Content | style | result strips (JPEG, `height` px tall) of the SqueezeNet results."""
    dest.mkdir(parents=True, exist_ok=True)
    for content, style in pairs:
        result = load_image(out / f"quality-squeezenet1_1-{content}-{style}-{mode}.png")
        parts = [load_image(SHARED / "images" / f"{name}.jpg") for name in (content, style)] + [result]
        parts = [p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) for p in parts]
        strip = Image.new("RGB", (sum(p.width for p in parts) + 8 * (len(parts) - 1), height), "white")
        x = 0
        for part in parts:
            strip.paste(part, (x, 0))
            x += part.width + 8
        save_image(strip, dest / f"{content}-{style}.jpg")


def markdown(rows: list[dict], note: str) -> str:
    lines = ["| network | content × style | mode | iterations | seconds | content loss | style loss | total |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['network']} | {r['content']} × {r['style']} | {r['mode']} | {r['iterations']} | "
                     f"{r['seconds']:.1f} | {r['content_loss']:.3f} | {r['style_loss']:.3f} | {r['total_loss']:.3f} |")
    return "\n".join(lines) + f"\n\n{note}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--budget", type=int, default=200, help="full-size iterations per mode")
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many content/style pairs")
    parser.add_argument("--vgg-weights", help="real VGG-19 weights, if you have them")
    parser.add_argument("--vgg-size", type=int, default=128)
    parser.add_argument("--vgg-budget", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--gallery", type=Path, help="also write content | style | multires strips here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    squeezenet = Settings(model="squeezenet1_1", weights=str(SHARED / "models" / "squeezenet1_1-caffe.pth"), size=args.size)
    rows = [r for pair in PAIRS[: args.pairs] for r in run_pair("squeezenet1_1", squeezenet, pair, args.budget, args.out)]
    vgg_real = args.vgg_weights is not None
    vgg = Settings(model="vgg19", weights=args.vgg_weights or "random", size=args.vgg_size)
    rows += run_pair("vgg19" if vgg_real else "vgg19-random", vgg, PAIRS[0], args.vgg_budget, args.out)
    note = (f"SqueezeNet 1.1 (real ImageNet weights) at {args.size} px, {args.budget} full-size iterations per mode; "
            f"VGG-19 at {args.vgg_size} px, {args.vgg_budget}. Losses: the run's network in fp32 at full size, "
            "default weights. " + (f"VGG-19 weights: {args.vgg_weights}." if vgg_real else
            "vgg19-random is a fixed random VGG-19: it proves the plumbing only, its losses say nothing about quality."))
    if not vgg_real:
        print("note: no VGG-19 weights given: the vgg19-random rows prove the plumbing only")
    (args.out / "quality.json").write_text(json.dumps({"note": note, "rows": rows}, indent=1) + "\n")
    (args.out / "quality.md").write_text(markdown(rows, note))
    print(f"wrote {args.out / 'quality.json'} and {args.out / 'quality.md'}")
    if args.gallery:
        gallery(PAIRS[: args.pairs], "multires", args.out, args.gallery)


if __name__ == "__main__":
    main()
