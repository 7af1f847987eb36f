"""Quality benchmark: impasto's results beside jcjohnson/neural-style's published ones.

Every result is graded by measures that use no network (`measures.py`): the style distance
(patch sliced-Wasserstein over a Gaussian pyramid, lower is closer to the artwork) and the
content similarity (SSIM of blurred luminance, higher keeps more of the photo). For each of
the nine reference pairs it runs impasto's defaults (SqueezeNet 1.1, real weights) at
`--size`, measures the result and the reference output the same way, and draws a contact
sheet: photo | style | reference | impasto. `--strengths` adds impasto's curve over the
style weight (at `--sweep-size`); `--variant key=value,...` adds runs with other settings
(starts, scales, losses), each measured the same way.

Writes results/quality.json, results/quality.md and results/sheet-*.jpg.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import torch
from measures import LEVELS, content_similarity, style_distances_by_level
from PIL import Image

from impasto import Settings, Stylizer
from impasto.image.io import resize_longest
from impasto.optim.schedule import scale_sizes

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
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
    return torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32)).permute(2, 0, 1) / 255


def measure(result: Image.Image, photo: Image.Image, style: Image.Image) -> dict[str, float]:
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


def run_one(stylizer: Stylizer, photo: str, style: str, label: str, out: Path, **overrides) -> tuple[Image.Image, dict]:
    """Runs one stylisation, saves it, and returns it with its measures."""
    start = time.perf_counter()
    result = stylizer.run(SHARED / "images" / f"{photo}.jpg", SHARED / "images" / f"{style}.jpg", **overrides)
    seconds = time.perf_counter() - start
    result.save(out / f"quality-{label}-{photo}-{style}.png")
    images = [Image.open(SHARED / "images" / f"{name}.jpg") for name in (photo, style)]
    return result, {
        "label": label,
        "photo": photo,
        "style": style,
        "seconds": round(seconds, 1),
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
        wins = r["style_distance"] <= q["style_distance"] and r["content_similarity"] >= q["content_similarity"]
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
    others = [r for r in rows if r["label"] not in ("default", "reference")]
    if others:
        lines += [
            "",
            "| run | photo × style | settings | style distance | content similarity | seconds |",
            "|---|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {r['label']} | {r['photo']} × {r['style']} | {', '.join(f'{k}={v}' for k, v in r['settings'].items())} | "
            f"{r['style_distance']:.4f} | {r['content_similarity']:.3f} | {r['seconds']} |"
            for r in others
        ]
    return "\n".join(lines) + f"\n\n{note}\n"


def main() -> None:
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
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    stylizer = Stylizer(Settings(model="squeezenet1_1", weights=str(SHARED / "models" / "squeezenet1_1-caffe.pth")))
    base = (
        {"size": args.size}
        | ({"iterations": args.iterations} if args.iterations else {})
        | parse_variant(args.defaults)
    )
    rows: list[dict] = []
    for name, photo, style in (r for r in REFERENCES if not args.pairs or r[0] in args.pairs):
        images = [Image.open(SHARED / "images" / f"{n}.jpg") for n in (photo, style)]
        reference = Image.open(SHARED / "references" / f"{name}.png").convert("RGB")
        reference = resize_longest(reference, args.size)  # measured at the run's size, as impasto's result
        rows.append(
            {
                "label": "reference",
                "photo": photo,
                "style": style,
                "seconds": 0,
                "settings": {},
                **measure(reference, *images),
            }
        )
        result, row = run_one(stylizer, photo, style, "default", args.out, **base)
        rows.append(row)
        contact_sheet([*images, reference, result]).save(args.out / f"sheet-{photo}-{style}.jpg", quality=88)
        for i, variant in enumerate(args.variant):
            rows.append(run_one(stylizer, photo, style, f"variant{i}", args.out, **base | parse_variant(variant))[1])
        for weight in args.strengths:
            rows.append(
                run_one(
                    stylizer,
                    photo,
                    style,
                    f"sweep{weight:g}",
                    args.out,
                    **base | {"size": args.sweep_size, "style_weight": weight},
                )[1]
            )
        (args.out / "quality.json").write_text(json.dumps(rows, indent=1) + "\n")  # partial results survive a stop
    settings = stylizer.settings_for(**base)
    scales = len(scale_sizes(settings.size, settings.scales, settings.min_size))
    note = (
        f"SqueezeNet 1.1 (real weights), {args.size} px, style_loss {settings.style_loss}, style weight "
        f"{settings.style_weight:g}, {settings.iterations} iterations at most (stop_tolerance "
        f"{getattr(settings, 'stop_tolerance', 0)}), start {settings.init}, scales {scales}. "
        "Style distance: patch sliced-Wasserstein over a 6-level Gaussian pyramid (lower is closer to the artwork); "
        "content similarity: SSIM of blurred luminance (higher keeps more of the photo). Reference: "
        "jcjohnson/neural-style's published output, measured the same way."
    )
    (args.out / "quality.md").write_text(markdown(rows, note))
    print(f"wrote {args.out / 'quality.json'} and {args.out / 'quality.md'}")


if __name__ == "__main__":
    main()
