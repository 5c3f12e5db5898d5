"""``softmax explain``: hard-max, sum-normalisation and softmax side by side."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..explain import compare, explanation, format_probability
from .app import command, console
from .options import PlotDirOpt
from .output import Output
from .plots import explain_plots, plot_folder

__all__ = ["explain"]


# Negative scores (-1) look like options to the parser; let them through as arguments.
@command(context_settings={"ignore_unknown_options": True})
def explain(
    scores: Annotated[
        list[float],
        typer.Argument(metavar="SCORES", help="Two or more scores (logits).", show_default=False),
    ],
    beta: Annotated[
        float, typer.Option(help="Inverse temperature of softmax: exp(beta*z) / sum exp(beta*z).")
    ] = 1.0,
    plot: PlotDirOpt = None,
) -> None:
    """Compare hard-max, sum-normalisation and softmax on a few scores.

    --plot DIR draws the comparison as bars (explain.png) and softmax of the
    scores as beta varies (beta_sweep.png).

    \b
    Examples:
      softmax explain 3 7 14                # the article's example
      softmax explain 0.3 0.7 1.4           # the same scores, scaled down
      softmax explain 3 7 14 --beta 0.5     # a higher temperature
      softmax explain -1 0 2                # negative scores
      softmax explain 3 7 14 --plot pictures/
    """
    c = compare(scores, beta=beta)
    table = Table(
        "score",
        "hard-max",
        "sum-normalisation",
        f"softmax (beta={beta:g})",
        title="Scores to probabilities",
    )
    for i, score in enumerate(c.scores):
        table.add_row(
            f"{score:g}",
            format_probability(c.hardmax[i]),
            "undefined" if c.normalized is None else format_probability(c.normalized[i]),
            format_probability(c.softmax[i]),
        )
    console.print(table)
    for line in explanation(c):
        console.print(line)
    if plot is not None:
        for path in explain_plots(plot_folder(plot), scores, beta):
            Output().note(f"wrote {path}")  # stderr: stdout holds the comparison
