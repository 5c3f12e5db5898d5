"""The function a solver minimises: data term plus penalty, over the flat vector."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from .linear import LinearModelLoss

__all__ = ["Objective"]


class Objective:
    """``f(w) = sum_i s_i CE_i(w) / S + penalty(coef(w)) / S`` with ``S = sum_i s_i``.

    Dividing by the total sample weight ``S`` does not move the optimum but
    makes the objective a mean loss, so ``tol`` (on the gradient) and the step
    sizes mean the same thing whatever the number of samples. Objective
    values reported to users (``objective_history_``) are on this scale.

    Parameters
    ----------
    linear_loss : LinearModelLoss
        Owns the coefficient layout (see its docstring).
    penalty : object with ``value``, ``gradient``, ``hessp`` on ``coef``
        Its strength is on the scale of the *summed* loss (``1 / C``).
    X : array or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), integer class codes
    sample_weight : ndarray of shape (n_samples,)
    nonsmooth : object with ``value``, ``prox``, ``min_norm_subgradient``, optional
        A non-smooth penalty on ``coef`` (:class:`softmax.penalties.L1`,
        :class:`softmax.penalties.GroupL1`), strength on the summed scale too.
        Then the objective is ``F = f + h``: :meth:`value` is ``F``, while
        ``value_grad*`` return the smooth part ``f`` and its derivatives, and
        only solvers with ``supports_nonsmooth`` (proximal ones) may be used.
    """

    def __init__(
        self, linear_loss: LinearModelLoss, penalty, X, y: NDArray, sample_weight: NDArray,
        nonsmooth=None,
    ):
        self.linear_loss = linear_loss
        self.penalty = penalty
        self.nonsmooth = nonsmooth
        self.X = X
        self.y = y
        total = float(sample_weight.sum(dtype=np.float64))
        if not total > 0:
            raise ValueError("the sample weights sum to zero: there is nothing to fit")
        self.scale = 1.0 / total
        self.sample_weight = (sample_weight * self.scale).astype(X.dtype, copy=False)

    @property
    def n_params(self) -> int:
        return self.linear_loss.n_params

    def _add_penalty(self, w: NDArray, value: float, grad: NDArray) -> float:
        coef = self.linear_loss.coef_view(w)
        self.linear_loss.coef_view(grad)[...] += self.scale * self.penalty.gradient(coef)
        return value + self.scale * self.penalty.value(coef)

    def value(self, w: NDArray) -> float:
        """The whole objective ``F(w)``, the non-smooth penalty included."""
        data = self.linear_loss.loss(w, self.X, self.y, self.sample_weight)
        value = data + self.scale * self.penalty.value(self.linear_loss.coef_view(w))
        return value + self.nonsmooth_value(w)

    # -- The non-smooth penalty ``h`` (zero without one), for proximal solvers -------------

    def nonsmooth_value(self, w: NDArray) -> float:
        """``h(w)``, on the mean-loss scale."""
        if self.nonsmooth is None:
            return 0.0
        return self.scale * self.nonsmooth.value(self.linear_loss.coef_view(w))

    def prox(self, w: NDArray, step: float) -> NDArray:
        """``argmin_u ||u - w||^2 / 2 + step * h(u)``: a new flat vector, intercepts unchanged."""
        out = np.array(w, dtype=np.float64)
        if self.nonsmooth is not None:
            coef = self.linear_loss.coef_view(out)
            coef[...] = self.nonsmooth.prox(coef, step * self.scale)
        return out

    def min_norm_subgradient(self, w: NDArray, grad: NDArray) -> NDArray:
        """Smallest element of ``grad + dh(w)``, flat; ``grad`` is the smooth part's gradient.

        It is zero exactly at a minimiser of ``F``; without ``h`` it is ``grad``.
        """
        if self.nonsmooth is None:
            return grad
        out = np.array(grad, dtype=np.float64)
        view = self.linear_loss.coef_view
        view(out)[...] = self.nonsmooth.min_norm_subgradient(view(w), view(grad), self.scale)
        return out

    def optimality(self, w: NDArray, grad: NDArray) -> float:
        """``max|min_norm_subgradient(w, grad)|``: what solvers compare with ``tol``.

        For a smooth objective it is ``max|grad|``, the smooth solvers' criterion.
        """
        return float(np.max(np.abs(self.min_norm_subgradient(w, grad))))

    def value_grad(self, w: NDArray) -> tuple[float, NDArray]:
        """Objective and flat gradient (float64)."""
        value, grad = self.linear_loss.loss_gradient(w, self.X, self.y, self.sample_weight)
        return self._add_penalty(w, value, grad), grad

    def value_grad_hessp(self, w: NDArray) -> tuple[float, NDArray, Callable[[NDArray], NDArray]]:
        """Objective, gradient and Hessian-vector product function at ``w``."""
        value, grad, data_hessp = self.linear_loss.loss_gradient_hessp(
            w, self.X, self.y, self.sample_weight
        )
        value = self._add_penalty(w, value, grad)

        def hessp(v: NDArray) -> NDArray:
            hv = data_hessp(v)
            self.linear_loss.coef_view(hv)[...] += self.scale * self.penalty.hessp(
                self.linear_loss.coef_view(v)
            )
            return hv

        return value, grad, hessp

    def penalty_hessian_diagonal(self, w: NDArray) -> NDArray:
        """Flat diagonal of the (smooth) penalty's Hessian, zero on the intercepts."""
        diag = np.zeros(self.n_params)
        self.linear_loss.coef_view(diag)[...] = self.scale * self.penalty.hessian_diagonal(
            self.linear_loss.coef_view(w)
        )
        return diag

    def hessian_diagonal(self, w: NDArray) -> NDArray:
        """Diagonal of the objective's Hessian at ``w``, shape (n_params,), float64.

        The penalty must have a ``hessian_diagonal`` method.
        """
        diag = self.linear_loss.hessian_diagonal(w, self.X, self.sample_weight)
        return diag + self.penalty_hessian_diagonal(w)

    def value_grad_hessian(self, w: NDArray) -> tuple[float, NDArray, NDArray]:
        """Objective, gradient and full Hessian of shape (n_params, n_params) at ``w``.

        The penalty must be separable (a diagonal Hessian, from ``hessian_diagonal``),
        as :class:`softmax.penalties.L2` is.
        """
        value, grad, hessian = self.linear_loss.gradient_hessian(
            w, self.X, self.y, self.sample_weight
        )
        value = self._add_penalty(w, value, grad)
        hessian[np.diag_indices_from(hessian)] += self.penalty_hessian_diagonal(w)
        return value, grad, hessian
