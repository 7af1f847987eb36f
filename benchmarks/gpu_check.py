"""GPU check: does a CUDA or Apple MPS device compute what the CPU does, and how fast is it?

One run of a few minutes. For VGG-19 (random weights, so no download is needed) and SqueezeNet
1.1 (the built-in weights, or --weights), in fp32 and in each reduced precision `--precision
auto` may pick on the device (bf16 and fp16 on CUDA; MPS runs fp32), against the CPU in fp32:

1. One evaluation at 128 px from the photo: the total loss (relative difference) and the
   gradient to the pixels (cosine similarity).
2. The same small run on both (128 px, 20 L-BFGS iterations, one scale, seed 0, starting from
   the photo, no early stop): the final total loss (relative difference), and that it fell.
   Pixels are reported, not judged: L-BFGS amplifies rounding, so two CPU runs of this very
   run that differ only in their thread count (1 or 2) end 5 levels apart (SqueezeNet; 10 for
   random VGG-19, mean absolute difference in 0..255) while their final losses agree to 0.6%.
3. Seconds per loss evaluation (forward and backward) of VGG-19 at 512, 1024 and 2048 px, in
   fp32 and in the precision `auto` picks, median of 5 after a warm-up, with the device's peak
   allocated memory (CUDA; MPS reports its driver's allocation).

Writes benchmarks/results/gpu_check.{json,md}, prints the figures, and exits 1 if a check
fails. Without a GPU it prints "no GPU: nothing to check" and exits 0 (--device cpu runs it
anyway, as a dry run of the script itself).

    python3 -m benchmarks.gpu_check [--device cuda:1] [--weights squeezenet1_1-caffe.pth]
    python3 -m benchmarks.gpu_check --device cpu --sizes 128 --out /tmp/bench   # the dry run (a minute)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import RESULTS, ROOT, cpu_name, show, write_results
from benchmarks.objectives import auto_precision, objective_at, seconds_per_evaluation
from impasto import Iterate, Settings, Stylizer

CONTENT, STYLE = ROOT / "examples" / "tubingen.jpg", ROOT / "examples" / "starry_night.jpg"
"""The checkout's own copies, so that the check runs wherever impasto is cloned."""
RUN: dict[str, Any] = {"size": 128, "iterations": 20, "scales": 1, "init": "content", "seed": 0, "stop_tolerance": 0.0}
TOLERANCE = {  # fp32 on CUDA runs its convolutions in TF32 by default: 10-bit mantissas
    "fp32": {"start_loss": 1e-2, "gradient_cosine": 0.99, "final_loss": 0.03},
    "reduced": {"start_loss": 3e-2, "gradient_cosine": 0.9, "final_loss": 0.05},
}
"""Pass marks. Measured on the CPU (bf16 against fp32): start loss 1e-3, gradient cosine 0.97
(random VGG-19) to 0.98, final loss 0.4%."""
SPEED_SIZES = (512, 1024, 2048)
REPEATS = 5


def find_device(name: str) -> torch.device | None:
    """The device to check: the one named, else CUDA, then MPS; None when there is no GPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return None


def precisions(device: torch.device) -> list[str]:
    """fp32 and each reduced precision `auto` may pick on this kind of device."""
    if device.type != "cuda":
        return ["fp32"]
    return ["fp32", *(["bf16"] if torch.cuda.is_bf16_supported() else []), "fp16"]


def networks(weights: str | None) -> list[Settings]:
    return [Settings(model="vgg19", weights="random"), Settings(model="squeezenet1_1", weights=weights)]


def one_evaluation(settings: Settings, device: torch.device, precision: str) -> tuple[float, torch.Tensor]:
    """Total loss and gradient (on the CPU) at the photo, 128 px."""
    objective, content = objective_at(settings, CONTENT, STYLE, RUN["size"], precision, device)
    pixels = content.clone().requires_grad_(True)
    total = objective(pixels)["total"]
    total.backward()
    assert pixels.grad is not None
    return total.item(), pixels.grad.detach().float().cpu()


def small_run(settings: Settings, device: torch.device, precision: str) -> dict:
    """The small run: its result's pixels (0..255), first and final total loss, and seconds."""
    events: list[Iterate] = []
    began = time.perf_counter()
    image = Stylizer(dataclasses.replace(settings, device=str(device), precision=precision, **RUN)).run(
        CONTENT, STYLE, callback=events.append
    )
    return {
        "pixels": np.asarray(image, dtype=np.float64),
        "first": events[0].losses["total"],
        "final": events[-1].losses["total"],
        "seconds": time.perf_counter() - began,
    }


def agreement(settings: Settings, device: torch.device, cpu: dict, precision: str) -> dict:
    """How one network in one precision on the device compares with the CPU's fp32."""
    loss, gradient = one_evaluation(settings, device, precision)
    run = small_run(settings, device, precision)
    marks = TOLERANCE["fp32" if precision == "fp32" else "reduced"]
    row = {
        "network": settings.model,
        "precision": precision,
        "start_loss_rel": abs(loss - cpu["loss"]) / abs(cpu["loss"]),
        "gradient_cosine": torch.nn.functional.cosine_similarity(
            gradient.flatten(), cpu["gradient"].flatten(), dim=0
        ).item(),
        "final_loss_rel": abs(run["final"] - cpu["run"]["final"]) / abs(cpu["run"]["final"]),
        "loss_fell": run["final"] < 0.5 * run["first"],
        "pixels_mean_abs": float(np.abs(run["pixels"] - cpu["run"]["pixels"]).mean()),
        "run_seconds": run["seconds"],
        "cpu_run_seconds": cpu["run"]["seconds"],
    }
    row["passed"] = bool(
        row["start_loss_rel"] <= marks["start_loss"]
        and row["gradient_cosine"] >= marks["gradient_cosine"]
        and row["final_loss_rel"] <= marks["final_loss"]
        and row["loss_fell"]
    )
    return row


def agreement_section(device: torch.device, weights: str | None) -> list[dict]:
    rows = []
    for settings in networks(weights):
        loss, gradient = one_evaluation(settings, torch.device("cpu"), "fp32")
        cpu = {"loss": loss, "gradient": gradient, "run": small_run(settings, torch.device("cpu"), "fp32")}
        for precision in precisions(device):
            rows.append(agreement(settings, device, cpu, precision))
            show(rows[-1])
    return rows


def speed_row(device: torch.device, precision: str, size: int) -> dict:
    """Median seconds of one VGG-19 evaluation at `size`, and the peak memory it took."""
    settings = Settings(model="vgg19", weights="random")
    objective, content = objective_at(settings, CONTENT, STYLE, size, precision, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = seconds_per_evaluation(objective, content, REPEATS)[1]
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
    else:
        peak = torch.mps.driver_allocated_memory() if device.type == "mps" else 0
    return {"size": size, "precision": precision, "s_per_eval": seconds, "peak_gib": peak / 2**30}


def speed_section(device: torch.device, sizes: tuple[int, ...]) -> list[dict]:
    rows = []
    for precision in dict.fromkeys(["fp32", auto_precision(device)]):
        for size in sizes:
            rows.append(speed_row(device, precision, size))
            show(rows[-1])
    return rows


def machine(device: torch.device) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {
        "device": str(device),
        "name": name,
        "torch": torch.__version__,
        "auto_precision": auto_precision(device),
        "cudnn_tf32": bool(torch.backends.cudnn.allow_tf32) if device.type == "cuda" else None,
        "cpu_threads": torch.get_num_threads(),
    }


def markdown(report: dict) -> str:
    """The report as the tables docs/performance.md can quote."""
    m = report["machine"]
    lines = [
        f"# GPU check: {m['name']} ({m['device']}), torch {m['torch']}, auto precision {m['auto_precision']}",
        "",
        f"Agreement with the CPU (fp32) at {RUN['size']} px, {RUN['iterations']} L-BFGS iterations. Pass marks: "
        + "; ".join(
            f"{kind}: start loss within {t['start_loss']:.0e}, gradient cosine at least {t['gradient_cosine']}, "
            f"final loss within {t['final_loss']:.0%}"
            for kind, t in TOLERANCE.items()
        ),
        "",
        "| network | precision | start loss rel. | gradient cosine | final loss rel. | pixels (mean abs, 0..255) | passed |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['network']} | {r['precision']} | {r['start_loss_rel']:.2e} | {r['gradient_cosine']:.4f} | "
        f"{r['final_loss_rel']:.2%} | {r['pixels_mean_abs']:.2f} | {'yes' if r['passed'] else 'NO'} |"
        for r in report["agreement"]
    ]
    lines += ["", "VGG-19 seconds per evaluation (forward and backward)", ""]
    lines += ["| size (px) | precision | s/eval | peak memory (GiB) |", "|---|---|---|---|"]
    lines += [
        f"| {r['size']} | {r['precision']} | {r['s_per_eval']:.4f} | {r['peak_gib']:.2f} |" for r in report["speed"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="cuda, cuda:N, mps (default: the first GPU found)")
    parser.add_argument("--weights", help="SqueezeNet 1.1 weights file (default: the built-in weights)")
    parser.add_argument("--sizes", default=",".join(map(str, SPEED_SIZES)), help="speed sizes, comma-separated")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    device = find_device(args.device)
    if device is None:
        print("no GPU: nothing to check")
        return 0
    began = time.perf_counter()
    report: dict[str, Any] = {"machine": machine(device), "run": RUN, "tolerance": TOLERANCE}
    print(f"checking {report['machine']['name']} ({device}) against the CPU", flush=True)
    report["agreement"] = agreement_section(device, args.weights)
    report["speed"] = speed_section(device, tuple(int(s) for s in args.sizes.split(",")))
    report["seconds"] = time.perf_counter() - began
    write_results(args.out / "gpu_check", report, markdown(report))
    failed = [f"{r['network']} {r['precision']}" for r in report["agreement"] if not r["passed"]]
    print(
        f"{len(report['agreement']) - len(failed)} of {len(report['agreement'])} agreement checks passed "
        f"in {report['seconds']:.0f} s; results in {args.out / 'gpu_check.md'}"
    )
    if failed:
        print(f"FAILED: {', '.join(failed)} differ from the CPU beyond the pass marks", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
