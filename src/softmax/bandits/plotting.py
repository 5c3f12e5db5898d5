"""Learning-curve plots of bandit results (matplotlib, imported only here)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .._optional import require
from .simulate import BanditResult
from .testbed import Testbed

__all__ = ["plot_results"]


def plot_results(
    results: Sequence[BanditResult],
    path: str | os.PathLike,
    *,
    labels: Sequence[str] | None = None,
    dpi: int = 120,
) -> None:
    """Draw average reward and % optimal action against steps, and save the figure.

    When the results come from testbeds with different means of ``q*`` (the
    gradient bandit runs on ``q* ~ N(4, 1)``), the reward panel subtracts each
    testbed's mean so that the curves share one axis; the label says so.

    Parameters
    ----------
    results : sequence of BanditResult
    path : str or path-like
        Output file; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    labels : sequence of str, optional
        Legend entries; the policies' descriptions by default.
    dpi : int, default=120

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from softmax.bandits import SoftmaxPolicy, Testbed, simulate
    >>> results = [simulate(SoftmaxPolicy(beta=b), Testbed(), runs=50, steps=50, seed=0)
    ...            for b in (1.0, 4.0)]
    >>> plot_results(results, Path(tempfile.mkdtemp()) / "curves.png")
    """
    # A bare Figure on the Agg canvas: no pyplot, so no global backend switch,
    # no display needed, and nothing left open in a user's session.
    matplotlib = require("matplotlib", "plot", "Drawing the bandit curves")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [r.label for r in results] if labels is None else list(labels)
    shifts = {_centre(r.testbed) for r in results}
    relative = len(shifts) > 1
    fig = Figure(figsize=(9, 9), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    colours = matplotlib.colormaps["tab10"].colors
    for i, (result, label) in enumerate(zip(results, labels)):
        # Ten colours, then the same colours dashed: every curve stays distinguishable.
        style = {
            "color": colours[i % len(colours)],
            "linestyle": ("-", "--", ":")[(i // len(colours)) % 3],
            "linewidth": 1,
            "label": label,
        }
        steps = range(1, result.steps + 1)
        offset = _centre(result.testbed) if relative else 0.0
        top.plot(steps, result.mean_reward - offset, **style)
        bottom.plot(steps, 100 * result.optimal_fraction, **style)
    top.set_ylabel(
        "average reward\n(minus the testbed's mean q*)" if relative else "average reward"
    )
    bottom.set_ylabel("% optimal action")
    bottom.set_xlabel("steps")
    bottom.set_ylim(0, 100)
    runs = sorted({r.runs for r in results})
    top.set_title(f"k-armed testbed, average of {'/'.join(map(str, runs))} runs")
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
    # One legend below both panels, where it hides no curve.
    fig.legend(
        handles=top.get_lines(), loc="outside lower center", ncols=2, fontsize="small"
    )
    fig.savefig(path, dpi=dpi)

def _centre(testbed: Testbed) -> float:
    """The mean of the distribution of true values (of the fixed ones, if given)."""
    return float(np.mean(testbed.means)) if testbed.means is not None else testbed.mean
