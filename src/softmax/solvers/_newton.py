"""What the Newton solvers share: the invariance projection and the line search."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective

__all__ = ["backtrack", "invariance_projector"]


def invariance_projector(objective: Objective, w: NDArray) -> Callable[[NDArray], NDArray]:
    """Projection removing directions along which the objective is exactly constant.

    Adding one value to every class in a column of ``[coef | intercept]``
    changes no probability, and no penalty when that column has no penalty
    curvature (the intercepts; every column when ``C=inf``). The Hessian is
    singular there and the gradient has no component there, but rounding
    leaves one (large in float32) that a regularised solve would amplify
    into a drift of those columns, ruining the precision of the scores.
    Centring those columns over the classes removes it.

    Parameters
    ----------
    objective : Objective
    w : ndarray of shape (n_params,)
        Where the penalty's curvature is read (constant for L2).

    Returns
    -------
    project : callable
        ``project(v)``: a new flat vector.
    """
    n_classes = objective.linear_loss.n_classes
    penalty = objective.penalty_hessian_diagonal(w).reshape(n_classes, -1)
    columns = np.flatnonzero(np.all(penalty == 0, axis=0))

    def project(v: NDArray) -> NDArray:
        V = v.reshape(n_classes, -1).copy()
        V[:, columns] -= V[:, columns].mean(axis=0)
        return V.ravel()

    return project


def backtrack(
    evaluate: Callable[[NDArray], tuple],
    w: NDArray,
    value: float,
    grad: NDArray,
    direction: NDArray,
    *,
    rounding: float,
    armijo: float = 1e-4,
    max_halvings: int = 50,
) -> tuple[NDArray, tuple] | None:
    """Armijo backtracking from the full step along a descent ``direction``.

    A step is accepted when it decreases the objective by at least
    ``armijo * step * grad . direction``. Near the optimum that decrease is
    below the rounding error of the objective; then a step that changes the
    objective by at most ``rounding`` is accepted if it shrinks the gradient
    norm (the gradient, which decides convergence, is the better judge), and
    ends the search if it does not: the solver has reached the precision floor
    (in float32, typically a gradient of 1e-9 to 1e-8).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(w)`` returns a tuple whose first two items are the
        objective and its gradient; the whole tuple is handed back.
    w, grad, direction : ndarray of shape (n_params,)
    value : float
        Objective at ``w``.
    rounding : float
        Absolute rounding error of objective values.
    armijo : float, default=1e-4
    max_halvings : int, default=50

    Returns
    -------
    (w_new, evaluation) or None
        ``None`` when no step was accepted.
    """
    slope = float(np.dot(grad, direction))
    gnorm = float(np.linalg.norm(grad))
    step = 1.0
    for _ in range(max_halvings):
        w_new = w + step * direction
        evaluation = evaluate(w_new)
        value_new, grad_new = evaluation[0], evaluation[1]
        if value_new <= value + armijo * step * slope:
            return w_new, evaluation
        if abs(value_new - value) <= rounding:
            return (w_new, evaluation) if np.linalg.norm(grad_new) < gnorm else None
        step *= 0.5
    return None
