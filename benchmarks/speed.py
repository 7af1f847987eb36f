"""impasto's speed and memory benchmark: prints tables and writes benchmarks/results/speed*.json/.md.

    python3 -m benchmarks.speed            # full run (about an hour on 2 CPU cores)
    python3 -m benchmarks.speed --quick    # smaller sizes and fewer evaluations (minutes)

Sections (--sections, comma-separated): `iteration` (seconds per loss evaluation and
GFLOP/s per network, size and precision), `quality` (time for the default mode to reach
the paper mode's final loss, from `benchmarks.time_to_quality`), `memory` (peak memory of
a short run at each size, each in a fresh process). Timings on a shared machine are noisy:
compare ratios from one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import (
    CONTENT,
    RESULTS,
    ROOT,
    STYLE,
    machine,
    require,
    show,
    squeezenet_weights,
    table,
    write_results,
)
from benchmarks.objectives import auto_precision, count_flops, objective_at, pick_device, seconds_per_evaluation
from benchmarks.time_to_quality import quality_section
from impasto import Settings, stylize


def networks() -> list[Settings]:
    """VGG-19 (random weights: its cost does not depend on their values) and SqueezeNet 1.1 (real)."""
    return [Settings(model="vgg19", weights="random"), Settings(model="squeezenet1_1", weights=squeezenet_weights())]


def precisions(device: torch.device) -> list[str]:
    """fp32 and every reduced precision this device can run."""
    if device.type == "cuda":
        return ["fp32", "bf16", "fp16"] if torch.cuda.is_bf16_supported() else ["fp32", "fp16"]
    return list(dict.fromkeys(["fp32", auto_precision(device)]))


def iteration_section(sizes: list[int], repeats: int, device: torch.device) -> list[dict]:
    """Seconds and GFLOP/s of one evaluation per network, size and precision."""
    rows: list[dict[str, Any]] = []
    for settings in networks():
        for size in sizes:
            flops = count_flops(*objective_at(settings, CONTENT, STYLE, size, "fp32", device))
            for precision in precisions(device):
                objective, image = objective_at(settings, CONTENT, STYLE, size, precision, device)
                seconds = seconds_per_evaluation(objective, image, repeats)[1]
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
                show(rows[-1])
    base = {(r["network"], r["size"]): r["s_per_iter"] for r in rows if r["precision"] == "fp32"}
    for row in rows:
        row["speedup_vs_fp32"] = round(base[row["network"], row["size"]] / row["s_per_iter"], 2)
    return rows


def memory_probe(model: str, size: int, device_name: str, checkpointing: bool = True) -> int:
    """Runs a one-step default-mode run at `size` and prints its peak memory (GiB)."""
    import resource

    from impasto.optim import memory  # not public: no setting turns the recomputation off

    if not checkpointing:
        memory.CHECKPOINT_PIXELS = 2**62
    settings = next(s for s in networks() if s.model == model)
    settings = dataclasses.replace(settings, size=size, iterations=1, scales=1, device=device_name)
    result = stylize(CONTENT, STYLE, settings)
    checkpointed = memory.recomputes(result.width * result.height)
    device = pick_device(device_name)
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
            command = [sys.executable, "-m", "benchmarks.speed", "--memory-probe", settings.model, str(size)]
            command += ["--device", device_name, *(["--no-checkpointing"] if keep_all else [])]
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            lines = done.stdout.strip().splitlines()
            row: dict[str, Any] = {"network": settings.model, "size": size}
            row["seconds"] = round(time.perf_counter() - began, 1)
            row.update(
                json.loads(lines[-1]) if done.returncode == 0 and lines else {"error": done.stderr.strip()[-300:]}
            )
            rows.append(row)
            show(row)
    return rows


def markdown(report: dict) -> str:
    """A Markdown table per section."""
    lines = [f"# impasto speed benchmark ({report['machine']})", ""]
    for name in ("quality", "iteration", "memory"):
        rows = report.get(name)
        if isinstance(rows, dict):
            rows = rows.get("rows", [rows])
        if rows:
            keys = list(dict.fromkeys(k for row in rows for k in row))
            lines += [f"## {name}", "", *table(keys, [[row.get(k, "") for k in keys] for row in rows]), ""]
    return "\n".join(lines)


def write(report: dict, stem: Path) -> None:
    """Writes the report as JSON and Markdown; sections from earlier runs that this one skipped are kept."""
    if stem.with_suffix(".json").exists():
        report = {**json.loads(stem.with_suffix(".json").read_text()), **report}
    print(markdown(report))
    write_results(stem, report, markdown(report))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few evaluations")
    parser.add_argument("--sections", default="iteration,quality,memory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--ablations", action="store_true", help="time to quality of each default lever alone too")
    parser.add_argument("--memory-sizes", help="sizes for the memory section, comma-separated")
    parser.add_argument("--memory-networks", default="vgg19,squeezenet1_1", help="networks for the memory section")
    parser.add_argument("--memory-probe", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--no-checkpointing", action="store_true", help="memory section: keep every activation")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    require(CONTENT, STYLE)
    if args.memory_probe:
        return memory_probe(args.memory_probe[0], int(args.memory_probe[1]), args.device, not args.no_checkpointing)
    device = pick_device(args.device)
    report: dict[str, Any] = {"machine": machine(device), "quick": args.quick, "torch_threads": torch.get_num_threads()}
    sections = args.sections.split(",")
    if "iteration" in sections:
        sizes = [256, 512] if args.quick else [256, 512, 1024]
        report["iteration"] = iteration_section(sizes, 3 if args.quick else 5, device)
    if "quality" in sections:
        report["quality"] = quality_section(args.quick, args.device, args.ablations)
    if "memory" in sections:
        sizes = [512, 1024] if args.quick else [512, 1024, 2048, 4096]
        sizes = [int(s) for s in args.memory_sizes.split(",")] if args.memory_sizes else sizes
        report["memory"] = memory_section(sizes, args.device, args.memory_networks.split(","), args.no_checkpointing)
    write(report, args.out / ("speed-quick" if args.quick else "speed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
