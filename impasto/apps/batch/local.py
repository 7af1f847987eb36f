"""The local backend: one Stylizer, loaded once, runs the batch's jobs one after another, each
as an engine `Job` that reads its photo and style from their files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from impasto.apps.batch.plan import Job
from impasto.apps.batch.results import Outcome, ResultWriter, failed
from impasto.apps.tally import RunTally
from impasto.engine import Callback, Stylizer
from impasto.engine import Job as Run

Watch = Callable[[Job], Callback]
"""Gives the progress callback of a job as it starts."""


def run_local(stylizer: Stylizer, jobs: Iterable[Job], writer: ResultWriter, watch: Watch) -> Iterator[Outcome]:
    """Runs each job and saves its result; a job that fails is reported and the next one goes on."""
    device = str(stylizer.device)
    for job in jobs:
        tally = RunTally()
        run = Run(stylizer.settings, job.content, [job.style], [tally, watch(job)])
        began = time.perf_counter()
        try:
            finish = run.run(stylizer)
        except Exception as error:  # a bad input (or a run out of memory) fails this job only
            yield failed(job, error)
            continue
        seconds = time.perf_counter() - began
        yield writer.save(job, finish.image, tally.losses, seconds, device, tally.checksums)
