"""What each memory measure costs and saves: peak memory and seconds per evaluation of VGG-19
(random weights, fp32, CPU, the default objective) with the losses streamed or taken from the
returned feature maps, and with the first two blocks checkpointed or kept; each combination
in a fresh process. Prints a table and writes results/memory-measures.{json,md}.

    python benchmarks/memory_measures.py [--size 1024] [--repeats 3]

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

from evaluation import cpu_name, seconds_per_evaluation
from speed import CONTENT, STYLE

RESULTS = Path(__file__).resolve().parent / "results"


def probe(size: int, streamed: bool, checkpointing: bool, repeats: int) -> dict:
    """One combination, measured in this process."""
    from impasto import Settings, Stylizer
    from impasto.image.io import load_image, resize_longest, to_tensor

    objective = Stylizer(Settings(model="vgg19", weights="random")).objective(CONTENT, STYLE, size=size)
    if not streamed:
        objective.streamed = {}  # every layer returned, every loss taken after the forward pass
    objective.extractor.checkpointing = checkpointing
    image = to_tensor(resize_longest(load_image(CONTENT), size))
    first, median = seconds_per_evaluation(objective, image, repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "seconds_per_evaluation": round(median, 2),
        "first_evaluation": round(first, 2),
        "peak_gib": round(peak / 2**30, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--probe", nargs=2, type=int, metavar=("STREAMED", "CHECKPOINTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.size, *map(bool, args.probe), args.repeats)))
        return
    rows = []
    for streamed, checkpointing in itertools.product((False, True), repeat=2):
        began = time.perf_counter()
        command = [
            sys.executable,
            __file__,
            "--size",
            str(args.size),
            "--repeats",
            str(args.repeats),
            "--probe",
            str(int(streamed)),
            str(int(checkpointing)),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        row = {
            "streamed": streamed,
            "checkpointing": checkpointing,
            **json.loads(done.stdout.strip().splitlines()[-1]),
            "process_seconds": round(time.perf_counter() - began, 1),
        }
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": cpu_name(), "size": args.size, "rows": rows}
    (RESULTS / "memory-measures.json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [
        f"# Memory measures: VGG-19, {args.size} px, fp32, random weights ({report['machine']})",
        "",
        "| losses streamed | first two blocks checkpointed | peak memory | s per evaluation |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {r['streamed']} | {r['checkpointing']} | {r['peak_gib']} GiB | {r['seconds_per_evaluation']} |"
        for r in rows
    ]
    (RESULTS / "memory-measures.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'memory-measures.md'}")


if __name__ == "__main__":
    main()
