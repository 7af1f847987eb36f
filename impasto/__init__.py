"""impasto: neural style transfer (Gatys, Ecker and Bethge, 2016) as a tool and a library."""

from .errors import ImpastoError
from .optimize import Iterate
from .pipeline import stylize
from .settings import Settings

__version__ = "0.1.0"
__all__ = ["ImpastoError", "Iterate", "Settings", "stylize", "__version__"]
