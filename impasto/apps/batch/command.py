"""`impasto batch`'s work (its options are `impasto.apps.commands.batch`'s): stylise every
photo of a folder in every style of another (or the pairs of a CSV) into one folder,
resumably, on this machine or on a Ray cluster."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from impasto.apps.batch.display import BatchDisplay
from impasto.apps.batch.outputs import check_batch, is_own_output
from impasto.apps.batch.plan import Job, cross_product, plan_jobs, read_pairs
from impasto.apps.batch.results import STATUSES, Outcome, ResultWriter, skipped
from impasto.apps.batch.resume import Finished
from impasto.apps.batch.summary import write_contact_sheets, write_jobs_csv
from impasto.apps.commands.backend import check_backend, check_weights
from impasto.apps.commands.options import settings_from
from impasto.apps.interrupts import as_interrupted
from impasto.errors import ImpastoError
from impasto.settings import Settings


def run(args: argparse.Namespace) -> int:
    """Plans the jobs, skips the finished ones, runs the rest and writes the summary."""
    check_backend(args)
    settings = settings_from(args)
    check_weights(settings, args)
    out = Path(args.output)
    jobs = plan_jobs(_pairs(args, out), out)
    with _output_folder(out):  # before the first job: every file it will write, and where
        check_batch(jobs, out, settings, args.overwrite, args.pairs)
        outcomes = {} if args.overwrite else _skippable(jobs, Finished(settings))
    todo = [job for job in jobs if job not in outcomes]
    display = BatchDisplay(len(jobs), len(outcomes), quiet=args.quiet, log_every=args.log_every)
    try:
        for outcome in _run(args, settings, todo, display):
            outcomes[outcome.job] = outcome
            display.finished(outcome)
    except KeyboardInterrupt as error:  # the summary still lists what was done, and what was not run
        display.close()
        summary, written = _summarise(jobs, outcomes, out)
        done = sum(o.status in ("done", "skipped") for o in summary)
        message = (
            f"interrupted with {done} of {len(jobs)} jobs done (see {written[0]}): run the same command again to go on"
        )
        raise as_interrupted(error).with_message(message) from None
    finally:
        display.close()
    return _report(*_summarise(jobs, outcomes, out), args.quiet)


def _summarise(jobs: Sequence[Job], outcomes: dict[Job, Outcome], out: Path) -> tuple[list[Outcome], list[Path]]:
    """Every job's outcome in plan order, and the summary files written from them."""
    summary = [outcomes.get(job) or Outcome(job, "not run") for job in jobs]
    return summary, [write_jobs_csv(summary, out / "jobs.csv"), *write_contact_sheets(summary, out)]


def _pairs(args: argparse.Namespace, out: Path) -> list[tuple[Path, Path]]:
    """The (photo, style) pairs: the CSV's, or every photo with every style but the files the
    batch itself wrote into `out` (results and contact sheets, when `out` is a photo or style folder)."""
    if args.pairs and (args.contents or args.styles):
        raise ImpastoError("give either CONTENTS STYLES folders or --pairs CSV, not both")
    if args.pairs:
        return read_pairs(args.pairs)
    if not (args.contents and args.styles):
        raise ImpastoError("give a folder of photos and a folder of styles (or --pairs CSV)")
    return cross_product(args.contents, args.styles, lambda path: is_own_output(path, out))


def _skippable(jobs: Sequence[Job], finished: Finished) -> dict[Job, Outcome]:
    """The jobs already done with these settings; an output made otherwise stops the batch
    before any work, rather than being silently replaced."""
    done = {}
    for job in jobs:
        previous = finished.previous(job)
        if previous.conflict:
            raise ImpastoError(
                f"{job.output} exists but {previous.conflict}: pass --overwrite to redo every job, or choose another -o"
            )
        if previous.record is not None:
            done[job] = skipped(job, previous.record)
    return done


@contextlib.contextmanager
def _output_folder(out: Path) -> Iterator[None]:
    """The output folder made (with any missing parents) for the checks in the block, and
    removed again if they stop the batch, so that a refused batch leaves nothing behind."""
    made = [folder for folder in (out, *out.parents) if not os.path.lexists(folder)]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImpastoError(f"cannot create the output folder {out} ({error.strerror}): check the path") from error
    try:
        yield
    except BaseException:
        for folder in made:  # innermost first; a folder something was put in meanwhile stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _run(args: argparse.Namespace, settings: Settings, jobs: list[Job], display: BatchDisplay) -> Iterator[Outcome]:
    """The jobs' outcomes from the chosen backend (nothing starts when there is nothing to do)."""
    if not jobs:
        return
    if args.backend == "ray":
        from impasto.apps.batch.remote import run_ray
        from impasto.apps.ray_pool import StylizerPool

        with StylizerPool(settings, workers=args.workers, address=args.address) as pool:
            yield from run_ray(pool, jobs, ResultWriter(settings, pool.weights_sha256))
    else:
        from impasto.apps.batch.local import run_local
        from impasto.engine import Stylizer

        stylizer = Stylizer(settings)
        stylizer.settings_for()  # a bad setting is one error now, not one per job
        yield from run_local(stylizer, jobs, ResultWriter(settings, stylizer.weights_sha256), display.watch)


def _report(summary: Sequence[Outcome], written: Sequence[Path], quiet: bool) -> int:
    """Prints the tally and every failure; the exit status is 1 if any job failed."""
    counts = {status: sum(o.status == status for o in summary) for status in STATUSES}
    failures = [o for o in summary if o.status == "failed"]
    if not quiet or failures:
        tally = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        print(f"impasto batch: {len(summary)} jobs: {tally}; wrote {', '.join(map(str, written))}", file=sys.stderr)
    for failure in failures:
        print(
            f"  failed {failure.job.output.name} ({failure.job.content}, {failure.job.style}): {failure.error}",
            file=sys.stderr,
        )
    return 1 if failures else 0
