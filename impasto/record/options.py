"""`OutputOptions`: what a run writes and shows besides its image, shared by the command
line, the web app and batch runs (no argparse below the apps)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from impasto.fields import check_fields


@dataclass(frozen=True)
class OutputOptions:
    """Progress and side outputs of one run; paths are as given (None: not written).
    Validated like `Settings` (`impasto.fields.check_fields`)."""

    quiet: bool = False
    log_every: int | None = field(default=None, metadata={"minimum": 1})
    save_every: int | None = field(default=None, metadata={"minimum": 1})
    animate: str | None = None
    comparison: str | None = None
    loss_log: str | None = None
    loss_plot: str | None = None
    checkpoint_every: int | None = field(default=None, metadata={"minimum": 1})
    keep_checkpoint: bool = False
    bit_depth: int = field(default=8, metadata={"choices": (8, 16)})

    KEPT = (
        "save_every",
        "animate",
        "comparison",
        "loss_log",
        "loss_plot",
        "checkpoint_every",
        "keep_checkpoint",
        "bit_depth",
    )
    """The options a checkpoint keeps, so `--resume` writes the same files."""

    def __post_init__(self) -> None:
        check_fields(self)

    def kept(self) -> dict[str, Any]:
        """The options a checkpoint keeps."""
        return {name: value for name, value in asdict(self).items() if name in self.KEPT}
