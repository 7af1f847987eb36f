"""impasto's speed and memory benchmark: prints tables and writes benchmarks/results/speed*.json/.md.

    python benchmarks/speed.py            # full run (about an hour on 2 CPU cores)
    python benchmarks/speed.py --quick    # smaller sizes and fewer evaluations (minutes)

Sections (--sections, comma-separated): `iteration` (seconds per loss evaluation and
GFLOP/s per network, size and precision), `quality` (time for the default mode to reach
the paper mode's final loss), `memory` (peak memory of a short run at each size, each in
a fresh process). Timings on a shared machine are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from impasto import Settings, stylize
from impasto.engine import Stylizer
from impasto.engine.targets import build_objective
from impasto.features.devices import select_device
from impasto.features.precision import Precise, resolve_precision
from impasto.image.io import load_image, resize_longest, to_tensor

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CONTENT = SHARED / "images" / "tubingen.jpg"
STYLE = SHARED / "images" / "starry_night.jpg"
SQUEEZENET = SHARED / "models" / "squeezenet1_1-caffe.pth"


def networks() -> list[Settings]:
    """VGG-19 (random weights: its cost does not depend on their values) and SqueezeNet 1.1 (real)."""
    nets = [Settings(model="vgg19", weights="random")]
    if SQUEEZENET.exists():
        nets.append(Settings(model="squeezenet1_1", weights=str(SQUEEZENET)))
    return nets


def precisions(device: torch.device) -> list[str]:
    """fp32 and every reduced precision this device can run."""
    found = ["fp32"]
    if device.type == "cuda":
        found += ["bf16", "fp16"] if torch.cuda.is_bf16_supported() else ["fp16"]
    elif resolve_precision("auto", device) == "bf16":
        found.append("bf16")
    return found


def objective_for(settings: Settings, size: int, device: torch.device, precision: str):
    """The run's objective at `size` (square crops of the benchmark images), in `precision`."""
    extractor = Stylizer(dataclasses.replace(settings, device=str(device))).objective(CONTENT, STYLE, size=32).extractor
    settings = settings.resolved()
    network = Precise(extractor, precision, device, settings.model)
    content, style = (
        to_tensor(resize_longest(load_image(p), size), device)[..., :size, :size] for p in (CONTENT, STYLE)
    )
    return build_objective(network, content, [style], [1.0], settings), content


def time_evaluation(objective, image: torch.Tensor, repeats: int) -> float:
    """Median seconds of one loss evaluation (forward and backward to the pixels)."""
    pixels = image.clone().requires_grad_(True)
    times = []
    for _ in range(repeats + 1):  # the first builds kernels and caches
        began = time.perf_counter()
        objective(pixels)["total"].backward()
        if image.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
        pixels.grad = None
    return statistics.median(times[1:])


def count_flops(objective, image: torch.Tensor) -> float:
    """FLOPs of one evaluation (forward and backward), counted from the operators run."""
    pixels = image.clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        objective(pixels)["total"].backward()
    return float(counter.get_total_flops())


def iteration_section(sizes: list[int], repeats: int, device: torch.device) -> list[dict]:
    rows = []
    for settings in networks():
        for size in sizes:
            flops = count_flops(*objective_for(settings, size, device, "fp32"))
            for precision in precisions(device):
                seconds = time_evaluation(*objective_for(settings, size, device, precision), repeats)
                rows.append(
                    {
                        "network": settings.model,
                        "weights": "random" if settings.weights == "random" else "real",
                        "size": size,
                        "precision": precision,
                        "s_per_iter": round(seconds, 4),
                        "gflop": round(flops / 1e9, 2),
                        "gflop_per_s": round(flops / 1e9 / seconds, 1),
                    }
                )
                print_row(rows[-1])
    base = {(r["network"], r["size"]): r["s_per_iter"] for r in rows if r["precision"] == "fp32"}
    for row in rows:
        row["speedup_vs_fp32"] = round(base[row["network"], row["size"]] / row["s_per_iter"], 2)
    return rows


def print_row(row: dict) -> None:
    print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few evaluations")
    parser.add_argument("--sections", default="iteration,quality,memory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--ablations", action="store_true", help="time to quality of each default lever alone too")
    parser.add_argument("--memory-sizes", help="sizes for the memory section, comma-separated")
    parser.add_argument("--memory-networks", default="vgg19,squeezenet1_1", help="networks for the memory section")
    parser.add_argument("--memory-probe", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--no-checkpointing", action="store_true", help="memory section: keep every activation")
    args = parser.parse_args(argv)
    if args.memory_probe:
        return memory_probe(args.memory_probe[0], int(args.memory_probe[1]), args.device, not args.no_checkpointing)
    device = select_device(args.device)
    report = {"machine": machine(device), "quick": args.quick, "torch_threads": torch.get_num_threads()}
    sections = args.sections.split(",")
    if "iteration" in sections:
        report["iteration"] = iteration_section(
            [256, 512] if args.quick else [256, 512, 1024], 3 if args.quick else 5, device
        )
    if "quality" in sections:
        from time_to_quality import quality_section

        report["quality"] = quality_section(args.quick, args.device, args.ablations)
    if "memory" in sections:
        sizes = [512, 1024] if args.quick else [512, 1024, 2048, 4096]
        sizes = [int(s) for s in args.memory_sizes.split(",")] if args.memory_sizes else sizes
        report["memory"] = memory_section(sizes, args.device, args.memory_networks.split(","), args.no_checkpointing)
    write(report, args.out / ("speed-quick" if args.quick else "speed"), device)
    return 0


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def memory_probe(model: str, size: int, device_name: str, checkpointing: bool = True) -> int:
    """Runs a one-step default-mode run at `size` and prints its peak memory (GiB)."""
    import resource

    from impasto.optim import memory

    if not checkpointing:
        memory.CHECKPOINT_PIXELS = 2**62
    settings = next(s for s in networks() if s.model == model)
    settings = Settings(**{**settings.to_dict(), "size": size, "iterations": 1, "scales": 1, "device": device_name})
    result = stylize(CONTENT, STYLE, settings)
    checkpointed = memory.recomputes(result.width * result.height)
    device = select_device(device_name)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"checkpointing": checkpointed, "peak_gib": round(peak / 2**30, 2)}))
    return 0


def memory_section(sizes: list[int], device_name: str, models: list[str], keep_all: bool = False) -> list[dict]:
    """Peak memory (RSS on CPU, max allocated on GPU) of a short run at each size, each in its own process."""
    rows = []
    for settings in (s for s in networks() if s.model in models):
        for size in sizes:
            command = [sys.executable, __file__, "--memory-probe", settings.model, str(size), "--device", device_name]
            command += ["--no-checkpointing"] if keep_all else []
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            lines = done.stdout.strip().splitlines()
            row = {"network": settings.model, "size": size, "seconds": round(time.perf_counter() - began, 1)}
            row.update(
                json.loads(lines[-1]) if done.returncode == 0 and lines else {"error": done.stderr.strip()[-300:]}
            )
            rows.append(row)
            print_row(row)
    return rows


def write(report: dict, stem: Path, device: torch.device) -> None:
    """Writes the report as JSON and as a Markdown table per section (sections from earlier runs are kept)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    if stem.with_suffix(".json").exists():
        report = {**json.loads(stem.with_suffix(".json").read_text()), **report}
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# impasto speed benchmark ({report['machine']})", ""]
    for name in ("quality", "iteration", "memory"):
        rows = report.get(name)
        if isinstance(rows, dict):
            rows = rows.get("rows", [rows])
        if rows:
            keys = list(dict.fromkeys(k for row in rows for k in row))
            lines += [f"## {name}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(str(row.get(k, "")) for k in keys) + " |" for row in rows]
            lines.append("")
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    sys.exit(main())
