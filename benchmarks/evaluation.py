"""Cheaper evaluations? Seconds per loss evaluation (forward and backward to the pixels) of
SqueezeNet 1.1 at 512 px, fp32 on this CPU, for what the speed issue asked to try:
channels-last memory layout, torch.compile (inductor; its compile time reported apart),
and the torch thread count. Prints a table and writes results/evaluation.{json,md}.

    python3 -m benchmarks.evaluation [--size 512] [--repeats 10]
    python3 -m benchmarks.evaluation --size 128 --repeats 2 --out /tmp/bench   # a try-out (a minute or two)

All variants run in this one process, one after another, on the same image; compare their
ratios, and run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import CONTENT, RESULTS, STYLE, cpu_name, require, show, squeezenet_weights, table, write_results
from benchmarks.objectives import objective_at, seconds_per_evaluation
from impasto import Settings

VARIANTS: tuple[tuple[str, dict[str, bool], int | None], ...] = (  # name, options of `objective_and_image`, threads
    ("eager", {}, None),
    ("channels-last", {"channels_last": True}, None),
    ("torch.compile", {"compiled": True}, None),
    ("torch.compile + channels-last", {"compiled": True, "channels_last": True}, None),
    ("eager, 1 thread", {}, 1),
)
"""Each variant: its name, its options of `objective_and_image`, and its threads (None: torch's default)."""


def objective_and_image(size: int, channels_last: bool = False, compiled: bool = False) -> tuple[Any, torch.Tensor]:
    """SqueezeNet's default objective at `size` and its content image as the pixels."""
    settings = Settings(model="squeezenet1_1", weights=squeezenet_weights())
    objective, content = objective_at(settings, CONTENT, STYLE, size, None, torch.device("cpu"))
    if channels_last:
        objective.extractor.to(memory_format=torch.channels_last)
        content = content.contiguous(memory_format=torch.channels_last)
    if compiled:
        objective.extractor = torch.compile(objective.extractor)
    return objective, content


def measure(name: str, options: dict, threads: int, size: int, repeats: int) -> dict:
    """One variant's row: its first evaluation's seconds and the median of the next `repeats`."""
    default = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        first, median = seconds_per_evaluation(*objective_and_image(size, **options), repeats)
    except Exception as error:  # a compiler that does not work here is a result too
        return {"variant": name, "threads": threads, "error": f"{type(error).__name__}: {str(error)[:200]}"}
    finally:
        torch.set_num_threads(default)
    return {"variant": name, "threads": threads, "first_s": round(first, 2), "s_per_eval": round(median, 4)}


def markdown(report: dict) -> str:
    rows = [
        [r["variant"], r["threads"], r.get("first_s", "-"), r.get("s_per_eval", r.get("error")), r.get("speedup", "-")]
        for r in report["rows"]
    ]
    columns = ["variant", "threads", "first evaluation (s)", "s per evaluation", "speed-up"]
    title = f"# SqueezeNet 1.1 loss evaluation at {report['size']} px, fp32 CPU"
    return "\n".join([title, "", report["machine"], "", *table(columns, rows, "lrrrr")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    require(CONTENT, STYLE)
    threads = torch.get_num_threads()
    rows = []
    for name, options, count in VARIANTS:
        rows.append(measure(name, options, count or threads, args.size, args.repeats))
        show(rows[-1])
    base = rows[0]["s_per_eval"]
    for row in rows:
        if "s_per_eval" in row:
            row["speedup"] = round(base / row["s_per_eval"], 2)
    report = {"machine": f"{cpu_name()}, torch {torch.__version__}, {threads} threads by default", "size": args.size}
    report["rows"] = rows
    print(markdown(report))
    write_results(args.out / "evaluation", report, markdown(report))


if __name__ == "__main__":
    main()
