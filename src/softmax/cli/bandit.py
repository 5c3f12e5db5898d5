"""The ``softmax bandit`` command: softmax action selection on the k-armed testbed.

Registered on the ``softmax`` app when :mod:`softmax.cli` imports this module.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .._errors import SoftmaxInputError
from ..bandits import TEXTBOOK, BanditResult, Method, method, plot_results, simulate
from ..bandits.simulate import FINAL_STEPS
from ..bandits.textbook import FAMILIES
from .app import command, console
from .output import Output

__all__ = ["bandit"]

# The textbook reads its curves at step 1000 of 2000 runs on a stationary testbed.
_TEXTBOOK_STEPS = 1000

_FAMILY_HELP = "; ".join(
    name if family.default is None else f"{name}[=x] ({family.meaning}, default {family.default:g})"
    for name, family in FAMILIES.items()
)


@command()
def bandit(
    policies: Annotated[
        list[str] | None,
        typer.Option(
            "--policies",
            "-p",
            help="Policies to compare, comma-separated or repeated: " + _FAMILY_HELP + ". "
            "Default: the textbook set.",
            show_default=False,
        ),
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Independent runs averaged per step.")] = 2000,
    steps: Annotated[int, typer.Option(min=1, help="Steps per run.")] = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed (the same problems for every policy).")
    ] = 0,
    walk: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Standard deviation of a per-step random walk of the true values "
            "(non-stationary testbed, e.g. 0.01); 0 keeps them fixed.",
        ),
    ] = 0.0,
    plot: Annotated[
        str | None,
        typer.Option(
            help="Draw the average-reward and %-optimal curves to this image file "
            "(.png, .pdf, .svg).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compare action-selection policies on the 10-armed testbed (Sutton and Barto, ch. 2).

    Simulates every policy on the same RUNS problems for STEPS steps and
    prints the mean reward and the % of optimal actions over the last 50
    steps, beside the textbook's numbers (shown for 1000 steps on a
    stationary testbed). Gradient bandits run on the textbook's q* ~ N(4, 1)
    testbed, all others on q* ~ N(0, 1).

    \b
    Examples:
      softmax bandit                                   # the textbook comparison
      softmax bandit -p softmax=1,softmax=4,boltzmann-gumbel --plot curves.png
      softmax bandit -p epsilon=0.1 -p ucb=2 --runs 500 --steps 2000
      softmax bandit -p epsilon=0.1,optimistic=5 --walk 0.01 --steps 10000
    """
    specs = [s for value in policies or TEXTBOOK for s in value.split(",") if s.strip()]
    if not specs:
        raise SoftmaxInputError("--policies names no policy.")
    methods = [method(spec) for spec in specs]  # unknown names fail before any work
    if walk:
        walking = (dataclasses.replace(m.testbed, walk=walk) for m in methods)
        methods = [dataclasses.replace(m, testbed=t) for m, t in zip(methods, walking)]
    if plot is not None and not pathlib.Path(plot).resolve().parent.is_dir():
        raise SoftmaxInputError(f"Cannot write the plot {plot}: its folder does not exist.")

    results = _simulate_all(methods, runs, steps, seed)
    console.print(_table(methods, results, runs, steps, walk))
    if plot is not None:
        # Say which testbed each curve ran on when they differ (gradient: q* ~ N(4, 1)).
        mixed = len({m.testbed for m in methods}) > 1
        labels = [f"{m.label} [{m.testbed.describe()}]" for m in methods] if mixed else None
        plot_results(results, plot, labels=labels)
        Output().note(f"curves saved to {plot}")


def _simulate_all(methods: list[Method], runs: int, steps: int, seed: int) -> list[BanditResult]:
    progress = Progress(
        TextColumn("simulating {task.fields[label]}"),
        BarColumn(),
        MofNCompleteColumn(),
        # stderr, on a terminal only: stdout holds the table.
        console=Console(stderr=True, markup=False, emoji=False),
        disable=not sys.stderr.isatty(),
        transient=True,
    )
    results = []
    with progress:
        task = progress.add_task("bandit", total=len(methods), label="")
        for m in methods:
            progress.update(task, label=m.label)
            results.append(simulate(m.policy, m.testbed, runs=runs, steps=steps, seed=seed))
            progress.advance(task)
    return results


def _table(
    methods: list[Method], results: list[BanditResult], runs: int, steps: int, walk: float
) -> Table:
    last = min(FINAL_STEPS, steps)
    window = f"steps {steps - last + 1}-{steps}"
    # Published numbers only compare with the experiment they were measured in.
    comparable = steps == _TEXTBOOK_STEPS and walk == 0
    book = ["textbook"] if comparable else []
    table = Table(
        "policy",
        "testbed",
        "reward",
        *book,
        "% optimal",
        *book,
        "reward, all steps",
        "seconds",
        title=f"k-armed testbed: {runs} runs x {steps} steps; reward and % optimal over {window}",
        caption=None if comparable else "(textbook numbers are for 1000 steps without --walk)",
    )
    for m, r in zip(methods, results):
        reward = [f"{m.reward:.2f}" if m.reward is not None else "-"] if comparable else []
        optimal = [f"{100 * m.optimal:.0f}" if m.optimal is not None else "-"] if comparable else []
        table.add_row(
            m.label,
            m.testbed.describe(),
            f"{r.final_reward(last):.3f}",
            *reward,
            f"{100 * r.final_optimal(last):.1f}",
            *optimal,
            f"{r.average_reward:.3f}",
            f"{r.seconds:.2f}",
        )
    return table
