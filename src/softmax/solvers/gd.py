"""Plain gradient descent: the founding article's solver."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop, line_search_failed

__all__ = ["GradientDescent"]


class GradientDescent(Solver):
    """Gradient descent ``w <- w - step * grad``.

    Parameters
    ----------
    learning_rate : float or None, default=None
        A fixed step size, or ``None`` for a backtracking (Armijo) line
        search: each iteration tries twice the previous step and halves it
        until the objective decreases by at least ``1e-4 * step * ||grad||^2``.
        The line search needs no tuning; a fixed step diverges when it is
        larger than ``2 / L`` (``L``: the gradient's Lipschitz constant).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(solver="gd", standardize=True).fit(X, y)  # the article's method
    >>> model.converged_, len(model.objective_history_) > 100
    (True, True)
    """

    options = ("learning_rate",)
    _ARMIJO = 1e-4
    _MAX_HALVINGS = 60

    def __init__(self, learning_rate: float | None = None) -> None:
        self.learning_rate = learning_rate

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        w = w0.copy()
        value, grad = objective.value_grad(w)
        history = [value]
        stop.report(0, value, grad)
        step = 1.0 if self.learning_rate is None else self.learning_rate
        for it in range(1, stop.max_iter + 1):
            gmax = float(np.max(np.abs(grad)))
            if gmax <= stop.tol:
                return SolverResult(w, it - 1, True, "gradient below tol", gmax, history)
            if self.learning_rate is None:
                found = self._backtrack(objective, w, value, grad, 2.0 * step)
                if found is None:
                    return line_search_failed(objective, w, it - 1, gmax, history)
                step, w_new, value_new, grad_new = found
            else:
                w_new = w - step * grad
                value_new, grad_new = objective.value_grad(w_new)
                if not np.isfinite(value_new):
                    return SolverResult(
                        w, it - 1, False,
                        f"diverged: the objective became non-finite with learning_rate={step}; "
                        "use a smaller learning_rate, or learning_rate=None for a line search",
                        gmax,
                        history,
                    )
            w, value, grad = w_new, value_new, grad_new
            history.append(value)
            stop.report(it, value, grad)
        gmax = float(np.max(np.abs(grad)))
        return SolverResult(w, stop.max_iter, gmax <= stop.tol, "reached max_iter", gmax, history)

    def _backtrack(self, objective: Objective, w, value: float, grad, step: float):
        """Armijo backtracking from ``step``; None if no step decreases the objective."""
        sq = float(np.dot(grad, grad))
        for _ in range(self._MAX_HALVINGS):
            w_new = w - step * grad
            value_new, grad_new = objective.value_grad(w_new)
            if value_new <= value - self._ARMIJO * step * sq:
                return step, w_new, value_new, grad_new
            step *= 0.5
        return None
