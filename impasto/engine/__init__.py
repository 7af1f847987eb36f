"""The engine: a reusable Stylizer that runs jobs and tells callbacks plain-data events."""

from impasto.engine.job import Job
from impasto.engine.stylizer import Stylizer, reference_objective, stylize
from impasto.optim.callbacks import Callback, Finish, RunStart
from impasto.optim.control import StopToken
from impasto.optim.events import Iterate, Resume, Snapshot

__all__ = [
    "Callback",
    "Finish",
    "Iterate",
    "Job",
    "Resume",
    "RunStart",
    "Snapshot",
    "StopToken",
    "Stylizer",
    "reference_objective",
    "stylize",
]
