"""Linear model on top of the per-sample loss: coefficients -> loss, gradient, Hessian.

This module owns the coefficient layout; every other module goes through
:class:`LinearModelLoss` to pack or unpack it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._loss import MultinomialCrossEntropy

__all__ = ["LinearModelLoss"]


class LinearModelLoss:
    """Softmax regression data term ``sum_i s_i * CE(y_i, X_i W^T + b)``.

    Array conventions (the single place they are written down):

    - ``X``: array of shape ``(n_samples, n_features)``, dense ndarray or a
      SciPy sparse matrix (CSR/CSC), float32 or float64. It is only ever used
      through ``X @ A`` and ``X.T @ B``, so sparse input is never densified.
    - ``coef``: shape ``(n_classes, n_features)``, one row per class, in the
      order of the estimator's ``classes_``.
    - ``intercept``: shape ``(n_classes,)``, one per class; all zeros and not
      optimised when ``fit_intercept=False``.
    - The *symmetric* parametrisation: every class has its own row, so the
      model is invariant to adding one vector to all rows. A penalty on
      ``coef`` picks the representative whose rows sum to zero.
    - Solvers see one flat float64 vector ``w`` of length
      ``n_classes * (n_features + fit_intercept)``: the C-order ravel of the
      matrix ``[coef | intercept]`` of shape ``(n_classes, n_features + 1)``
      (without the last column when there is no intercept).
    - Work on ``X`` is done in ``X``'s dtype (float32 stays float32; the
      coefficients are cast to it); loss values are accumulated in float64
      and gradients are returned in float64 for the solvers.

    Parameters
    ----------
    n_classes : int
    n_features : int
    fit_intercept : bool
    """

    def __init__(self, n_classes: int, n_features: int, fit_intercept: bool) -> None:
        self.base_loss = MultinomialCrossEntropy()
        self.n_classes = n_classes
        self.n_features = n_features
        self.fit_intercept = fit_intercept

    @property
    def n_params(self) -> int:
        """Length of the flat parameter vector."""
        return self.n_classes * (self.n_features + int(self.fit_intercept))

    def unpack(self, w: NDArray) -> tuple[NDArray, NDArray]:
        """Split a flat vector into views ``coef`` (k, d) and ``intercept`` (k,)."""
        W = w.reshape(self.n_classes, -1)
        if self.fit_intercept:
            return W[:, : self.n_features], W[:, self.n_features]
        return W, np.zeros(self.n_classes, dtype=w.dtype)

    def pack(self, coef: NDArray, intercept: NDArray) -> NDArray:
        """Inverse of :meth:`unpack`: a new flat float64 vector."""
        parts = [coef, intercept[:, None]] if self.fit_intercept else [coef]
        return np.hstack(parts).astype(np.float64).ravel()

    def coef_view(self, flat: NDArray) -> NDArray:
        """The ``coef`` block of a flat vector (a view), for penalties."""
        return flat.reshape(self.n_classes, -1)[:, : self.n_features]

    def raw_prediction(self, X, coef: NDArray, intercept: NDArray) -> NDArray:
        """Raw scores ``X @ coef.T + intercept`` of shape (n_samples, n_classes)."""
        raw = X @ coef.T.astype(X.dtype, copy=False)
        raw = np.asarray(raw)
        if self.fit_intercept:
            raw += intercept.astype(raw.dtype, copy=False)
        return raw

    def _gradient_from_raw(self, X, grad_raw: NDArray) -> NDArray:
        """Chain rule: flat gradient (float64) from the gradient on raw scores."""
        G = np.empty((self.n_classes, self.n_features + int(self.fit_intercept)))
        G[:, : self.n_features] = np.asarray(X.T @ grad_raw).T
        if self.fit_intercept:
            G[:, self.n_features] = grad_raw.sum(axis=0, dtype=np.float64)
        return G.ravel()

    def loss(self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None) -> float:
        """Data term at ``w``."""
        raw = self.raw_prediction(X, *self.unpack(w))
        return self.base_loss.loss(y, raw, sample_weight)

    def loss_gradient(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None
    ) -> tuple[float, NDArray]:
        """Data term and its flat gradient, from one pass of raw scores."""
        raw = self.raw_prediction(X, *self.unpack(w))
        value, grad_raw, _ = self.base_loss.loss_gradient(y, raw, sample_weight)
        return value, self._gradient_from_raw(X, grad_raw)

    def loss_gradient_hessp(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None
    ) -> tuple[float, NDArray, Callable[[NDArray], NDArray]]:
        """Data term, flat gradient, and a Hessian-vector product function at ``w``.

        The returned ``hessp(v)`` reuses the probabilities computed here, so
        each product costs one ``X @ V`` and one ``X.T @ H``.
        """
        raw = self.raw_prediction(X, *self.unpack(w))
        value, grad_raw, proba = self.base_loss.loss_gradient(y, raw, sample_weight)
        grad = self._gradient_from_raw(X, grad_raw)

        def hessp(v: NDArray) -> NDArray:
            v_raw = self.raw_prediction(X, *self.unpack(v))
            h_raw = self.base_loss.hessian_product(proba, v_raw, sample_weight)
            return self._gradient_from_raw(X, h_raw)

        return value, grad, hessp
