"""What a user waits: the README's main command end to end, its start-up phases, and the
convergence stop measured on the quality pairs. Prints tables and writes
benchmarks/results/time_to_result.{md,json}.

    python3 -m benchmarks.time_to_result                    # all sections (about 25 minutes on 2 cores)
    python3 -m benchmarks.time_to_result --sections phases
    python3 -m benchmarks.time_to_result --quick --out /tmp/bench   # a try-out: 128 px, few iterations (a minute)

Sections: `phases` (process start to first iteration, split into imports, weights, targets
and first evaluation, then the iterations and saving; one fresh process per network),
`main` (the README's main command as it ran before coarse to fine and the convergence stop,
all 500 iterations at one scale, against today's defaults with and without the stop, each as
a fresh process timed from start to written image, with the results scored by the
network-free quality measures), `tolerance` (for several stop tolerances: evaluations
saved and the loss at the stop against the full run's, from full 500-iteration one-scale
loss logs of several pairs). Timings on a shared machine are noisy: compare ratios from one run, with
nothing else running.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    IMAGES,
    RESULTS,
    as_tensor,
    cpu_name,
    fitted,
    require,
    squeezenet_weights,
    write_results,
)
from benchmarks.measures import content_similarity, style_distance
from impasto import Settings
from impasto.engine import reference_objective

MAIN = ("tubingen.jpg", "starry_night.jpg")
PAIRS = [
    ("tubingen.jpg", "starry_night.jpg"),
    ("golden_gate.jpg", "the_scream.jpg"),
    ("tubingen.jpg", "seated-nude.jpg"),
    ("brad_pitt.jpg", "picasso_selfport1907.jpg"),
]
TOLERANCES = (0.001, 0.002, 0.005, 0.01, 0.02)
QUICK = ["--size", "128", "--iterations", "60"]
"""What --quick adds to every command: small images and few iterations (the stop needs more than 50)."""

PHASES_CHILD = r"""
import json, sys, time
began, began_epoch = time.perf_counter(), time.time()
marks = {}
from impasto.apps.cli import main  # everything the command imports
import impasto
marks["imports"] = time.perf_counter()
from impasto import Settings, Stylizer
settings = Settings(**json.loads(sys.argv[1]))
stylizer = Stylizer(settings)
marks["weights"] = time.perf_counter()
seen = []
def callback(event):
    if not seen:
        marks["first evaluation"] = time.perf_counter()
    seen.append(event.iteration)
image = stylizer.run(sys.argv[2], sys.argv[3], callback=callback)
marks["iterations"] = time.perf_counter()
from impasto.record.provenance import save_with_record  # not public: saves as the command does
save_with_record(image, sys.argv[4], {"impasto": impasto.__version__})
marks["saving"] = time.perf_counter()
print(json.dumps({"began": began, "began_epoch": began_epoch, "marks": marks, "evaluations": len(seen)}))
"""


def phases(args: argparse.Namespace) -> dict:
    """Start-up phases of a fresh process per network, from its spawn (interpreter start) to its exit."""
    nets: dict[str, dict[str, Any]] = {
        "squeezenet1_1": {"model": "squeezenet1_1", "weights": squeezenet_weights()},
        "vgg19 (random weights)": {"model": "vgg19", "weights": "random"},
    }
    size, iterations = (128, 5) if args.quick else (512, args.phase_iterations)
    rows = {}
    for name, net in nets.items():
        settings: dict[str, Any] = {**net, "size": size, "iterations": iterations, "stop_tolerance": 0.0}
        with tempfile.TemporaryDirectory() as folder:
            arguments = [json.dumps(settings), *(str(IMAGES / image) for image in MAIN), str(Path(folder) / "out.png")]
            start, spawned = time.perf_counter(), time.time()
            done = subprocess.run(
                [sys.executable, "-c", PHASES_CHILD, *arguments], check=True, capture_output=True, text=True
            )
            wall = time.perf_counter() - start
        rows[name] = phase_row(json.loads(done.stdout.strip().splitlines()[-1]), spawned, wall)
        print(name, {k: round(v, 2) for k, v in rows[name].items()}, flush=True)
    return rows


def phase_row(child: dict, spawned: float, wall: float) -> dict[str, float]:
    """Seconds of each phase of the child, from the clock marks it printed."""
    # Interpreter start-up: from the spawn to the child's first line (one wall clock for both processes).
    previous, row = child["began"], {"interpreter": child["began_epoch"] - spawned}
    for phase, at in child["marks"].items():
        row[phase], previous = at - previous, at
    row["exit"] = wall - row["interpreter"] - (child["marks"]["saving"] - child["began"])  # not start-up
    row["first iteration after"] = row["interpreter"] + row["imports"] + row["weights"] + row["first evaluation"]
    return row


def command(content: str, style: str, output: Path, *extra: str) -> list[str]:
    """The `impasto` command on two of the shared images, with SqueezeNet 1.1's real weights."""
    weights = squeezenet_weights()
    return [
        *(sys.executable, "-m", "impasto", str(IMAGES / content), str(IMAGES / style), "-o", str(output)),
        *("--model", "squeezenet1_1", *(["--weights", weights] if weights else []), "--overwrite", "--quiet"),
        *extra,
    ]


def scores(result: Path, content: str, style: str) -> dict:
    """The network-free quality measures and the fp32 total loss of a result."""
    image = as_tensor(fitted(result))
    settings = Settings(model="squeezenet1_1", weights=squeezenet_weights(), size=max(image.shape[-2:]))
    objective = reference_objective(IMAGES / content, IMAGES / style, settings)
    return {
        "style distance": style_distance(image[0], as_tensor(fitted(IMAGES / style))[0]),
        "content similarity": content_similarity(image[0], as_tensor(fitted(IMAGES / content))[0]),
        "total loss": objective(image)["total"].item(),
    }


def main_command(args: argparse.Namespace) -> dict:
    """The README's main command as it ran before (one scale, all 500 iterations), the full
    length of today's defaults (coarse to fine, no stop) and today's defaults (with the stop)."""
    modes = {
        "before: one scale, 500 iterations": ["--scales", "1", "--style-weight", "20", "--stop-tolerance", "0"],
        "now, full length (no stop)": ["--stop-tolerance", "0"],
        "now: the defaults": [],
    }
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in modes.items():
            output, log = Path(folder) / f"{len(rows)}.png", Path(folder) / f"{len(rows)}.csv"
            walls = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                subprocess.run(command(*MAIN, output, "--loss-log", str(log), *args.extra, *extra), check=True)
                walls.append(time.perf_counter() - start)
            with open(log, newline="") as f:
                evaluations = sum(1 for _ in csv.DictReader(f)) - 1
            rows[name] = {"wall s": statistics.median(walls), "evaluations": evaluations, **scores(output, *MAIN)}
            print(name, rows[name], flush=True)
    before, full, now = rows.values()
    rows["speed-up (before / now)"] = {
        "wall s": before["wall s"] / now["wall s"],
        "evaluations": before["evaluations"] / now["evaluations"],
    }
    rows["now / full length"] = {
        k: now[k] / full[k] for k in ("wall s", "style distance", "content similarity", "total loss")
    }
    return rows


def loss_curves(args: argparse.Namespace) -> list[list[float]]:
    """The total loss at every evaluation of a full one-scale run (no stop) of each pair."""
    curves = []
    for content, style in PAIRS[:1] if args.quick else PAIRS:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "log.csv"
            extra = ["--stop-tolerance", "0", "--scales", "1", "--style-weight", "20", "--loss-log", str(log)]
            subprocess.run(command(content, style, Path(folder) / "out.png", *args.extra, *extra), check=True)
            with open(log, newline="") as f:
                curves.append([float(row["total"]) for row in csv.DictReader(f)])
        print("full run", content, style, flush=True)
    return curves


def stop_at(curve: list[float], tolerance: float, window: int) -> int:
    """The evaluation where the convergence stop would end this run (the last one if it never would)."""
    ends = (t for t in range(window, len(curve)) if curve[t - window] - curve[t] <= tolerance * abs(curve[t - window]))
    return next(ends, len(curve) - 1)


def tolerance(args: argparse.Namespace) -> dict:
    """Per tolerance: the median share of evaluations saved and the worst loss excess at the stop."""
    from impasto.optim.loop import STOP_WINDOW  # not public: the stop's window, to replay the stop on full runs

    curves = loss_curves(args)
    rows = {}
    for tol in TOLERANCES:
        stops = [(stop_at(curve, tol, STOP_WINDOW), curve) for curve in curves]
        saved = [1 - stop / (len(curve) - 1) for stop, curve in stops]
        excess = [curve[stop] / curve[-1] - 1 for stop, curve in stops]
        rows[str(tol)] = {
            "median evaluations saved": statistics.median(saved),
            "worst loss excess": max(excess),
            "median loss excess": statistics.median(excess),
        }
        print(tol, rows[str(tol)], flush=True)
    return rows


def machine() -> str:
    return f"{cpu_name()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores"


def markdown(results: dict) -> str:
    lines = [f"# Time to result ({results['machine']})", ""]
    for section, rows in results["sections"].items():
        columns = list(next(iter(rows.values())))
        lines += [f"## {section}", "", "| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        for name, row in rows.items():
            lines.append(f"| {name} | " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def _cell(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else "" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="phases,main,tolerance")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of each mode of the main command")
    parser.add_argument("--phase-iterations", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="128 px and few iterations: proves the script runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    args.extra = QUICK if args.quick else []
    require(*(IMAGES / name for pair in PAIRS for name in pair))
    runners = {"phases": phases, "main": main_command, "tolerance": tolerance}
    results: dict[str, Any] = {"machine": machine(), "sections": {}}
    for name in args.sections.split(","):
        results["sections"][name] = runners[name](args)
    suffix = "" if args.sections == "phases,main,tolerance" else "-" + args.sections.replace(",", "-")
    print(markdown(results))
    write_results(args.out / f"time_to_result{suffix}{'-quick' if args.quick else ''}", results, markdown(results))


if __name__ == "__main__":
    main()
