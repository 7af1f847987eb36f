"""Progress on the terminal: a live bar, plain log lines for logs, or nothing.

`Progress` is a run's callback; it is the only place a run's progress is printed.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from impasto.optim.callbacks import Callback, Finish
from impasto.optim.events import Iterate

LOG_LINES = 10
"""Plain-line mode without --log-every prints about this many lines per scale."""


def format_losses(losses: dict[str, float]) -> str:
    """`content 1.2e+03 style 4.5e+02 ... total 1.7e+03`: each term, the total last."""
    terms = [k for k in losses if k != "total"] + (["total"] if "total" in losses else [])
    return " ".join(f"{k} {losses[k]:.3g}" for k in terms)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _ended(it: Iterate) -> str:
    """Why a scale ended before its --iterations, on its last line."""
    if it.reason == "converged":
        return " | converged: the loss stopped improving (--stop-tolerance 0 runs every iteration)"
    return " | stopped" if it.reason else ""


class Progress(Callback):
    """Shows each Iterate: a tqdm bar on a terminal, else a line every `log_every` iterations.

    `log_every` > 0 forces plain lines (also on a terminal); 0 picks a bar on a terminal
    and about LOG_LINES lines per scale elsewhere; `quiet` shows nothing.
    """

    def __init__(
        self,
        *,
        quiet: bool = False,
        log_every: int = 0,
        stream: TextIO | None = None,
        desc: str | None = None,
        leave: bool = True,
    ) -> None:
        self.stream = stream or sys.stderr
        self.desc, self.leave = desc, leave
        self.quiet = quiet
        self.log_every = log_every
        self.bar_mode = not quiet and log_every == 0 and self.stream.isatty()
        self._bar: tqdm | None = None
        self._scale: int | None = None
        self._first: tuple[int, float] = (0, 0.0)

    def on_iterate(self, it: Iterate) -> None:
        if self.quiet:
            return
        if it.scale != self._scale:
            self._start_scale(it)
        if self.bar_mode:
            self._update_bar(it)
        else:
            self._log_line(it)

    def _start_scale(self, it: Iterate) -> None:
        self.close()
        self._scale = it.scale
        self._first = (it.iteration, it.elapsed)
        if self.bar_mode:
            label = f"scale {it.scale + 1}/{it.scales}" if it.scales > 1 else "impasto"
            label = f"{self.desc} {label}" if self.desc and it.scales > 1 else self.desc or label
            self._bar = tqdm(
                total=it.iterations,
                initial=it.iteration,
                desc=label,
                unit="it",
                file=self.stream,
                dynamic_ncols=True,
                leave=self.leave,
            )

    def _update_bar(self, it: Iterate) -> None:
        assert self._bar is not None
        if it.iterations != self._bar.total:  # the scale ended early
            self._bar.total = it.iterations
        self._bar.set_postfix_str(format_losses(it.losses) + _ended(it), refresh=False)
        self._bar.update(it.iteration - self._bar.n)

    def _log_line(self, it: Iterate) -> None:
        every = self.log_every or max(1, it.iterations // LOG_LINES)
        if it.iteration % every and it.iteration != it.iterations:
            return
        done, began = it.iteration - self._first[0], it.elapsed - self._first[1]
        rate = done / began if began > 0 and done > 0 else 0.0
        eta = f", ETA {_duration((it.iterations - it.iteration) / rate)}" if rate else ""
        scale = f" scale {it.scale + 1}/{it.scales}" if it.scales > 1 else ""
        print(
            f"impasto:{scale} iteration {it.iteration}/{it.iterations} {format_losses(it.losses)}"
            f" | {rate:.2f} it/s, {_duration(it.elapsed)} elapsed{eta}{_ended(it)}",
            file=self.stream,
            flush=True,
        )

    def on_finish(self, finish: Finish) -> None:
        self.close()

    def on_exception(self, error: BaseException) -> None:
        self.close()

    def close(self) -> None:
        """Ends the current bar (call before printing anything else)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class DownloadBar:
    """Draws a weights download (bytes so far, total) as a bar on a terminal; silent elsewhere."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc="weights",
                file=self.stream,
                disable=not self.stream.isatty(),
            )
        self.bar.update(done - self.bar.n)
        if total is not None and done >= total:
            self.bar.close()
