"""Newton's method with the full Hessian, solved by a Cholesky factorisation."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import lapack, lstsq

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop, line_search_failed
from ._newton import backtrack, invariance_projector, rounding_error

__all__ = ["NewtonCholesky"]


class NewtonCholesky(Solver):
    """Newton's method: build the Hessian, factorise it, backtrack from the full step.

    Each iteration builds the full Hessian of size ``p = n_classes *
    (n_features + fit_intercept)`` (cost ``n_samples * p**2 / 2``, memory
    ``8 p**2`` bytes, see :meth:`LinearModelLoss.gradient_hessian`) and solves
    the Newton system by Cholesky. Convergence is quadratic near the optimum,
    so few iterations are needed; it suits many samples and a few hundred
    parameters, not wide data.

    The Hessian is singular along "add one vector to every class row" (always
    for the intercepts, for the coefficients too when ``C=inf``). The gradient
    has no component there, so a tiny ridge only makes the factorisation
    possible without changing the step elsewhere (a least-squares solve is the
    last resort), and the step is projected off those directions
    (:func:`softmax.solvers._newton.invariance_projector`).

    Parameters
    ----------
    max_hessian_bytes : int, default=2**31
        Refuse (``ValueError``) problems whose Hessian would need more memory
        than this, before any work; ``newton-cg`` or ``lbfgs`` suit them.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(solver="newton-cholesky").fit(X, y)
    >>> model.converged_, int(model.n_iter_[0]) < 20  # quadratic convergence: few iterations
    (True, True)
    """

    needs = ("gradient_hessian",)

    def __init__(self, max_hessian_bytes: int = 2**31) -> None:
        self.max_hessian_bytes = max_hessian_bytes

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        n_params = objective.n_params
        if 8 * n_params**2 > self.max_hessian_bytes:
            raise ValueError(
                f"solver='newton-cholesky' needs the full Hessian of {n_params} x {n_params} "
                f"parameters ({8 * n_params**2 / 2**30:.1f} GiB): too large; use "
                "solver='newton-cg' or 'lbfgs', which need only Hessian-vector products"
            )
        w = w0.copy()
        value, grad, hessian = objective.value_grad_hessian(w)
        history = [value]
        stop.report(0, value, grad)
        project = invariance_projector(objective, w)
        for it in range(1, stop.max_iter + 1):
            gmax = float(np.max(np.abs(grad)))
            if gmax <= stop.tol:
                return SolverResult(w, it - 1, True, "gradient below tol", gmax, history)
            direction = project(newton_direction(hessian, project(grad)))
            # Trial points get their Hessian too: the full step is nearly always
            # taken, and the next iteration needs it there (a halving wastes one).
            found = backtrack(
                objective.value_grad_hessian, w, value, grad, direction,
                rounding=rounding_error(objective, value),
            )
            if found is None:
                return line_search_failed(objective, w, it - 1, gmax, history)
            w, (value, grad, hessian) = found
            history.append(value)
            stop.report(it, value, grad)
        gmax = float(np.max(np.abs(grad)))
        return SolverResult(w, stop.max_iter, gmax <= stop.tol, "reached max_iter", gmax, history)


def newton_direction(hessian: NDArray, grad: NDArray) -> NDArray:
    """Solve ``hessian @ d = -grad`` for a PSD, possibly singular, ``hessian``.

    Cholesky of ``hessian + ridge * I``, the ridge starting at the rounding
    level of the factorisation and growing 1000-fold per failure; then least
    squares. ``hessian`` is not modified.
    """
    p = hessian.shape[0]
    scale = max(float(np.max(np.diag(hessian))), np.finfo(float).tiny)
    ridge = 10 * p * np.finfo(float).eps * scale
    diagonal = np.diag_indices(p)
    for _ in range(4):
        shifted = hessian.copy()
        shifted[diagonal] += ridge
        # LAPACK's potrf/potrs, what scipy.linalg.cho_factor/cho_solve call, without
        # their wrappers (0.1 ms a solve, a tenth of an iteration on iris).
        factor, info = lapack.dpotrf(shifted, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            direction = -lapack.dpotrs(factor, grad, lower=1)[0]
            if np.all(np.isfinite(direction)) and np.dot(direction, grad) < 0:
                return direction
        ridge *= 1e3
    return -lstsq(hessian, grad, cond=None, check_finite=False)[0]
