"""Proximal Newton with working sets, for L1, elastic-net and grouped penalties."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop, line_search_failed
from ._prox_cd import block_cd
from ._prox_hessian import flat_index, working_set_hessian

__all__ = ["ProxNewton"]


class ProxNewton(Solver):
    """Proximal Newton: a penalised quadratic model per iteration, coordinate descent on it.

    The objective is ``F = f + h``: ``f`` the smooth part (data term and L2
    penalty), ``h`` a non-smooth penalty (:class:`softmax.penalties.L1` or
    :class:`softmax.penalties.GroupL1`), or none. Each iteration (Lee, Sun and
    Saunders 2014; glmnet and skglm work the same way with working sets):

    1. picks a *working set*: the features with a non-zero coefficient and
       those violating the optimality conditions, plus the intercepts; the
       other features are zero and optimal there, so they stay out;
    2. minimises the model ``g.d + d.H d / 2 + h(w + d)`` over the working set
       by block coordinate descent, one block per feature (its ``n_classes``
       coefficients), with a Newton step on the support once the support
       settles (exact for ``L1``), to a tolerance that tightens with the
       optimality measure (superlinear convergence);
    3. backtracks from the full step until ``F`` decreases by at least
       ``1e-4 * t * (g.d + h(w + d) - h(w))`` (Armijo for composite objectives).

    ``H`` is the Hessian of ``f`` on the working set, computed from the
    columns of ``X`` in it only (cost ``n_samples * p_ws**2 / 2``, memory
    ``8 p_ws**2`` bytes for ``p_ws`` working-set entries, see
    :func:`softmax.solvers._prox_hessian.working_set_hessian`). When more than
    ``working_set_size`` entries violate the optimality conditions, only the
    worst features enter; the working set then grows to twice the non-zero
    features. So it suits many features of which a moderate number are
    selected, as well as few features.

    The criterion is the one of every solver, ``max|s| <= tol`` with ``s`` the
    minimum-norm subgradient of ``F`` (:meth:`Objective.optimality`); for a
    smooth objective it is the gradient.

    Parameters
    ----------
    max_sweeps : int, default=200
        Coordinate-descent sweeps over the working set per iteration at most.
    working_set_size : int, default=1000
        Entries (``n_classes`` per feature) in a working set before it is
        cut to the worst violators.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(C=0.5, l1_ratio=1.0, standardize=True).fit(X, y)
    >>> model.solver_, bool((model.coef_ == 0).any())  # the lasso sets coefficients to 0
    ('prox-newton', True)
    """

    #: Handles a non-smooth penalty (``Objective(..., nonsmooth=...)``).
    supports_nonsmooth = True
    needs = ("gradient_hessian", "columns")
    _ARMIJO = 1e-4
    _MAX_HALVINGS = 40
    _MIN_WORKING_SET = 10

    def __init__(self, max_sweeps: int = 200, working_set_size: int = 1000) -> None:
        self.max_sweeps = max_sweeps
        self.working_set_size = working_set_size

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        w = np.array(w0, dtype=np.float64)
        smooth, grad = objective.value_grad(w)
        value = smooth + objective.nonsmooth_value(w)
        history = [value]
        sub = objective.min_norm_subgradient(w, grad)
        stop.report(0, value, sub)
        eps = np.finfo(objective.dtype).eps
        n_sweeps = stalls = 0
        for it in range(1, stop.max_iter + 1):
            gmax = float(np.max(np.abs(sub)))
            if gmax <= stop.tol:
                return SolverResult(
                    w, it - 1, True, f"optimality below tol ({n_sweeps} CD sweeps)", gmax, history
                )
            features = self._working_set(objective, w, sub)
            columns = features
            if objective.linear_loss.fit_intercept:
                columns = np.append(features, objective.linear_loss.n_features)
            index = flat_index(objective, columns).ravel()
            # Forcing term: loose far from the optimum, tight near it.
            inner_tol = max(min(0.5, np.sqrt(gmax)) * gmax, 0.1 * stop.tol)
            u, sweeps = block_cd(
                objective, working_set_hessian(objective, w, features), grad[index], w[index],
                objective.linear_loss.n_classes, len(features), inner_tol, self.max_sweeps,
                features,
            )
            n_sweeps += sweeps
            direction = np.zeros_like(w)
            direction[index] = u - w[index]
            found = self._line_search(objective, w, value, grad, direction, 100 * eps)
            # Steps accepted only on rounding grounds, with no decrease: stuck.
            stalls = stalls + 1 if found is not None and found[1] and found[2] >= value else 0
            if found is None or stalls >= 3:
                return line_search_failed(
                    objective, w, it - 1, gmax, history, f"{n_sweeps} CD sweeps"
                )
            w = found[0]
            smooth, grad = objective.value_grad(w)
            value = smooth + objective.nonsmooth_value(w)
            sub = objective.min_norm_subgradient(w, grad)
            history.append(value)
            stop.report(it, value, sub)
        gmax = float(np.max(np.abs(sub)))
        message = f"reached max_iter ({n_sweeps} CD sweeps)"
        return SolverResult(w, stop.max_iter, gmax <= stop.tol, message, gmax, history)

    def _working_set(self, objective: Objective, w: NDArray, sub: NDArray) -> NDArray:
        """Sorted features of the working set.

        Features with a non-zero coefficient, and those violating the
        optimality conditions (a non-zero minimum-norm subgradient); when they
        are more than ``working_set_size`` entries, the non-zero ones and the
        worst violators up to ``max(10, 2 * non-zero features)`` features
        (skglm's growth rule).
        """
        loss = objective.linear_loss
        coef, s = loss.coef_view(w), loss.coef_view(sub)
        score = np.where(np.any(coef != 0, axis=0), np.inf, np.abs(s).max(axis=0))
        features = np.flatnonzero(score > 0)
        size = max(
            self._MIN_WORKING_SET,
            2 * int(np.sum(np.isinf(score))),
            self.working_set_size // loss.n_classes,
        )
        if len(features) > size:
            features = np.sort(features[np.argsort(-score[features], kind="stable")[:size]])
        return features

    def _line_search(self, objective, w, value, grad, direction, eps):
        """Backtracking on ``F`` from the full step.

        Returns ``(w_new, on_rounding, value_new)`` (``on_rounding``: accepted
        only because the change is within rounding error), or None.
        """
        h0 = objective.nonsmooth_value(w)
        decrease = float(grad @ direction) + objective.nonsmooth_value(w + direction) - h0
        rounding = eps * max(1.0, abs(value))
        step = 1.0
        for _ in range(self._MAX_HALVINGS):
            w_new = w + step * direction
            value_new = objective.value(w_new)
            if value_new <= value + self._ARMIJO * step * decrease:
                return w_new, False, value_new
            # Near the optimum the predicted decrease is below the objective's
            # rounding error: trust the full Newton step if it does not rise.
            if step == 1.0 and -decrease <= rounding and value_new <= value + rounding:
                return w_new, True, value_new
            step *= 0.5
        return None
