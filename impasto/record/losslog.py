"""The losses of every iteration: recorded from the engine's callback, written as CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from impasto.atomic import write_text_atomic
from impasto.engine.events import Iterate

FIXED = ("step", "scale", "iteration")


class LossLog:
    """One row per loss evaluation: step (counted over all scales), scale, iteration,
    each loss term, the total, and the seconds elapsed since the run began."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self._offset = 0.0  # seconds of the scales before the current one

    def __call__(self, it: Iterate) -> None:
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

    def state(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows], "offset": self._offset}

    def restore(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state["rows"]]
        self._offset = float(state["offset"])
