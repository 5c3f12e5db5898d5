"""The function a solver minimises: data term plus penalty, over the flat vector."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .hessian import HessianProduct
from .linear import LinearModelLoss
from .rows import MemoryRows

__all__ = ["Objective"]


class Objective:
    """``f(w) = sum_i s_i CE_i(w) / S + penalty(coef(w)) / S`` with ``S = sum_i s_i``.

    Dividing by the total sample weight ``S`` does not move the optimum but
    makes the objective a mean loss, so ``tol`` (on the gradient) and the step
    sizes mean the same thing whatever the number of samples. Objective
    values reported to users (``objective_history_``) are on this scale.

    The data term is evaluated by a *rows backend* (:mod:`softmax.loss.rows`:
    rows in memory, or the blocks of a Dask collection); the penalty is added
    here, and only here. Solvers use nothing but this class's methods and
    ``linear_loss`` (the coefficient layout).

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
    bounds : tuple (lower, upper) of ndarrays of shape (n_params,), optional
        Box constraints on the flat vector, in the solver's coordinates
        (``-inf``/``inf`` where free): the problem is ``min f`` over the box,
        and only solvers with ``supports_bounds`` may be used.
    offset : ndarray of shape (n_samples, n_classes), optional
        A known part of the scores, in ``X``'s dtype (glmnet's ``offset``);
        kept by the rows (:class:`softmax.loss.rows.MemoryRows`).

    See Also
    --------
    Objective.over : the same over any rows backend.
    """

    def __init__(
        self, linear_loss: LinearModelLoss, penalty, X, y: NDArray, sample_weight: NDArray,
        nonsmooth=None, bounds: tuple[NDArray, NDArray] | None = None,
        offset: NDArray | None = None,
    ):
        total = float(sample_weight.sum(dtype=np.float64))
        if not total > 0:
            raise ValueError("the sample weights sum to zero: there is nothing to fit")
        scale = 1.0 / total
        rows = MemoryRows(X, y, (sample_weight * scale).astype(X.dtype, copy=False), offset)
        self._bind(linear_loss, penalty, rows, scale, nonsmooth, bounds)

    @classmethod
    def over(
        cls, linear_loss, penalty, rows, scale: float, nonsmooth=None,
        bounds: tuple[NDArray, NDArray] | None = None,
    ) -> Objective:  # fmt: skip
        """The objective over a rows backend whose weights are already multiplied by ``scale``.

        Parameters
        ----------
        linear_loss : LinearModelLoss
        penalty, nonsmooth, bounds
            As for the constructor; strengths on the summed scale.
        rows : rows backend
            See :mod:`softmax.loss.rows`.
        scale : float
            ``1 / S`` for a whole fit; 1 for a chunk of a stream, whose
            penalty is then given per sample.
        """
        objective = cls.__new__(cls)
        objective._bind(linear_loss, penalty, rows, scale, nonsmooth, bounds)
        return objective

    def _bind(self, linear_loss, penalty, rows, scale: float, nonsmooth, bounds) -> None:
        self.linear_loss = linear_loss
        self.penalty = penalty
        self.nonsmooth = nonsmooth
        self.bounds = bounds
        self.rows = rows
        self.scale = scale

    @property
    def n_params(self) -> int:
        return self.linear_loss.n_params

    @property
    def dtype(self) -> np.dtype:
        """The float type the data term is computed in (float32 or float64)."""
        return np.dtype(self.rows.dtype)

    @property
    def n_rows(self) -> int:
        return self.rows.n_rows

    def _add_penalty(self, w: NDArray, value: float, grad: NDArray) -> float:
        coef = self.linear_loss.coef_view(w)
        self.linear_loss.coef_view(grad)[...] += self.scale * self.penalty.gradient(coef)
        return value + self.scale * self.penalty.value(coef)

    def value(self, w: NDArray) -> float:
        """The whole objective ``F(w)``, the non-smooth penalty included."""
        data = self.rows.loss(self.linear_loss, w)
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
        With ``bounds`` the box's normal cone joins ``dh``: at an active lower
        bound only a negative gradient entry remains (the objective would
        decrease inside the box), at an active upper bound only a positive
        one, and nothing where the bounds are equal (the KKT conditions).
        """
        if self.nonsmooth is None and self.bounds is None:
            return grad
        out = np.array(grad, dtype=np.float64)
        if self.nonsmooth is not None:
            view = self.linear_loss.coef_view
            view(out)[...] = self.nonsmooth.min_norm_subgradient(view(w), view(grad), self.scale)
        if self.bounds is not None:
            lower, upper = self.bounds
            out = np.where(w <= lower, np.minimum(out, 0.0), out)
            out = np.where(w >= upper, np.maximum(out, 0.0), out)
        return out

    def optimality(self, w: NDArray, grad: NDArray) -> float:
        """``max|min_norm_subgradient(w, grad)|``: what solvers compare with ``tol``.

        For a smooth objective it is ``max|grad|``, the smooth solvers' criterion.
        """
        return float(np.max(np.abs(self.min_norm_subgradient(w, grad))))

    # -- The smooth part: values and derivatives -----------------------------------------

    def value_grad(self, w: NDArray) -> tuple[float, NDArray]:
        """Objective and flat gradient (float64)."""
        value, grad = self.rows.loss_gradient(self.linear_loss, w)
        return self._add_penalty(w, value, grad), grad

    def value_grad_hessp(
        self, w: NDArray, low_precision: bool = False
    ) -> tuple[float, NDArray, HessianProduct]:
        """Objective, gradient and its Hessian at ``w`` (products; the data term's traces).

        ``low_precision``: also offer float32 products (``HessianProduct.low``)
        where the rows can (float64 rows in memory).
        """
        value, grad, data_hessian = self.rows.loss_gradient_hessp(
            self.linear_loss, w, low_precision=low_precision
        )
        value = self._add_penalty(w, value, grad)
        view = self.linear_loss.coef_view

        def penalised(data_product):
            def hessp(v: NDArray) -> NDArray:
                hv = data_product(v)
                view(hv)[...] += self.scale * self.penalty.hessp(view(v))
                return hv

            return hessp

        return value, grad, data_hessian.mapped(penalised)

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
        diag = self.rows.hessian_diagonal(self.linear_loss, w)
        return diag + self.penalty_hessian_diagonal(w)

    def value_grad_hessian(self, w: NDArray) -> tuple[float, NDArray, NDArray]:
        """Objective, gradient and full Hessian of shape (n_params, n_params) at ``w``.

        The penalty must be separable (a diagonal Hessian, from ``hessian_diagonal``),
        as :class:`softmax.penalties.L2` is.
        """
        value, grad, hessian = self.rows.gradient_hessian(self.linear_loss, w)
        value = self._add_penalty(w, value, grad)
        hessian.flat[:: hessian.shape[0] + 1] += self.penalty_hessian_diagonal(w)  # the diagonal
        return value, grad, hessian

    def feature_hessian(self, w: NDArray, features: NDArray) -> NDArray:
        """Hessian of the smooth part on the coefficients of ``features`` and the intercepts.

        The coefficients of all other features must be zero at ``w``. Then the
        data term is the one of the sub-model on ``X[:, features]``, whose
        Hessian costs ``n_samples * p_sub**2 / 2`` instead of
        ``n_samples * p**2 / 2`` for the full one.

        Parameters
        ----------
        w : ndarray of shape (n_params,)
        features : ndarray of int, sorted

        Returns
        -------
        hessian : ndarray of shape (p_sub, p_sub)
            In the sub-model's layout: ``n_classes`` rows of
            ``[coef[:, features] | intercept]``, flattened.
        """
        loss = self.linear_loss
        k, d, m = loss.n_classes, loss.n_features, len(features)
        columns = np.append(features, d) if loss.fit_intercept else np.asarray(features)
        rows = self.rows if m == d else self.rows.columns(features)
        w_sub = w.reshape(k, -1)[:, columns].ravel()
        hessian = rows.gradient_hessian(loss.restrict(features), w_sub)[2]
        # The smooth penalty (L2) on the coefficients, on the mean-loss scale.
        diagonal = np.zeros((k, len(columns)))
        diagonal[:, :m] = self.scale * self.penalty.restrict(features).hessian_diagonal(
            w.reshape(k, -1)[:, features]
        )
        hessian[np.diag_indices_from(hessian)] += diagonal.ravel()
        return hessian

    def feature_second_moments(self) -> NDArray:
        """Weighted mean of ``xt_j ** 2`` per column of ``xt = [X, 1]``, float64.

        The intercept column's is 1 (the weights sum to one); for Newton-CG's
        preconditioner.
        """
        loss = self.linear_loss
        moments = np.ones(loss.n_features + int(loss.fit_intercept))
        moments[: loss.n_features] = loss.solver_second_moments(self.rows.second_moments())
        return moments

    # -- Row subsets, for the stochastic solvers (rows in memory) ------------------------

    def weight_sum(self, rows: NDArray | None = None) -> float:
        """Sum of the (scaled) weights of ``rows``, all rows when None."""
        return self.rows.weight_sum(rows)

    def batch_value_grad(self, w: NDArray, rows: NDArray, weight: float) -> tuple[float, NDArray]:
        """Mini-batch estimate of the smooth objective and of its gradient.

        The data term over ``rows`` divided by ``weight`` (their total weight,
        a ratio estimate of the mean, or ``len(rows)`` times the mean weight,
        unbiased), plus the smooth penalty.
        """
        value, grad = self.rows.take(rows).loss_gradient(self.linear_loss, w)
        value /= weight
        grad = grad / weight
        return self._add_penalty(w, value, grad), grad

    def data_loss(self, w: NDArray, rows: NDArray) -> float:
        """The data term over ``rows`` only (a validation set), on the objective's scale."""
        return self.rows.take(rows).loss(self.linear_loss, w)

    def feature_sample(self, max_rows: int = 10_000):
        """At most ``max_rows`` evenly spaced rows of ``X``, as the solver's coordinates see them."""
        return self.linear_loss.solver_features(self.rows.sample(max_rows))
