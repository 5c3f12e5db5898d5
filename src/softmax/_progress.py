"""Progress bars on stderr: over rows for stochastic and streaming training (rows, rows/s,
loss), and towards the convergence criterion for a fit in memory."""

from __future__ import annotations

import math
import time
from typing import Protocol

__all__ = ["ConvergenceProgress", "RowProgress"]

# Redrawing costs ~0.1 ms; mini-batches come every ~50 us, so refresh on a clock.
_REFRESH_S = 0.2
#: Steps of the convergence bar: finer than a terminal's width, so it moves smoothly.
_STEPS = 1000


class RowProgress:
    """Context manager showing rows done, rows per second and a smoothed loss on stderr.

    A no-op when ``enabled`` is false, so callers need no ``if``.

    Parameters
    ----------
    total : int or None
        Rows expected (None: unknown, as for a stream).
    description : str
    enabled : bool
    show_loss : bool
    """

    def __init__(
        self, total: int | None, description: str, enabled: bool = True, show_loss: bool = True
    ) -> None:
        self.total = total
        self.description = description
        self.enabled = enabled
        self.show_loss = show_loss
        self.rows = 0
        self.loss = math.nan
        self._progress = None
        self._task = None
        self._last = 0.0
        self._start = 0.0

    def __enter__(self) -> RowProgress:
        self._start = time.perf_counter()
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f} rows"),
            TextColumn("{task.fields[speed]:,.0f} rows/s"),
            *([TextColumn("loss {task.fields[loss]:.5g}")] if self.show_loss else []),
            TimeElapsedColumn(),
            console=Console(stderr=True, markup=False, emoji=False),
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(
            self.description, total=self.total, speed=0.0, loss=math.nan
        )
        return self

    def advance(self, rows: int, loss: float | None = None) -> None:
        """Count ``rows`` more rows; ``loss`` (a batch's mean loss) feeds a moving average."""
        self.rows += rows
        if loss is not None and math.isfinite(loss):
            # Exponential average over ~100 batches: one batch's loss is noisy.
            self.loss = loss if math.isnan(self.loss) else 0.99 * self.loss + 0.01 * loss
        if self._progress is None:
            return
        now = time.perf_counter()
        if now - self._last >= _REFRESH_S:
            self._last = now
            self._refresh(now)

    def rows_per_second(self) -> float:
        """Average speed since entering."""
        return self.rows / max(time.perf_counter() - self._start, 1e-9)

    def _refresh(self, now: float) -> None:
        self._progress.update(
            self._task,
            completed=self.rows,
            speed=self.rows / max(now - self._start, 1e-9),
            loss=self.loss,
        )

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._refresh(time.perf_counter())
            self._progress.__exit__(*exc)


class Iteration(Protocol):
    """What a solver reports after each iteration (:class:`softmax.solvers.IterationInfo`)."""

    @property
    def iteration(self) -> int: ...
    @property
    def objective(self) -> float: ...
    @property
    def gradient_max(self) -> float: ...


class ConvergenceProgress:
    """A fit's way to its stopping criterion, ``max|gradient| <= tol``, drawn on stderr.

    Solvers stop on the gradient, not after ``max_iter`` iterations (a bar
    over ``max_iter`` stood at 73/1000 when a fit converged). So the bar
    measures how far ``max|gradient|`` has come down from its first value
    ``g0`` towards ``tol``, on a log scale, ``log(g0 / g) / log(g0 / tol)``:
    each step is a factor of ten, as a Newton fit gains its digits. It never
    moves back (a gradient may rise for an iteration), and :meth:`finish`
    fills it when the fit converged by another rule (the rounding level,
    early stopping). Use the instance as the estimator's ``callback``.

    A no-op when ``enabled`` is false, so callers need no ``if``; the
    gradients are recorded either way, for the training curves.

    Parameters
    ----------
    tol : float
        The estimator's ``tol``.
    enabled : bool
    """

    def __init__(self, tol: float, enabled: bool = True) -> None:
        self.tol = tol
        self.enabled = enabled
        self.gradients: list[float] = []
        self._start = math.nan
        self._done = 0
        self._progress = None
        self._task = None

    def __enter__(self) -> ConvergenceProgress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        # Within 80 columns, or rich squeezes the bar away; the criterion before the objective.
        self._progress = Progress(
            TextColumn("fitting"),
            BarColumn(bar_width=16),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("iter {task.fields[iteration]}"),
            TextColumn("max|grad| {task.fields[gradient]:.1e} -> {task.fields[tol]:.0e}"),
            TextColumn("obj {task.fields[objective]:.4g}"),
            TimeElapsedColumn(),
            console=Console(stderr=True, markup=False, emoji=False),
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(
            "fit", total=_STEPS, iteration=0, objective=math.nan, gradient=math.nan,
            tol=self.tol,
        )  # fmt: skip
        return self

    def __call__(self, info: Iteration) -> None:
        """Record one iteration's report and move the bar."""
        gradient = info.gradient_max
        self.gradients.append(gradient)
        if math.isnan(self._start):
            self._start = gradient
        self._done = max(self._done, self._steps(gradient))
        if self._progress is not None:
            self._progress.update(
                self._task, completed=self._done, iteration=info.iteration,
                objective=info.objective, gradient=gradient,
            )  # fmt: skip

    def _steps(self, gradient: float) -> int:
        """Bar steps done at `gradient`: the log-scale way from the first gradient to ``tol``."""
        if gradient <= self.tol:
            return _STEPS
        if math.isnan(gradient) or self.tol <= 0 or not self._start > self.tol:
            return 0  # tol 0 is met only at the rounding level, which finish() shows
        way = math.log(self._start / gradient) / math.log(self._start / self.tol)
        return int(_STEPS * min(max(way, 0.0), 1.0))

    @property
    def fraction(self) -> float:
        """How much of the bar is filled, from 0 to 1."""
        return self._done / _STEPS

    def finish(self, converged: bool) -> None:
        """Fill the bar when the fit converged, whatever the last gradient was."""
        if converged:
            self._done = _STEPS
            if self._progress is not None:
                self._progress.update(self._task, completed=_STEPS)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
