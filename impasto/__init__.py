"""impasto: neural style transfer (Gatys, Ecker and Bethge, 2016) as a tool and a library."""

from impasto.engine import Iterate, RunControl, Stylizer, stylize
from impasto.errors import ImpastoError
from impasto.record.options import OutputOptions
from impasto.settings import Settings

__version__ = "0.2.0"
__all__ = ["ImpastoError", "Iterate", "OutputOptions", "RunControl", "Settings", "Stylizer", "stylize", "__version__"]
