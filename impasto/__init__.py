"""impasto: neural style transfer (Gatys, Ecker and Bethge, 2016) as a tool and a library.

The public names load on first use (PEP 562), so that `import impasto` and the command's
start-up import no PyTorch before they need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and editors see; at run time these load on first use
    from impasto.engine import Callback, Iterate, Job, StopToken, Stylizer, stylize
    from impasto.errors import ImpastoError
    from impasto.record.options import OutputOptions
    from impasto.settings import Settings

__version__ = "0.2.0"
__all__ = [
    "Callback",
    "ImpastoError",
    "Iterate",
    "Job",
    "OutputOptions",
    "Settings",
    "StopToken",
    "Stylizer",
    "stylize",
    "__version__",
]

_HOMES = {
    "Callback": "impasto.engine",
    "Job": "impasto.engine",
    "ImpastoError": "impasto.errors",
    "Iterate": "impasto.engine",
    "OutputOptions": "impasto.record.options",
    "StopToken": "impasto.engine",
    "Settings": "impasto.settings",
    "Stylizer": "impasto.engine",
    "stylize": "impasto.engine",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'impasto' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
