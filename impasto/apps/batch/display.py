"""The batch on the terminal: a bar over the jobs, the running job's own progress, and a line
per finished job (failures even with --quiet)."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from impasto.apps.batch.plan import Job
from impasto.apps.batch.results import Outcome
from impasto.record.progress import Progress


class BatchDisplay:
    """Shows the batch's progress on `stream` (stderr): a bar on a terminal, plain lines elsewhere."""

    def __init__(
        self, total: int, done: int, *, quiet: bool = False, log_every: int = 0, stream: TextIO | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.log_every = log_every
        self.bar_mode = not quiet and self.stream.isatty()
        self.bar = tqdm(
            total=total,
            initial=done,
            desc="batch",
            unit="job",
            file=self.stream,
            dynamic_ncols=True,
            disable=not self.bar_mode,
        )
        self._job: Progress | None = None

    def watch(self, job: Job) -> Progress:
        """The progress callback of a job that starts now (the local backend runs one at a time)."""
        self._end_job()
        self.bar.set_postfix_str(job.output.name)
        shown = self.bar_mode or self.log_every > 0  # in a log, one line per job is enough unless asked
        self._job = Progress(
            quiet=self.quiet or not shown,
            log_every=self.log_every,
            stream=self.stream,
            desc=job.output.stem,
            leave=False,  # one clean line per job: the jobs bar keeps the count
        )
        return self._job

    def finished(self, outcome: Outcome) -> None:
        """Counts a job as finished and says how it went."""
        self._end_job()
        if outcome.status == "failed":
            self._say(f"impasto batch: failed {outcome.job.output.name}: {outcome.error}")
        elif not self.quiet:
            total = outcome.losses.get("total")
            loss = f", total loss {total:.3g}" if total is not None else ""
            self._say(f"impasto batch: wrote {outcome.job.output} in {outcome.seconds or 0:.1f} s{loss}")
        self.bar.update(1)

    def _say(self, line: str) -> None:
        self.bar.write(line, file=self.stream)

    def _end_job(self) -> None:
        if self._job is not None:
            self._job.close()
            self._job = None

    def close(self) -> None:
        """Ends the bars (before the summary is printed)."""
        self._end_job()
        self.bar.close()
