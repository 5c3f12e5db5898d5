"""Feature standardisation as a change of coordinates, without copying ``X``.

Fitting on standardised features ``(X - mean) / scale`` with coefficients
``theta`` gives the same scores as the original features with::

    coef      = theta / scale
    intercept = b - theta @ (mean / scale)

So instead of building a standardised copy of ``X`` (a dense copy of sparse
input, or twice the memory of dense input), the solver works on ``theta`` and
:class:`StandardizedLinearLoss` maps it to the original coordinates before each
evaluation, and maps gradients back with the adjoint map. The objective, its
curvature and hence the solver's behaviour are those of the standardised
problem; the penalty applies to ``theta`` (as glmnet's ``standardize=TRUE``).
Without an intercept there is nothing to absorb a shift, so only the scale is
used (``mean = 0``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .hessian import HessianProduct
from .linear import LinearModelLoss

__all__ = ["StandardizedLinearLoss", "feature_mean_scale"]


def feature_mean_scale(X, sample_weight: NDArray, center: bool) -> tuple[NDArray, NDArray]:
    """Weighted column means (zeros unless ``center``) and standard deviations.

    Constant columns get scale 1, so they stay as they are. ``X`` may be
    sparse; only its non-zeros are touched.
    """
    w = np.asarray(sample_weight, dtype=np.float64) / float(np.sum(sample_weight, dtype=np.float64))
    mean = np.asarray(X.T @ w, dtype=np.float64).ravel()
    if sparse.issparse(X):
        second = np.asarray(X.multiply(X).T @ w, dtype=np.float64).ravel()
    else:
        second = np.einsum("ij,ij,i->j", X, X, w, dtype=np.float64)
    var = np.maximum(second - mean**2, 0.0)
    scale = np.sqrt(var)
    # A column constant up to rounding: dividing by its tiny spread would blow it up.
    constant = scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)
    scale[constant] = 1.0
    return (mean if center else np.zeros_like(mean)), scale


class StandardizedLinearLoss:
    """A :class:`LinearModelLoss` seen in standardised-feature coordinates.

    Same flat layout and interface as the wrapped loss (see its docstring); the
    flat vector holds ``[theta | b]`` instead of ``[coef | intercept]``.

    Parameters
    ----------
    inner : LinearModelLoss
    mean : ndarray of shape (n_features,)
        Column means to remove (zeros when there is no intercept).
    scale : ndarray of shape (n_features,)
        Column standard deviations (positive).
    """

    def __init__(self, inner: LinearModelLoss, mean: NDArray, scale: NDArray) -> None:
        self.inner = inner
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self._shift = self.mean / self.scale
        if not inner.fit_intercept and np.any(self.mean):
            raise ValueError("centring needs an intercept to absorb the shift")

        # The layout is the inner loss's. Anything else is wrapped explicitly
        # below: a method delegated unwrapped would work in the wrong coordinates.
        self.n_classes = inner.n_classes
        self.n_features = inner.n_features
        self.fit_intercept = inner.fit_intercept
        self.n_threads = inner.n_threads
        self.n_params = inner.n_params
        self.unpack = inner.unpack
        self.pack = inner.pack
        self.coef_view = inner.coef_view

    def _blocks(self, flat: NDArray) -> NDArray:
        return flat.reshape(*flat.shape[:-1], self.inner.n_classes, -1)

    def to_original(self, w: NDArray) -> NDArray:
        """Map ``[theta | b]`` (or a stack of them, last axis) to ``[coef | intercept]``."""
        d = self.inner.n_features
        W = self._blocks(w)
        out = np.empty_like(W)
        out[..., :d] = W[..., :d] / self.scale
        if self.inner.fit_intercept:
            out[..., d] = W[..., d] - W[..., :d] @ self._shift
        return out.reshape(w.shape)

    def adjoint(self, g: NDArray) -> NDArray:
        """Transpose of :meth:`to_original`: gradients back to standardised coordinates."""
        d = self.inner.n_features
        G = self._blocks(g)
        out = np.empty_like(G)
        out[..., :d] = G[..., :d] / self.scale
        if self.inner.fit_intercept:
            out[..., :d] -= G[..., d, None] * self._shift
            out[..., d] = G[..., d]
        return out.reshape(g.shape)

    # ``offset`` (a known part of the scores) does not depend on the coefficients,
    # so it passes through the change of coordinates unchanged.

    def loss(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> float:  # fmt: skip
        return self.inner.loss(self.to_original(w), X, y, sample_weight, offset)

    def loss_gradient(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> tuple[float, NDArray]:  # fmt: skip
        value, grad = self.inner.loss_gradient(self.to_original(w), X, y, sample_weight, offset)
        return value, self.adjoint(grad)

    def loss_gradient_hessp(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None, X_low=None, norms: dict | None = None,
    ) -> tuple[float, NDArray, HessianProduct]:  # fmt: skip
        value, grad, inner = self.inner.loss_gradient_hessp(
            self.to_original(w), X, y, sample_weight, offset, X_low, norms
        )

        def transformed(product):
            # The map is linear, so directions transform like points.
            return lambda v: self.adjoint(product(self.to_original(v)))

        coordinates = {"center": self.mean, "inverse_scale": 1.0 / self.scale}
        hessian = HessianProduct(
            inner, lambda: inner.traces(**coordinates), inner.low,
            lambda: inner.blocks(**coordinates),
        )
        return value, self.adjoint(grad), hessian.mapped(transformed)

    def hessian_diagonal(
        self, w: NDArray, X, sample_weight: NDArray | None = None, offset: NDArray | None = None
    ) -> NDArray:
        """Diagonal of the data term's Hessian in standardised coordinates.

        Entry ``(a, j)`` is ``sum_i s_i p_ia (1 - p_ia) ((x_ij - mean_j) / scale_j)^2``
        (the intercepts' entries are the inner loss's).
        """
        diag = self.inner.hessian_diagonal(self.to_original(w), X, sample_weight, self.mean, offset)
        coef = self.coef_view(diag)
        coef /= self.scale**2
        return diag

    def hessian_traces(
        self, w: NDArray, X, sample_weight: NDArray | None = None, offset: NDArray | None = None
    ) -> NDArray:
        """Per class, the trace of the data Hessian's diagonal block in standardised coordinates."""
        return self.inner.hessian_traces(
            self.to_original(w), X, sample_weight, self.mean, 1.0 / self.scale, offset
        )

    def gradient_hessian(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> tuple[float, NDArray, NDArray]:  # fmt: skip
        """Value, gradient and full Hessian in standardised coordinates: ``J H J^T``."""
        # Rows of ``jacobian`` are the images of the unit vectors: J^T.
        jacobian = self.to_original(np.eye(self.n_params))
        value, grad, hessian = self.inner.gradient_hessian(
            self.to_original(w), X, y, sample_weight, offset
        )
        return value, self.adjoint(grad), jacobian @ hessian @ jacobian.T

    def restrict(self, features: NDArray) -> StandardizedLinearLoss:
        """The standardised sub-model on the columns ``features`` of ``X``."""
        return StandardizedLinearLoss(
            self.inner.restrict(features), self.mean[features], self.scale[features]
        )

    def solver_features(self, X) -> NDArray:
        """Rows of ``X`` standardised (dense float64): what the solver's coordinates see."""
        X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        return (X - self.mean) / self.scale

    def solver_second_moments(self, second: NDArray) -> NDArray:
        """Weighted means of ``((x_j - mean_j) / scale_j) ** 2`` from those of ``x_j ** 2``.

        ``mean`` is the weighted mean itself (or 0 without centring), so the
        cross term ``2 mean E[x]`` is ``2 mean ** 2``: 1 for every varying feature
        when centred. Newton-CG's preconditioner needs these, not the raw ones.
        """
        return np.maximum(second - self.mean**2, 0.0) / self.scale**2

    def to_original_coef(self, theta: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
        """``coef`` (k, d) and ``intercept`` (k,) in the original feature units."""
        return theta / self.scale, b - theta @ self._shift

    def from_original_coef(self, coef: NDArray, intercept: NDArray) -> tuple[NDArray, NDArray]:
        """Inverse of :meth:`to_original_coef` (for warm starts)."""
        theta = coef * self.scale
        return theta, intercept + theta @ self._shift
