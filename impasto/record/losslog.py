"""The losses of every iteration: recorded as a run's callback, written as CSV and plotted."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from impasto.atomic import write_text_atomic
from impasto.errors import ImpastoError
from impasto.optim.callbacks import Callback, Finish
from impasto.optim.events import Iterate
from impasto.planned import Planned
from impasto.record.figures import save_loss_plot

FIXED = ("step", "scale", "iteration")


class LossLog(Callback):
    """One row per loss evaluation: step (counted over all scales), scale, iteration,
    each loss term, the total, and the seconds elapsed since the run began.

    Given `csv` and/or `plot` paths, it writes the log and its plot when the run finishes
    (also when it is interrupted), replacing existing files only with `replace`."""

    state_key = "losses"

    def __init__(self, csv: str | None = None, plot: str | None = None, replace: bool = False) -> None:
        self.rows: list[dict[str, float]] = []
        self._offset = 0.0  # seconds of the scales before the current one
        self.csv, self.plot, self.replace = csv, plot, replace

    def outputs(self) -> list[Planned]:
        planned = [Planned(Path(self.csv), "loss_log", "the loss log")] if self.csv else []
        if self.plot:
            if Path(self.plot).suffix.lower() != ".png":
                raise ImpastoError(f"loss_plot {self.plot}: the plot is a PNG; name it .png", "loss_plot")
            planned.append(Planned(Path(self.plot), "loss_plot", "the loss plot"))
        return planned

    def on_finish(self, finish: Finish) -> None:
        if self.csv:
            finish.written.append(self.write_csv(self.csv, self.replace))
        if self.plot and self.rows:
            finish.written.append(save_loss_plot(self, self.plot, self.replace))

    def on_iterate(self, it: Iterate) -> None:
        previous = self.rows[-1] if self.rows else None
        if previous is not None and previous["scale"] != it.scale:
            self._offset = previous["elapsed_s"]
        self.rows.append(
            {
                "step": len(self.rows),
                "scale": it.scale,
                "iteration": it.iteration,
                **it.losses,
                "elapsed_s": round(self._offset + it.elapsed, 6),
            }
        )

    def columns(self) -> list[str]:
        """FIXED, the loss terms in order of first appearance with total last, elapsed_s."""
        terms: dict[str, None] = {}
        for row in self.rows:
            terms.update(dict.fromkeys(k for k in row if k not in (*FIXED, "total", "elapsed_s")))
        return [*FIXED, *terms, "total", "elapsed_s"]

    def terms(self) -> list[str]:
        """The loss columns (terms and total)."""
        return [c for c in self.columns() if c not in (*FIXED, "elapsed_s")]

    def write_csv(self, path: str | os.PathLike[str], replace: bool = True) -> Path:
        """Writes the rows as CSV (atomically, never over an existing file unless `replace`);
        missing terms are left empty."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return write_text_atomic(path, buffer.getvalue(), replace)

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows], "offset": self._offset}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state["rows"]]
        self._offset = float(state["offset"])
