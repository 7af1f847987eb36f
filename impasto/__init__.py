"""impasto: neural style transfer (Gatys, Ecker and Bethge, 2016) as a tool and a library."""

from impasto.errors import ImpastoError
from impasto.optim.loop import Iterate
from impasto.engine.pipeline import stylize
from impasto.settings import Settings

__version__ = "0.1.0"
__all__ = ["ImpastoError", "Iterate", "Settings", "stylize", "__version__"]
