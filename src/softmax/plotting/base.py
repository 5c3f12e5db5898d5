"""Figure plumbing shared by :mod:`softmax.plotting` (matplotlib imported lazily)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .._optional import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PathLike", "colours", "figure", "finish"]

PathLike = str | os.PathLike


def figure(width: float, height: float) -> Figure:
    """An empty figure of `width` x `height` inches with constrained layout."""
    # A bare Figure on the Agg canvas: no pyplot and no backend switch.
    require("matplotlib", "plot", "Drawing pictures")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Figure, path: PathLike | None, dpi: int) -> Figure:
    """Write `fig` to `path` (format from the suffix) when given; return it."""
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def colours(n: int) -> list:
    """`n` distinct RGB colours (tab10, or tab20 beyond ten classes, then repeating)."""
    matplotlib = require("matplotlib", "plot", "Drawing pictures")
    name = "tab10" if n <= 10 else "tab20"
    base = list(matplotlib.colormaps[name].colors)
    return [base[i % len(base)] for i in range(n)]
