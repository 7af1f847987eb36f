"""What each memory measure costs and saves: peak memory and seconds per evaluation of VGG-19
(random weights, fp32, CPU, the default objective) with the losses streamed or taken from the
returned feature maps, and with the first two blocks checkpointed or kept; each combination
in a fresh process. Prints a table and writes results/memory-measures.{json,md}.

    python3 -m benchmarks.memory_measures [--size 1024] [--repeats 3]
    python3 -m benchmarks.memory_measures --size 128 --repeats 1 --out /tmp/bench   # a try-out (seconds)

Run nothing else meanwhile: the seconds are compared between rows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks.common import CONTENT, RESULTS, ROOT, STYLE, cpu_name, require, show, table, write_results
from benchmarks.objectives import objective_at, seconds_per_evaluation
from impasto import Settings


def probe(size: int, streamed: bool, checkpointing: bool, repeats: int) -> dict:
    """One combination, measured in this process."""
    settings = Settings(model="vgg19", weights="random")
    objective, image = objective_at(settings, CONTENT, STYLE, size, None, torch.device("cpu"))
    if not streamed:
        objective.streamed = {}  # every layer returned, every loss taken after the forward pass
    objective.extractor.checkpointing = checkpointing
    first, median = seconds_per_evaluation(objective, image, repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "seconds_per_evaluation": round(median, 2),
        "first_evaluation": round(first, 2),
        "peak_gib": round(peak / 2**30, 2),
    }


def measure(size: int, repeats: int, streamed: bool, checkpointing: bool) -> dict:
    """One combination, measured in a fresh process (so that no peak carries over)."""
    command = [sys.executable, "-m", "benchmarks.memory_measures", "--size", str(size), "--repeats", str(repeats)]
    command += ["--probe", str(int(streamed)), str(int(checkpointing))]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return {
        "streamed": streamed,
        "checkpointing": checkpointing,
        **json.loads(done.stdout.strip().splitlines()[-1]),
        "process_seconds": round(time.perf_counter() - began, 1),
    }


def markdown(report: dict) -> str:
    rows = [
        [r["streamed"], r["checkpointing"], f"{r['peak_gib']} GiB", r["seconds_per_evaluation"]] for r in report["rows"]
    ]
    columns = ["losses streamed", "first two blocks checkpointed", "peak memory", "s per evaluation"]
    title = f"# Memory measures: VGG-19, {report['size']} px, fp32, random weights ({report['machine']})"
    return "\n".join([title, "", *table(columns, rows, "llrr")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--probe", nargs=2, type=int, metavar=("STREAMED", "CHECKPOINTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    require(CONTENT, STYLE)
    if args.probe:
        streamed, checkpointing = (bool(flag) for flag in args.probe)
        print(json.dumps(probe(args.size, streamed, checkpointing, args.repeats)))
        return
    rows = []
    for streamed, checkpointing in itertools.product((False, True), repeat=2):
        rows.append(measure(args.size, args.repeats, streamed, checkpointing))
        show(rows[-1])
    report = {"machine": cpu_name(), "size": args.size, "rows": rows}
    write_results(args.out / "memory-measures", report, markdown(report))


if __name__ == "__main__":
    main()
