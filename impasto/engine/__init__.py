"""The engine: a reusable Stylizer that runs jobs and reports plain-data events."""

from impasto.engine.events import Iterate
from impasto.engine.stylizer import Stylizer, reference_objective, stylize
from impasto.optim.control import RunControl

__all__ = ["Iterate", "RunControl", "Stylizer", "reference_objective", "stylize"]
