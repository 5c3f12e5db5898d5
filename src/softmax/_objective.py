"""The function a solver minimises: data term plus penalty, over the flat vector."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._linear_loss import LinearModelLoss

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
    """

    def __init__(self, linear_loss: LinearModelLoss, penalty, X, y: NDArray, sample_weight: NDArray):
        self.linear_loss = linear_loss
        self.penalty = penalty
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
        data = self.linear_loss.loss(w, self.X, self.y, self.sample_weight)
        return data + self.scale * self.penalty.value(self.linear_loss.coef_view(w))

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
