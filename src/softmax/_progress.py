"""A progress bar over rows for stochastic and streaming training: rows, rows/s, loss."""

from __future__ import annotations

import math
import time

__all__ = ["RowProgress"]

# Redrawing costs ~0.1 ms; mini-batches come every ~50 us, so refresh on a clock.
_REFRESH_S = 0.2


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
