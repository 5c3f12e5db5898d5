"""L-BFGS (SciPy's L-BFGS-B without bounds) on the full objective."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop

__all__ = ["LBFGS"]


class LBFGS(Solver):
    """Limited-memory BFGS with SciPy's line search.

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

    def __init__(self, memory: int = 20) -> None:
        self.memory = memory

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        value0, grad0 = objective.value_grad(w0)
        history = [value0]
        stop.report(0, value0, grad0)
        # The last evaluated gradient: scipy's intermediate result carries only x and fun.
        last = {"grad": grad0}

        def fun(w: NDArray) -> tuple[float, NDArray]:
            value, grad = objective.value_grad(w)
            last["grad"] = grad
            return value, grad

        def on_iteration(intermediate_result) -> None:
            history.append(float(intermediate_result.fun))
            stop.report(len(history) - 1, history[-1], last["grad"])

        result = minimize(
            fun,
            w0,
            method="L-BFGS-B",
            jac=True,
            callback=on_iteration,
            options={
                "maxiter": stop.max_iter,
                "maxcor": self.memory,
                "gtol": stop.tol,
                # Stop on relative decrease only in the last few units in the last
                # place: gtol decides. Such a stop then lands within the rounding
                # level Solver.solve accepts (at 64 units it sometimes stopped short).
                "ftol": 4 * np.finfo(float).eps,
                "maxls": 50,
            },
        )
        gradient_max = float(np.max(np.abs(result.jac)))
        # SciPy's relative-decrease stop (ftol) with the gradient above tol is judged,
        # as every solver's early stop, by Solver.solve: at the rounding level or not.
        return SolverResult(
            w=result.x,
            n_iter=int(result.nit),
            converged=gradient_max <= stop.tol,
            message=f"L-BFGS-B: {result.message}",
            gradient_max=gradient_max,
            objective_history=history,
        )
