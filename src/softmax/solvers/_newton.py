"""What the Newton solvers share: the invariance projection, conjugate gradient, the line
search, and the judgement "optimal to the rounding level" that every solver's result gets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective

__all__ = [
    "at_rounding_level",
    "backtrack",
    "conjugate_gradient",
    "invariance_projector",
    "rounding_error",
]


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
    if columns.size and np.all(np.diff(columns) == 1):
        # A slice (the intercepts; everything when C=inf): this runs a few
        # times per iteration, a fancy index costs more than the arithmetic on
        # small problems.
        columns = slice(columns[0], columns[-1] + 1)

    def project(v: NDArray) -> NDArray:
        V = v.reshape(n_classes, -1).copy()
        V[:, columns] -= V[:, columns].sum(axis=0) / n_classes
        return V.ravel()

    return project


#: A full step that passes Armijo is checked against the minimiser of the quadratic
#: through f(0), f'(0) and f(1) when that lies below this fraction of it. Newton
#: steps on the sparse benchmark (100,000 x 20,000, 20 classes, C=1) overshoot
#: about twofold (the curvature grows along the step): 11 -> 7 Newton iterations,
#: 4.0 -> 2.8 s. At 0.9 it took 6, but 200 classes went 3.9 -> 5.7 s (the better
#: points tightened CG's forcing sooner); dense and small problems never trigger it.
REFINE_BELOW = 0.75


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
    """Armijo line search from the full step along a descent ``direction``.

    A step is accepted when it decreases the objective by at least
    ``armijo * step * grad . direction``. A rejected step is shortened to the
    minimiser of the quadratic through ``f(0)``, the slope and ``f(step)``,
    kept within ``[0.1, 0.5]`` of it (Nocedal and Wright, section 3.5). An
    accepted full step whose quadratic puts the minimum below
    :data:`REFINE_BELOW` gets that point evaluated too, and the lower of
    the two is kept (one evaluation against a Newton iteration's many).
    Near the optimum the decrease is below the rounding error of the
    objective; then a step that changes the objective by at most
    ``rounding`` is accepted if it shrinks the gradient norm (the gradient,
    which decides convergence, is the better judge), and ends the search if
    it does not: the solver has reached the precision floor (in float32,
    typically a gradient of 1e-9 to 1e-8).

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
        Shortenings at most (each at least halves the step).

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
        # f(s) ~ value + slope s + curvature s^2 through the point just evaluated.
        curvature = (value_new - value - slope * step) / step**2
        if value_new <= value + armijo * step * slope:
            shortest = -slope / (2 * curvature) if curvature > 0 else 1.0
            if step == 1.0 and shortest < REFINE_BELOW:
                w_short = w + shortest * direction
                other = evaluate(w_short)
                if other[0] < value_new:
                    return w_short, other
            return w_new, evaluation
        if abs(value_new - value) <= rounding:
            return (w_new, evaluation) if np.linalg.norm(grad_new) < gnorm else None
        shortest = -slope / (2 * curvature) if curvature > 0 else 0.5 * step
        step = min(max(shortest, 0.1 * step), 0.5 * step)
    return None


def conjugate_gradient(
    hessp, grad: NDArray, precondition: Callable[[NDArray], NDArray] | None,
    target: float, max_iter: int,
):
    """Approximately solve ``H d = -grad`` by (preconditioned) CG from ``d = 0``.

    ``precondition(r)`` applies the inverse of a symmetric positive definite
    approximation of ``H`` (None: the identity). Returns the iterate once the
    residual norm is at most ``target``, after ``max_iter`` iterations, or at
    the first direction of non-positive curvature (singular or indefinite
    ``H``); every iterate is a descent direction.

    Returns
    -------
    d : ndarray of shape (n_params,)
    n_iter : int
        Hessian-vector products used.
    """
    apply = precondition if precondition is not None else (lambda r: r)
    d = np.zeros_like(grad)
    r = -grad
    z = apply(r)
    p = z.copy()
    rz = float(np.dot(r, z))
    for i in range(max_iter):
        if np.linalg.norm(r) <= target:
            return d, i
        hp = hessp(p)
        curvature = float(np.dot(p, hp))
        if not curvature > 0:
            # Flat or negative curvature: the (preconditioned) steepest descent
            # direction if nothing better is known yet.
            return (z if i == 0 else d), i + 1
        alpha = rz / curvature
        d += alpha * p
        r -= alpha * hp
        z = apply(r)
        rz, rz_old = float(np.dot(r, z)), rz
        p = z + (rz / rz_old) * p
    return d, max_iter


def rounding_error(objective: Objective, value: float) -> float:
    """Absolute rounding error of an objective value ``value``, in the objective's dtype.

    A mean of many rounded terms: a hundred units in the last place of
    ``max(1, |value|)``. Below it, two objective values cannot be told apart.
    """
    return 100 * float(np.finfo(objective.dtype).eps) * max(1.0, abs(value))


def at_rounding_level(objective: Objective, w: NDArray) -> bool:
    """Whether ``w`` is optimal as far as the objective's floating point can tell.

    The quadratic model at ``w`` puts the optimum ``s' H^+ s / 2`` below the
    objective (the Newton decrement; ``s`` the gradient, or the minimum-norm
    subgradient with a non-smooth penalty; ``H^+ s`` by conjugate gradient).
    When that gap is within :func:`rounding_error`, no method that compares
    objective values (every line search) can get closer, however small
    ``tol`` is: a ``tol`` below that level asks for more than the dtype
    holds (float64 on well-scaled data: a gradient of about 1e-8; float32:
    1e-4). A solver stopped far from the optimum (``max_iter``, a line search
    failing on badly scaled data) has a gap many times larger, so the
    judgement does not excuse it. It costs a gradient and one Hessian-vector
    product when the gap is large, at most a few hundred when it is at the
    rounding level, spent only on fits that missed ``tol``.
    """
    value, grad, hessp = objective.value_grad_hessp(w)
    # With a non-smooth penalty or bounds, the minimum-norm subgradient (else the gradient).
    value += objective.nonsmooth_value(w)
    grad = objective.min_norm_subgradient(w, grad)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return False
    project = invariance_projector(objective, w)
    g = project(grad)
    rounding = rounding_error(objective, value)
    target = 1e-3 * float(np.linalg.norm(g))
    # CG's estimate of the gap grows with its iterations: when the first (the
    # steepest-descent step) is already above the rounding level, so is the gap.
    for max_iter in (1, min(2 * objective.n_params, 500)):
        direction, _ = conjugate_gradient(hessp, g, None, target, max_iter)
        if -0.5 * float(np.dot(g, project(direction))) > rounding:
            return False
    return True
