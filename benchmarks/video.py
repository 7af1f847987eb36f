"""Video benchmark: flicker (warping error), speed and stylisation strength of the modes
of `impasto video` on the clips in ../shared/video, with the real SqueezeNet 1.1 weights.

Modes: frame-by-frame (every frame from the content, ITERATIONS each); warm start (frame
t starts from result t-1 warped by the flow, FRAME_ITERATIONS after the first frame);
warm start + temporal loss (the same, plus the temporal loss); and the temporal mode
again with ITERATIONS on every frame (the same iterations as frame-by-frame).
- warping error (Lai et al. 2018): mean masked squared difference between each output
  frame and the previous output warped onto it by the input's flow (lower is steadier);
  the input clip's own error is shown for reference;
- style / content loss: one fixed fp32 objective per frame (the network's default
  weights and layers, starry_night, the frame as content), averaged over frames, so every
  mode is judged by the same yardstick whatever extra terms it optimised;
- seconds per frame, with torch on ONE thread (the machine is shared; oversubscribed
  threads make timings meaningless).

Run one clip at a time to stay within ~10 minutes; results merge into
results/video.json and results/video.md. `--strip` saves a PNG of frames per mode.

    python3 -m benchmarks.video --clips box --frames 10 --every 2 --strip --gif
    python3 -m benchmarks.video --clips box --frames 3 --size 64 --iterations 5 --frame-iterations 2 --out /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from PIL import Image

from benchmarks.common import RESULTS, SHARED, STYLE, as_tensor, cpu_name, require, squeezenet_weights, write_results
from impasto import Settings, Stylizer

# Not public: the video command's own functions (no public call runs its consistency modes or measures flicker).
from impasto.apps.video.io import Clip, Cut, read_clip
from impasto.apps.video.metrics import clip_motions, warping_error
from impasto.apps.video.store import FrameStore
from impasto.apps.video.stylize import FRAME_ITERATIONS, TEMPORAL_WEIGHT, Consistency, stylize_frames

CLIPS = ("box", "walkers", "tree")


def modes(args: argparse.Namespace) -> list[tuple[str, Consistency]]:
    """The compared modes, by the name the table shows (temporal once per weight and iteration count)."""
    runs = [("frame-by-frame", Consistency("independent", frame_iterations=None))]
    runs += [("warm start", Consistency("warm", frame_iterations=n)) for n in args.frame_iterations]
    runs += [("warm + temporal", Consistency("temporal", w, n, k))
             for w in args.temporal_weight for n in args.frame_iterations for k in args.long_term]  # fmt: skip
    if args.same_iterations:
        runs += [("warm + temporal", Consistency("temporal", w, None, k))
                 for w in args.temporal_weight for k in args.long_term]  # fmt: skip
    return [(name, c) for name, c in runs if not args.modes or name in args.modes]


@torch.no_grad()
def losses(stylizer: Stylizer, frames: list[np.ndarray], results: list[np.ndarray], size: int, style_loss: str) -> dict:
    """Mean content and style loss of the results, by the fp32 objective of each frame."""
    terms: dict[str, list[float]] = {"content": [], "style": []}
    for frame, result in zip(frames, results):
        objective = stylizer.objective(Image.fromarray(frame), STYLE, size=size, precision="fp32",
                                       style_loss=style_loss)  # fmt: skip
        measured = objective(as_tensor(Image.fromarray(result)))
        for name in terms:
            terms[name].append(float(measured[name]))
    return {f"{name}_loss": float(np.mean(values)) for name, values in terms.items()}


def run_clip(stylizer: Stylizer, name: str, args: argparse.Namespace) -> list[dict]:
    """Every mode on one clip: a table row each; a strip of frames and a GIF if asked."""
    clip = read_clip(SHARED / "video" / f"{name}.mp4", args.size, Cut(count=args.frames, every=args.every))
    motions = clip_motions(clip)
    rows, outputs = [], {}
    for mode, consistency in modes(args):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            results = stylize_frames(stylizer, clip, STYLE, FrameStore(Path(folder), {}), consistency,
                                     iterations=args.iterations, style_loss=args.style_loss)  # fmt: skip
            seconds = time.perf_counter() - began
        outputs[f"{mode} {consistency}"] = results
        row = {"clip": name, "mode": mode, **describe(consistency, args), "warping_error": warping_error(results, motions),
               "input_warping_error": warping_error(clip.frames, motions), "seconds_per_frame": seconds / len(results),
               **losses(stylizer, clip.frames, results, max(clip.size), args.style_loss)}  # fmt: skip
        rows.append(row)
        print(
            f"{name:8} {mode:16} {row['iterations']!s:12} weight {row['temporal_weight']}: warping error "
            f"{row['warping_error']:.5f}, style {row['style_loss']:.3f}, content {row['content_loss']:.3f}, "
            f"{row['seconds_per_frame']:.1f} s/frame",
            flush=True,
        )
    if args.strip:
        strip(outputs, args.strip_frames).save(args.out / f"video-{name}.png")
    if args.gif:
        side_by_side(clip, outputs, args.out / f"video-{name}.gif")
    return rows


def describe(consistency: Consistency, args: argparse.Namespace) -> dict:
    """A mode's iterations, temporal weight and long-term frames, as the table shows them."""
    temporal = consistency.mode == "temporal"
    later = consistency.frame_iterations or args.iterations
    return {
        "iterations": args.iterations if consistency.mode == "independent" else f"{args.iterations}, then {later}",
        "temporal_weight": consistency.temporal_weight if temporal else None,
        "long_term": consistency.long_term if temporal else None,
    }


def strip(outputs: dict[str, list[np.ndarray]], every: int) -> Image.Image:
    """One row of frames (every `every`-th) per mode, for looking at the results."""
    rows = [np.concatenate(results[::every], axis=1) for results in outputs.values()]
    return Image.fromarray(np.concatenate(rows, axis=0))


def side_by_side(clip: Clip, outputs: dict[str, list[np.ndarray]], path: Path) -> None:
    """An animated GIF: the input | frame-by-frame | the first temporal mode, at the clip's rate."""
    runs = [next(v for k, v in outputs.items() if k.startswith(mode)) for mode in ("frame-by-frame", "warm + temporal")]
    gap = np.full((clip.size[1], 4, 3), 255, np.uint8)
    frames = [
        np.concatenate([clip.frames[t], gap, runs[0][t], gap, runs[1][t]], axis=1) for t in range(len(clip.frames))
    ]
    iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000 / clip.fps, loop=0)


def markdown(rows: list[dict], note: str) -> str:
    """The table: one row per clip and mode, with the warping error's ratio to frame-by-frame's."""
    base = {r["clip"]: r for r in rows if r["mode"] == "frame-by-frame"}
    lines = ["| clip | mode | iterations per frame | temporal weight | long-term frames | warping error | "
             "steadier than frame-by-frame | style loss | content loss | s/frame |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        ref = base.get(r["clip"])
        ratio = f"{ref['warping_error'] / r['warping_error']:.0f}x" if ref else "-"
        weight = "-" if r["temporal_weight"] is None else f"{r['temporal_weight']:g}"
        lines.append(
            f"| {r['clip']} | {r['mode']} | {r['iterations']} | {weight} | {r['long_term'] or '-'} | "
            f"{r['warping_error']:.1e} | {ratio} | {r['style_loss']:.3f} | {r['content_loss']:.3f} | "
            f"{r['seconds_per_frame']:.1f} |"
        )
    floors = ", ".join(f"{clip} {r['input_warping_error']:.1e}" for clip, r in base.items())
    reference = f"Warping error of the input clips themselves (sensor noise and compression flicker too): {floors}."
    return "\n".join(lines) + f"\n\n{reference}\n\n{note}\n"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), choices=CLIPS)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--every", type=int, default=1, help="use every K-th frame (more motion between frames)")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=100, help="first frame, and every frame of frame-by-frame")
    parser.add_argument(
        "--frame-iterations", type=int, nargs="+", default=[FRAME_ITERATIONS], help="one or several (a sweep)"
    )
    parser.add_argument(
        "--temporal-weight", type=float, nargs="+", default=[TEMPORAL_WEIGHT], help="one or several (a sweep)"
    )
    parser.add_argument(
        "--same-iterations", action="store_true", help="also run temporal with --iterations on every frame"
    )
    parser.add_argument(
        "--long-term", type=int, nargs="+", default=[1], help="earlier frames tied by the temporal loss"
    )
    parser.add_argument("--modes", nargs="+", help="run only these modes (names as in the table)")
    parser.add_argument("--style-loss", default=Settings().style_loss, help="the runs' style loss, and the yardstick's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--strip", action="store_true", help="save results/video-CLIP.png: frames of each mode")
    parser.add_argument(
        "--gif", action="store_true", help="save results/video-CLIP.gif: input | frame-by-frame | temporal"
    )
    parser.add_argument("--strip-frames", type=int, default=3, help="every how many frames the strip shows")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="video", help="results file name (without suffix)")
    return parser.parse_args()


def merged(rows: list[dict], path: Path) -> list[dict]:
    """These rows and those of the earlier results in `path` that they do not replace, in the table's order."""
    kept = json.loads(path.read_text())["rows"] if path.exists() else []
    key = lambda r: (r["clip"], r["mode"], str(r["iterations"]), r["temporal_weight"], r.get("long_term"))  # noqa: E731
    done = {key(r) for r in rows}
    order = ("frame-by-frame", "warm start", "warm + temporal")
    return sorted([r for r in kept if key(r) not in done] + rows,
                  key=lambda r: (CLIPS.index(r["clip"]), order.index(r["mode"]), -len(str(r["iterations"])), r["temporal_weight"] or 0))  # fmt: skip


def main() -> None:
    args = parse()
    require(STYLE, *(SHARED / "video" / f"{name}.mp4" for name in args.clips))
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    stylizer = Stylizer(Settings(model="squeezenet1_1", weights=squeezenet_weights()))
    path = args.out / f"{args.name}.json"
    rows = merged([row for name in args.clips for row in run_clip(stylizer, name, args)], path)
    note = (
        f"SqueezeNet 1.1 (real weights), style starry_night, {args.frames} frames (one in {args.every} of the "
        f"clip's first {args.frames * args.every}) at {args.size} px, "
        f"L-BFGS, style loss {args.style_loss}; {cpu_name()}, torch on {args.threads} thread(s), machine shared with other jobs."
    )
    write_results(args.out / args.name, {"note": note, "rows": rows}, markdown(rows, note))


if __name__ == "__main__":
    main()
