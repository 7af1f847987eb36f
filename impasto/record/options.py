"""`OutputOptions`: what a run writes and shows besides its image, shared by the command
line, the web app and batch runs (no argparse below the apps)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class OutputOptions:
    """Progress and side outputs of one run; paths are as given (None: not written)."""

    quiet: bool = False
    log_every: int | None = None
    save_every: int | None = None
    animate: str | None = None
    comparison: str | None = None
    loss_log: str | None = None
    loss_plot: str | None = None
    checkpoint_every: int | None = None

    KEPT = ("save_every", "animate", "comparison", "loss_log", "loss_plot", "checkpoint_every")
    """The options a checkpoint keeps, so `--resume` writes the same files."""

    def kept(self) -> dict[str, Any]:
        """The options a checkpoint keeps."""
        return {name: value for name, value in asdict(self).items() if name in self.KEPT}
