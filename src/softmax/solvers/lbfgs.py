"""L-BFGS (SciPy's L-BFGS-B) on the full objective, with the objective's box constraints."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, minimize

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop

__all__ = ["LBFGS"]


class LBFGS(Solver):
    """Limited-memory BFGS with SciPy's line search; the only solver taking bounds.

    With ``Objective.bounds`` (the estimator's ``lower_bounds`` and
    ``upper_bounds``) it is L-BFGS-B proper: the iterates stay in the box and
    the criterion is the projected gradient (:meth:`Objective.optimality`).

    Parameters
    ----------
    memory : int, default=20
        Number of correction pairs kept (``maxcor``); more pairs help on
        ill-conditioned problems at a small cost per iteration.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(solver="lbfgs").fit(X, y)
    >>> model.solver_, model.converged_
    ('lbfgs', True)
    """

    supports_bounds = True
    #: Fresh starts of L-BFGS-B after a stall above ``tol`` with bounds (see ``_minimise``).
    _MAX_RESTARTS = 5

    def __init__(self, memory: int = 20) -> None:
        self.memory = memory

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        bounds = None
        if objective.bounds is not None:
            bounds = Bounds(*objective.bounds)
            w0 = np.clip(w0, *objective.bounds)  # SciPy would too; report from there
        value0, grad0 = objective.value_grad(w0)
        history = [value0]
        stop.report(0, value0, objective.min_norm_subgradient(w0, grad0))
        # The last evaluated gradient: scipy's intermediate result carries only x and fun.
        last = {"grad": grad0}

        def fun(w: NDArray) -> tuple[float, NDArray]:
            value, grad = objective.value_grad(w)
            last["grad"] = grad
            return value, grad

        def on_iteration(intermediate_result) -> None:
            history.append(float(intermediate_result.fun))
            projected = objective.min_norm_subgradient(intermediate_result.x, last["grad"])
            stop.report(len(history) - 1, history[-1], projected)

        w, n_iter = w0, 0
        for _ in range(self._MAX_RESTARTS + 1):
            result = minimize(
                fun,
                w,
                method="L-BFGS-B",
                jac=True,
                bounds=bounds,
                callback=on_iteration,
                options={
                    "maxiter": stop.max_iter - n_iter,
                    "maxcor": self.memory,
                    "gtol": stop.tol,
                    # Stop on relative decrease only in the last few units in the last
                    # place: gtol decides. Such a stop then lands within the rounding
                    # level Solver.solve accepts (at 64 units it sometimes stopped short).
                    "ftol": 4 * np.finfo(float).eps,
                    "maxls": 50,
                },
            )
            w, n_iter = result.x, n_iter + int(result.nit)
            gradient_max = objective.optimality(w, result.jac)
            # With bounds, L-BFGS-B can stall once coefficients reach them (iris with
            # lower 0 and upper 2: no decrease from iteration 6, projected gradient
            # 0.13); a restart with fresh memory went on to the optimum.
            if bounds is None or gradient_max <= stop.tol or n_iter >= stop.max_iter:
                break
            if result.nit == 0:
                break
        # SciPy's relative-decrease stop (ftol) with the gradient above tol is judged,
        # as every solver's early stop, by Solver.solve: at the rounding level or not.
        return SolverResult(
            w=w,
            n_iter=n_iter,
            converged=gradient_max <= stop.tol,
            message=f"L-BFGS-B: {result.message}",
            gradient_max=gradient_max,
            objective_history=history,
        )
