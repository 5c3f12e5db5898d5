"""What a command prints, and where: the report on stdout, everything else on stderr.

* The report (metrics, what a model file holds) goes to stdout in the
  ``--format`` asked for: text tables, JSON or CSV. Text tables are boxed on
  a terminal; in a pipe or a file they are plain (no box-drawing, no colour,
  no wrapping to the terminal's width, no trailing spaces), for ``grep``,
  ``awk`` and diffs.
* Messages ("model saved to ...") and progress bars go to stderr: a pipe
  that expects CSV or JSON gets nothing else. Progress is drawn only when
  stderr is a terminal; ``-q`` silences progress and messages. Errors and
  warnings are :mod:`.app`'s, and always shown.
* A reader that leaves early (``| head -1``) ends the command quietly
  (:mod:`.app`), so commands write their files before their report.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import typer
from rich.console import Console, RenderableType
from rich.table import Table

from .app import console
from .options import Format

if TYPE_CHECKING:  # annotations only
    from ..estimator import SoftmaxRegression

__all__ = ["Output", "jsonable", "model_document"]

#: The width of plain output: wider than any table, so that nothing wraps.
_PLAIN_WIDTH = 1 << 16


@dataclass(frozen=True)
class Output:
    """A command's report format and whether it is quiet; prints accordingly.

    Parameters
    ----------
    format : Format
        The report's form on stdout (``--format``).
    quiet : bool
        ``-q``: no progress and no messages on stderr.
    """

    format: Format = Format.text
    quiet: bool = False

    @property
    def progress(self) -> bool:
        """Whether to draw progress bars: on a terminal, unless quiet (in a log they are noise)."""
        return not self.quiet and sys.stderr.isatty()

    def note(self, message: str) -> None:
        """A message for the person at the terminal, on stderr, unless quiet."""
        if not self.quiet:
            typer.echo(message, err=True)

    def text(self, *parts: RenderableType) -> None:
        """Print lines and tables on stdout: boxed on a terminal, plain otherwise."""
        if sys.stdout.isatty():
            for part in parts:
                console.print(part, soft_wrap=not isinstance(part, Table), highlight=False)
            return
        buffer = io.StringIO()
        plain = Console(
            file=buffer, width=_PLAIN_WIDTH, color_system=None, force_terminal=False,
            markup=False, emoji=False, highlight=False,
        )  # fmt: skip
        for part in parts:
            if not isinstance(part, Table):
                plain.print(part)
                continue
            # A title or caption would wrap to the table's width: print them as lines.
            title, caption = part.title, part.caption
            part.title = part.caption = part.box = None
            part.pad_edge = False
            for line in (title, part, caption):
                if line is not None:
                    plain.print(line)
        sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))

    def json(self, document: Mapping[str, Any]) -> None:
        """Write `document` on stdout as JSON (see :func:`jsonable`)."""
        sys.stdout.write(json.dumps(jsonable(document), indent=2, allow_nan=False) + "\n")

    def csv(self, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Write a table on stdout as CSV, numbers at full precision."""
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([jsonable(list(row)) for row in rows])


def jsonable(value: Any) -> Any:
    """`value` in JSON's types, so that ``jq`` and strict parsers read it.

    NumPy scalars and arrays become Python numbers and lists; NaN becomes
    null and infinities the strings ``"inf"`` and ``"-inf"`` (JSON has
    neither; ``C=inf`` is a valid setting); keys become strings; any other
    object (a random generator) its ``str``.
    """
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def model_document(model: SoftmaxRegression, solver: str | None) -> dict[str, Any]:
    """A fitted model's summary for JSON reports: classes, features, settings, convergence.

    Parameters
    ----------
    model : SoftmaxRegression
    solver : str or None
        The solver that ran (``solver_``, which a model file keeps in its
        training summary), or None when unknown.

    Returns
    -------
    dict
        ``estimator``, ``classes``, ``n_features_in_``, ``feature_names_in_``
        (null without names), ``params`` (the hyper-parameters), ``solver_``,
        ``n_iter_``, ``converged_``, and ``beta_`` when calibrated.
    """
    names = getattr(model, "feature_names_in_", None)
    document = {
        "estimator": type(model).__name__,
        "classes": model.classes_,
        "n_features_in_": model.n_features_in_,
        "feature_names_in_": None if names is None else [str(n) for n in names],
        # A callback is the CLI's progress bar, not a setting of the model.
        "params": {k: v for k, v in model.get_params().items() if k != "callback"},
        "solver_": solver,
        "n_iter_": int(np.asarray(model.n_iter_).item()),
        "converged_": bool(model.converged_),
    }
    if hasattr(model, "beta_"):
        document["beta_"] = float(model.beta_)
    return document
