"""What every solver shares: the result record, the per-iteration report, the interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective

__all__ = ["IterationInfo", "Solver", "SolverResult", "Stop"]


@dataclass(frozen=True)
class IterationInfo:
    """What a solver reports after each iteration (to ``callback`` and ``verbose``).

    ``objective`` is on the mean-loss scale of :class:`softmax.loss.objective.Objective`;
    ``gradient_max`` is the largest absolute gradient entry, the quantity
    compared with ``tol``.
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
        Whether the stopping criterion was met.
    message : str
        Why the solver stopped, in words.
    gradient_max : float
        Largest absolute gradient entry at ``w``.
    objective_history : list of float
        Objective after each iteration, starting with the initial point.
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


class Solver(ABC):
    """A method that minimises an :class:`Objective` from a starting point.

    Subclasses take their own options in ``__init__`` and implement
    :meth:`solve`. The convergence criterion is the same for all:
    ``max(abs(gradient)) <= tol``, on the mean-loss scale.
    """

    #: Names of estimator parameters passed to ``__init__``.
    options: tuple[str, ...] = ()
    #: Whether the solver handles a non-smooth (L1 or grouped) penalty.
    supports_nonsmooth: bool = False
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
        each iteration.
        """
        return self._minimise(objective, w0, Stop(max_iter, tol, callback))

    @abstractmethod
    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        """The method itself: iterate from ``w0`` until ``stop`` says so."""
