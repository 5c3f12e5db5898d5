"""Rows held in memory: the data term evaluated over ``X``, targets and weights.

A *rows backend* is where the rows of a fit live and how the data term is
evaluated over them; :class:`softmax.loss.objective.Objective` adds the
penalty and is all a solver sees. Every backend offers the methods of
:class:`MemoryRows` that make sense for it, each taking the linear loss (the
coefficient layout, :class:`softmax.loss.linear.LinearModelLoss` or a
standardised view of it) and the flat vector ``w``:

=======================  ===================================================
``loss``                 data term ``sum_i s_i CE_i(w)``
``loss_gradient``        and its flat gradient
``loss_gradient_hessp``  and the Hessian at ``w`` (a
                         :class:`softmax.loss.hessian.HessianProduct`:
                         products, per-class traces)
``hessian_diagonal``     diagonal of the data term's Hessian
``gradient_hessian``     value, gradient, full Hessian
``second_moments``       ``sum_i s_i x_ij ** 2`` per feature
``columns``              the rows restricted to some features
``dtype``, ``n_rows``    the data's float type and number of rows
=======================  ===================================================

The weights ``s_i`` are those of the objective's mean scale (they sum to
one for a whole fit). Rows in memory also offer ``take`` (a row subset, for
mini-batches), ``weight_sum`` and ``sample`` (for the stochastic solver);
the Dask backend lives in :mod:`softmax.backends.dask`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .hessian import HessianProduct

__all__ = ["MemoryRows"]


class MemoryRows:
    """Rows in memory: ``X`` (dense or SciPy sparse), targets and weights.

    Parameters
    ----------
    X : array or sparse matrix of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,) or (n_rows, n_classes)
        Class codes or soft targets (see :class:`softmax.loss.linear.LinearModelLoss`).
    sample_weight : ndarray of shape (n_rows,)
        In ``X``'s dtype, already on the objective's scale.
    offset : ndarray of shape (n_rows, n_classes) or None, default=None
        A known part of the scores, in ``X``'s dtype (see
        :class:`softmax.loss.linear.LinearModelLoss`); it belongs to the rows,
        so :meth:`take` and :meth:`columns` carry it along.
    """

    def __init__(
        self, X, y: NDArray, sample_weight: NDArray, offset: NDArray | None = None
    ) -> None:
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.offset = offset
        self._csr = None
        self._X_low = None
        self._norms = {}  # the rows' squared norms, for Newton-CG's traces

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    def loss(self, linear_loss, w: NDArray) -> float:
        return linear_loss.loss(w, self.X, self.y, self.sample_weight, self.offset)

    def loss_gradient(self, linear_loss, w: NDArray) -> tuple[float, NDArray]:
        return linear_loss.loss_gradient(w, self.X, self.y, self.sample_weight, self.offset)

    def loss_gradient_hessp(
        self, linear_loss, w: NDArray, low_precision: bool = False
    ) -> tuple[float, NDArray, HessianProduct]:
        """``low_precision``: float32 products too, on a float32 copy of float64 ``X``.

        The copy (half of ``X``'s size again) is made at the first such call
        and kept with the rows.
        """
        X_low = self._float32() if low_precision and self.X.dtype == np.float64 else None
        return linear_loss.loss_gradient_hessp(
            w, self.X, self.y, self.sample_weight, self.offset, X_low, self._norms
        )

    def _float32(self):
        if self._X_low is None:
            self._X_low = self.X.astype(np.float32)
        return self._X_low

    def hessian_diagonal(self, linear_loss, w: NDArray) -> NDArray:
        return linear_loss.hessian_diagonal(w, self.X, self.sample_weight, offset=self.offset)

    def gradient_hessian(self, linear_loss, w: NDArray) -> tuple[float, NDArray, NDArray]:
        return linear_loss.gradient_hessian(w, self.X, self.y, self.sample_weight, self.offset)

    def second_moments(self) -> NDArray:
        """``sum_i s_i x_ij ** 2`` for each feature ``j``, float64."""
        X, sw = self.X, self.sample_weight
        if isinstance(X, np.ndarray):
            rows = 2**16  # bounds the squared temporary
            return sum(
                sw[i : i + rows] @ np.square(X[i : i + rows]) for i in range(0, X.shape[0], rows)
            )
        return np.asarray(X.multiply(X).T @ sw).ravel()

    def columns(self, features: NDArray) -> MemoryRows:
        """The same rows with only the columns ``features`` of ``X``."""
        return MemoryRows(self.X[:, features], self.y, self.sample_weight, self.offset)

    def take(self, rows: NDArray) -> MemoryRows:
        """The rows ``rows`` (a mini-batch); sparse ``X`` is sliced as CSR, converted once."""
        if sp.issparse(self.X):
            if self._csr is None:
                self._csr = self.X.tocsr()
            X = self._csr
        else:
            X = self.X
        offset = None if self.offset is None else self.offset[rows]
        return MemoryRows(X[rows], self.y[rows], self.sample_weight[rows], offset)

    def weight_sum(self, rows: NDArray | None = None) -> float:
        """Sum of the weights of ``rows`` (all rows when None), in float64."""
        sw = self.sample_weight if rows is None else self.sample_weight[rows]
        return float(sw.sum(dtype=np.float64))

    def sample(self, max_rows: int) -> object:
        """At most ``max_rows`` evenly spaced rows of ``X`` (sparse stays sparse)."""
        n = self.X.shape[0]
        rows = np.unique(np.linspace(0, n - 1, min(n, max_rows)).astype(np.intp))
        return self.X[rows]
