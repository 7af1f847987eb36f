"""Figures of a run: content, style(s) and result side by side; the losses over the iterations."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from impasto.atomic import write_bytes_atomic
from impasto.image.io import save_image

if TYPE_CHECKING:
    from impasto.record.losslog import LossLog

GAP = 8
"""Pixels between and around the panels of the comparison figure."""
PLOT_SIZE = (8.0, 5.0)
PLOT_DPI = 100
"""The loss plot is PLOT_SIZE inches at PLOT_DPI: 800 x 500 pixels."""


def comparison_figure(panels: Sequence[tuple[Image.Image, str]], height: int | None = None) -> Image.Image:
    """The images side by side at one height (the last image's unless given), each with
    its caption (one line per `\n`) centred below, on white."""
    height = height or panels[-1][0].height
    scaled = [image.convert("RGB").resize(_width_at(image, height), Image.Resampling.LANCZOS) for image, _ in panels]
    font_size = max(12, height // 24)
    font = ImageFont.load_default(size=font_size)
    lines = max(caption.count("\n") + 1 for _, caption in panels)
    line_height = round(font_size * 1.3)
    width = sum(image.width for image in scaled) + GAP * (len(scaled) + 1)
    figure = Image.new("RGB", (width, height + lines * line_height + 2 * GAP), "white")
    draw = ImageDraw.Draw(figure)
    x = GAP
    for image, (_, caption) in zip(scaled, panels):
        figure.paste(image, (x, GAP))
        for row, line in enumerate(caption.split("\n")):
            text = _fit(draw, line, font, image.width + GAP)
            left = x + (image.width - draw.textlength(text, font=font)) / 2
            draw.text((left, GAP + height + GAP // 2 + row * line_height), text, fill="black", font=font)
        x += image.width + GAP
    return figure


def _width_at(image: Image.Image, height: int) -> tuple[int, int]:
    return max(1, round(image.width * height / image.height)), height


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """The caption, shortened with an ellipsis until it fits `width` pixels."""
    while len(text) > 1 and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text


def save_comparison(
    content: Image.Image,
    styles: Sequence[tuple[Image.Image, str]],
    result: Image.Image,
    path: str | os.PathLike[str],
    content_name: str = "content",
    replace: bool = True,
) -> Path:
    """Writes the comparison figure (content, each style, result) as an image file
    (never over an existing file unless `replace`)."""
    panels = [(content, f"content\n{content_name}")]
    panels += [(image, f"style\n{name}") for image, name in styles]
    panels.append((result, "result\nimpasto"))
    return save_image(comparison_figure(panels), path, replace=replace)


def save_loss_plot(log: LossLog, path: str | os.PathLike[str], replace: bool = True) -> Path:
    """One line per loss term over the steps, on a log scale, written as PNG (800 x 500)
    (never over an existing file unless `replace`)."""
    import matplotlib  # imported here: about a second of start-up that only a plot needs

    matplotlib.use("Agg")  # files only; never opens a window
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=PLOT_SIZE, dpi=PLOT_DPI)
    try:
        steps = [row["step"] for row in log.rows]
        for term in log.terms():
            values = [row.get(term, float("nan")) for row in log.rows]
            if any(v > 0 for v in values):  # a log axis cannot show a term that stays zero
                axes.plot(steps, values, label=term, linewidth=2.0 if term == "total" else 1.2)
        axes.set_yscale("log")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("iteration" if _single_scale(log) else "iteration (all scales)")
        axes.set_ylabel("weighted loss")
        axes.set_title("impasto: losses")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        for step in _scale_starts(log):
            axes.axvline(step, color="grey", linestyle=":", linewidth=1)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PLOT_DPI)
    finally:
        plt.close(figure)
    return write_bytes_atomic(path, buffer.getvalue(), replace)


def _single_scale(log: LossLog) -> bool:
    return len({row["scale"] for row in log.rows}) <= 1


def _scale_starts(log: LossLog) -> list[float]:
    """Steps where a new scale begins (after the first)."""
    return [b["step"] for a, b in zip(log.rows, log.rows[1:]) if a["scale"] != b["scale"]]
