"""The Ray backend: the batch's jobs run on a StylizerPool; results are written here, by the driver."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image

from impasto.apps.batch.plan import Job
from impasto.apps.batch.results import Outcome, ResultWriter, failed
from impasto.apps.ray_pool import PoolJob, PoolResult, StylizerPool, encode_png
from impasto.errors import ImpastoError
from impasto.image.io import read_image


def run_ray(pool: StylizerPool, jobs: Sequence[Job], writer: ResultWriter) -> Iterator[Outcome]:
    """Runs the jobs on the pool's workers and saves each result as it comes back.

    Inputs are read and checked here, as the local backend's Job reads them (a bad one fails
    its job with the file's name), and sent as lossless PNG of exactly the pixels that Job
    would use, so both give the same images and records; a photo shared by several jobs is
    read and encoded once.
    """
    encoded = functools.lru_cache(maxsize=16)(_encoded)
    refused: list[Outcome] = []
    checksums: dict[str, str] = {}

    def submissions() -> Iterator[PoolJob]:
        for index, job in enumerate(jobs):
            try:
                content, checksums[str(job.content)] = encoded(job.content, "content image")
                style, checksums[str(job.style)] = encoded(job.style, "style image")
            except ImpastoError as error:
                refused.append(failed(job, error))
                continue
            yield PoolJob(content, (style,), key=index)

    for result in pool.map(submissions()):
        yield from _drain(refused)
        yield _outcome(jobs[result.key], result, writer, checksums)
    yield from _drain(refused)


def _encoded(path: Path, what: str) -> tuple[bytes, str]:
    """An input as PNG bytes, with the SHA-256 of the file's bytes it was read from."""
    loaded = read_image(path, what)
    return encode_png(loaded.image), loaded.sha256


def _drain(outcomes: list[Outcome]) -> Iterator[Outcome]:
    while outcomes:
        yield outcomes.pop(0)


def _outcome(job: Job, result: PoolResult, writer: ResultWriter, checksums: dict[str, str]) -> Outcome:
    """The job's outcome: its image saved with its record (and the checksums of the inputs as
    they were read), or the worker's error."""
    if result.error is not None or result.png is None:
        return failed(job, result.error or "the worker returned no image")
    with Image.open(io.BytesIO(result.png)) as image:
        image.load()
        return writer.save(job, image, result.losses, result.seconds, result.device, checksums)
