"""What every solver shares: the result record, the per-iteration report, the interface,
and the verdict on a solve that stopped above ``tol`` (at the rounding level or not)."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective
from ._newton import at_rounding_level

__all__ = ["IterationInfo", "Solver", "SolverResult", "Stop", "line_search_failed"]


@dataclass(frozen=True)
class IterationInfo:
    """What a solver reports after each iteration (to ``callback`` and ``verbose``).

    ``objective`` is on the mean-loss scale of :class:`softmax.loss.objective.Objective`;
    ``gradient_max`` is the largest absolute gradient entry, the quantity
    compared with ``tol``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> seen = []
    >>> model = SoftmaxRegression(callback=seen.append).fit(X, y)
    >>> seen[-1].iteration == int(model.n_iter_[0]), seen[-1].gradient_max <= model.tol
    (True, True)
    """

    iteration: int
    objective: float
    gradient_max: float


@dataclass
class SolverResult:
    """Outcome of one solve.

    Attributes
    ----------
    w : ndarray of shape (n_params,)
        Final flat parameter vector (float64).
    n_iter : int
        Iterations done.
    converged : bool
        Whether the stopping criterion was met, or the solve stopped at the
        rounding level of the objective's dtype (see :meth:`Solver.solve`).
    message : str
        Why the solver stopped, in words.
    gradient_max : float
        Largest absolute gradient entry at ``w``.
    objective_history : list of float
        Objective after each iteration, starting with the initial point.

    Examples
    --------
    >>> import numpy as np
    >>> result = SolverResult(np.zeros(3), n_iter=0, converged=False, message="not started",
    ...                       gradient_max=1.0)
    >>> result.objective_history
    []
    """

    w: NDArray
    n_iter: int
    converged: bool
    message: str
    gradient_max: float
    objective_history: list[float] = field(default_factory=list)


Callback = Callable[[IterationInfo], None]


@dataclass(frozen=True)
class Stop:
    """When a solve ends, and whom it tells after each iteration.

    ``max_iter`` bounds the iterations (epochs for stochastic solvers);
    ``tol`` bounds the optimality measure, ``max|gradient|`` (the minimum-norm
    subgradient with a non-smooth penalty), on the mean-loss scale.
    """

    max_iter: int
    tol: float
    callback: Callback | None = None

    def report(self, iteration: int, value: float, grad: NDArray) -> None:
        """Tell the callback about an iteration, from the gradient."""
        if self.callback is not None:
            self.callback(IterationInfo(iteration, value, float(np.max(np.abs(grad)))))

    def report_value(self, iteration: int, value: float, gradient_max: float) -> None:
        """Tell the callback about an iteration whose largest gradient entry is known."""
        if self.callback is not None:
            self.callback(IterationInfo(iteration, value, gradient_max))


def line_search_failed(
    objective: Objective, w: NDArray, n_iter: int, gradient_max: float, history: list[float],
    detail: str = "",
) -> SolverResult:  # fmt: skip
    """The result of a solve whose line search found no acceptable step at ``w``.

    Every solver with a line search ends this way; :meth:`Solver.solve`
    then decides whether ``w`` is at the rounding level (converged) or not.
    """
    where = f"; {detail}" if detail else ""
    return SolverResult(
        w, n_iter, False,
        "line search: no step decreases the objective by more than its rounding error in "
        f"{objective.dtype}{where}",
        gradient_max, history,
    )  # fmt: skip


class Solver(ABC):
    """A method that minimises an :class:`Objective` from a starting point.

    Subclasses take their own options in ``__init__`` and implement
    :meth:`_minimise`. The convergence criterion is the same for all:
    ``max(abs(gradient)) <= tol``, on the mean-loss scale, or a stop at the
    rounding level of the objective's dtype.

    Examples
    --------
    >>> from softmax.solvers import SOLVERS
    >>> all(issubclass(cls, Solver) for cls in SOLVERS.values())
    True
    >>> sorted(SOLVERS)
    ['gd', 'lbfgs', 'newton-cg', 'newton-cholesky', 'prox-newton', 'sgd']
    """

    #: Names of estimator parameters passed to ``__init__``.
    options: tuple[str, ...] = ()
    #: Whether the solver handles a non-smooth (L1 or grouped) penalty.
    supports_nonsmooth: bool = False
    #: Whether the solver keeps the objective's box constraints (``Objective.bounds``).
    supports_bounds: bool = False
    #: Methods the objective's rows backend must have (:mod:`softmax.loss.rows`) beyond
    #: ``loss``, ``loss_gradient`` and ``loss_gradient_hessp``, which all backends have.
    needs: tuple[str, ...] = ()

    def solve(
        self,
        objective: Objective,
        w0: NDArray,
        *,
        max_iter: int,
        tol: float,
        callback: Callback | None = None,
    ) -> SolverResult:
        """Minimise ``objective`` starting at ``w0`` (not modified).

        Stops after ``max_iter`` iterations or once the optimality measure is
        at most ``tol``; ``callback`` receives an :class:`IterationInfo` after
        each iteration. A solve that stopped above ``tol`` (a failed line
        search, SciPy's relative-decrease stop, ``max_iter``, a stalled
        stochastic run) at a point already optimal to the rounding level of
        the objective's dtype (:func:`softmax.solvers._newton.at_rounding_level`)
        counts as converged: a ``tol`` below that level cannot be met by any
        method, and the result is as good as the dtype allows.
        """
        stop = Stop(max_iter, tol, callback)
        if max_iter == 0:
            result = self._start(objective, w0, stop)
        else:
            result = self._minimise(objective, w0, stop)
        if result.converged or not at_rounding_level(objective, result.w):
            return result
        return dataclasses.replace(
            result,
            converged=True,
            message=f"{result.message}; stopped at the rounding level of {objective.dtype}: "
            f"optimal as far as {objective.dtype} can tell, with tol={tol:g} below that level",
        )

    @staticmethod
    def _start(objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        """``max_iter=0``: the starting point itself, to inspect it (as scikit-learn allows)."""
        value, grad = objective.value_grad(w0)
        value += objective.nonsmooth_value(w0)
        gradient_max = objective.optimality(w0, grad)
        stop.report_value(0, value, gradient_max)
        return SolverResult(
            w0.copy(), 0, gradient_max <= stop.tol, "max_iter=0: the starting point",
            gradient_max, [value],
        )  # fmt: skip

    @abstractmethod
    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        """The method itself: iterate from ``w0`` until ``stop`` says so."""
