"""The local backend: one Stylizer, loaded once, runs the batch's jobs one after another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from impasto.apps.batch.plan import Job
from impasto.apps.batch.results import Outcome, ResultWriter, failed
from impasto.engine import Iterate, Stylizer
from impasto.image.io import load_image

Watch = Callable[[Job], Callable[[Iterate], None]]
"""Gives the progress callback of a job as it starts."""


def run_local(stylizer: Stylizer, jobs: Iterable[Job], writer: ResultWriter, watch: Watch) -> Iterator[Outcome]:
    """Runs each job and saves its result; a job that fails is reported and the next one goes on."""
    device = str(stylizer.device)
    for job in jobs:
        final: dict[str, float] = {}
        show = watch(job)

        def callback(it: Iterate, final: dict[str, float] = final, show: Callable[[Iterate], None] = show) -> None:
            final.update(it.losses)
            show(it)

        began = time.perf_counter()
        try:
            image = stylizer.run(load_image(job.content), load_image(job.style), callback=callback)
        except Exception as error:  # a bad input (or a run out of memory) fails this job only
            yield failed(job, error)
            continue
        yield writer.save(job, image, final, time.perf_counter() - began, device)
