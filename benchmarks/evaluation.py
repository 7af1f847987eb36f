"""Cheaper evaluations? Seconds per loss evaluation (forward and backward to the pixels) of
SqueezeNet 1.1 at 512 px, fp32 on this CPU, for what the speed issue asked to try:
channels-last memory layout, torch.compile (inductor; its compile time reported apart),
and the torch thread count. Prints a table and writes results/evaluation.{json,md}.

    python benchmarks/evaluation.py [--size 512] [--repeats 10]

All variants run in this one process, one after another, on the same image; compare their
ratios, and run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch
from speed import CONTENT, SQUEEZENET, STYLE

from impasto import Settings
from impasto.engine import Stylizer
from impasto.engine.targets import build_objective
from impasto.image.io import load_image, resize_longest, to_tensor

RESULTS = Path(__file__).resolve().parent / "results"


def objective_and_image(size: int, channels_last: bool = False, compiled: bool = False):
    """SqueezeNet's default objective at `size` and its content image as the pixels."""
    settings = Settings(model="squeezenet1_1", weights=str(SQUEEZENET))
    extractor = Stylizer(settings).objective(CONTENT, STYLE, size=32).extractor
    content, style = (to_tensor(resize_longest(load_image(p), size)) for p in (CONTENT, STYLE))
    if channels_last:
        extractor = extractor.to(memory_format=torch.channels_last)
        content, style = (t.contiguous(memory_format=torch.channels_last) for t in (content, style))
    network = torch.compile(extractor) if compiled else extractor
    return build_objective(network, content, [style], [1.0], settings.resolved()), content


def seconds_per_evaluation(objective, image: torch.Tensor, repeats: int) -> tuple[float, float]:
    """(first evaluation's seconds, the median of the next `repeats`)."""
    pixels = image.clone().requires_grad_(True)
    times = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        objective(pixels)["total"].backward()
        times.append(time.perf_counter() - began)
        pixels.grad = None
    return times[0], statistics.median(times[1:])


def cpu_name() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
        name = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
        flags = next((line for line in lines if line.startswith("Flags")), "")
        return f"{name} ({'AVX-512' if 'avx512f' in flags else 'AVX2'}{', bf16' if 'avx512_bf16' in flags else ''})"
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    variants = [
        ("eager", {}, threads),
        ("channels-last", {"channels_last": True}, threads),
        ("torch.compile", {"compiled": True}, threads),
        ("torch.compile + channels-last", {"compiled": True, "channels_last": True}, threads),
        ("eager, 1 thread", {}, 1),
    ]
    rows = []
    for name, options, count in variants:
        torch.set_num_threads(count)
        try:
            first, median = seconds_per_evaluation(*objective_and_image(args.size, **options), args.repeats)
        except Exception as error:  # a compiler that does not work here is a result too
            rows.append({"variant": name, "threads": count, "error": f"{type(error).__name__}: {str(error)[:200]}"})
        else:
            rows.append({"variant": name, "threads": count, "first_s": round(first, 2), "s_per_eval": round(median, 4)})
        print(rows[-1], flush=True)
        torch.set_num_threads(threads)
    base = rows[0]["s_per_eval"]
    for row in rows:
        if "s_per_eval" in row:
            row["speedup"] = round(base / row["s_per_eval"], 2)
    machine = f"{cpu_name()}, torch {torch.__version__}, {threads} threads by default"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "evaluation.json").write_text(
        json.dumps({"machine": machine, "size": args.size, "rows": rows}, indent=1) + "\n"
    )
    lines = [
        f"# SqueezeNet 1.1 loss evaluation at {args.size} px, fp32 CPU",
        "",
        machine,
        "",
        "| variant | threads | first evaluation (s) | s per evaluation | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['variant']} | {row['threads']} | {row.get('first_s', '-')} | "
            f"{row.get('s_per_eval', row.get('error'))} | {row.get('speedup', '-')} |"
        )
    (RESULTS / "evaluation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
