"""What a user waits: the README's main command end to end, its start-up phases, and the
convergence stop measured on the quality pairs. Prints tables and writes
benchmarks/results/time_to_result.{md,json}.

    python benchmarks/time_to_result.py                  # all sections (about 25 minutes on 2 cores)
    python benchmarks/time_to_result.py --sections phases

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
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IMAGES = SHARED / "images"
SQUEEZENET = SHARED / "models" / "squeezenet1_1-caffe.pth"
RESULTS = ROOT / "benchmarks" / "results"
MAIN = ["tubingen.jpg", "starry_night.jpg"]
PAIRS = [
    ("tubingen.jpg", "starry_night.jpg"),
    ("golden_gate.jpg", "the_scream.jpg"),
    ("tubingen.jpg", "seated-nude.jpg"),
    ("brad_pitt.jpg", "picasso_selfport1907.jpg"),
]
TOLERANCES = (0.001, 0.002, 0.005, 0.01, 0.02)

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
from impasto.record.provenance import save_with_record
save_with_record(image, sys.argv[4], {"impasto": impasto.__version__})
marks["saving"] = time.perf_counter()
print(json.dumps({"began": began, "began_epoch": began_epoch, "marks": marks, "evaluations": len(seen)}))
"""


def phases(args: argparse.Namespace) -> dict:
    """Start-up phases of a fresh process per network, from its spawn (interpreter start) to its exit."""
    nets = {
        "squeezenet1_1": {"model": "squeezenet1_1", "weights": str(SQUEEZENET)},
        "vgg19 (random weights)": {"model": "vgg19", "weights": "random"},
    }
    rows = {}
    for name, net in nets.items():
        settings = {**net, "size": 512, "iterations": args.phase_iterations, "stop_tolerance": 0.0}
        with tempfile.TemporaryDirectory() as folder:
            start, spawned = time.perf_counter(), time.time()
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    PHASES_CHILD,
                    json.dumps(settings),
                    str(IMAGES / MAIN[0]),
                    str(IMAGES / MAIN[1]),
                    str(Path(folder) / "out.png"),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - start
        child = json.loads(done.stdout.strip().splitlines()[-1])
        # Interpreter start-up: from the spawn to the child's first line (one wall clock for both processes).
        previous, row = child["began"], {"interpreter": child["began_epoch"] - spawned}
        for phase, at in child["marks"].items():
            row[phase], previous = at - previous, at
        row["exit"] = wall - row["interpreter"] - (child["marks"]["saving"] - child["began"])  # not start-up
        row["first iteration after"] = row["interpreter"] + row["imports"] + row["weights"] + row["first evaluation"]
        rows[name] = row
        print(name, {k: round(v, 2) for k, v in row.items()}, flush=True)
    return rows


def command(content: str, style: str, output: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "impasto",
        str(IMAGES / content),
        str(IMAGES / style),
        "-o",
        str(output),
        "--model",
        "squeezenet1_1",
        "--weights",
        str(SQUEEZENET),
        "--overwrite",
        "--quiet",
        *extra,
    ]


def scores(result: Path, content: str, style: str) -> dict:
    """The network-free quality measures and the fp32 total loss of a result."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from measures import content_similarity, style_distance

    from impasto import Settings
    from impasto.engine.stylizer import reference_objective
    from impasto.image.io import load_image, to_tensor

    image = to_tensor(load_image(result))[0]
    settings = Settings(model="squeezenet1_1", weights=str(SQUEEZENET), size=max(load_image(result).size))
    objective = reference_objective(IMAGES / content, IMAGES / style, settings)
    return {
        "style distance": style_distance(image, to_tensor(load_image(IMAGES / style))[0]),
        "content similarity": content_similarity(image, to_tensor(load_image(IMAGES / content))[0]),
        "total loss": objective(image[None])["total"].item(),
    }


def main_command(args: argparse.Namespace) -> dict:
    """The README's main command as it ran before (one scale, all 500 iterations), the full
    length of today's defaults (coarse to fine, no stop) and today's defaults (with the stop)."""
    modes = {
        "before: one scale, 500 iterations": ["--scales", "1", "--style-weight", "20", "--stop-tolerance", "0"],
        "now, full length (no stop)": ["--stop-tolerance", "0"],
        "now: the defaults": [],
    }
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in modes.items():
            output = Path(folder) / f"{len(rows)}.png"
            log = Path(folder) / f"{len(rows)}.csv"
            walls = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                subprocess.run(command(*MAIN, output, "--loss-log", str(log), *extra), check=True)
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


def tolerance(args: argparse.Namespace) -> dict:
    """Per tolerance: the median share of evaluations saved and the worst loss excess at the stop."""
    sys.path.insert(0, str(ROOT))
    from impasto.optim.loop import STOP_WINDOW

    curves = {}
    with tempfile.TemporaryDirectory() as folder:
        for content, style in PAIRS:
            log = Path(folder) / "log.csv"
            subprocess.run(
                command(
                    content,
                    style,
                    Path(folder) / "out.png",
                    "--stop-tolerance",
                    "0",
                    "--scales",
                    "1",
                    "--style-weight",
                    "20",
                    "--loss-log",
                    str(log),
                ),
                check=True,
            )
            with open(log, newline="") as f:
                curves[f"{content}x{style}"] = [float(row["total"]) for row in csv.DictReader(f)]
            print("full run", content, style, flush=True)
    rows = {}
    for tol in TOLERANCES:
        saved, excess = [], []
        for curve in curves.values():
            stop = next(
                (
                    t
                    for t in range(STOP_WINDOW, len(curve))
                    if curve[t - STOP_WINDOW] - curve[t] <= tol * abs(curve[t - STOP_WINDOW])
                ),
                len(curve) - 1,
            )
            saved.append(1 - stop / (len(curve) - 1))
            excess.append(curve[stop] / curve[-1] - 1)
        rows[str(tol)] = {
            "median evaluations saved": statistics.median(saved),
            "worst loss excess": max(excess),
            "median loss excess": statistics.median(excess),
        }
        print(tol, rows[str(tol)], flush=True)
    return rows


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (StopIteration, OSError):
        model = platform.processor()
    return f"{model}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores"


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
    args = parser.parse_args()
    runners = {"phases": phases, "main": main_command, "tolerance": tolerance}
    results = {"machine": machine(), "sections": {}}
    for name in args.sections.split(","):
        results["sections"][name] = runners[name](args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.sections == "phases,main,tolerance" else "-" + args.sections.replace(",", "-")
    (RESULTS / f"time_to_result{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"time_to_result{suffix}.md").write_text(markdown(results) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
