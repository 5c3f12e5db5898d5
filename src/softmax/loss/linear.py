"""Linear model on top of the per-sample loss: coefficients -> loss, gradient, Hessian.

This module owns the coefficient layout; every other module goes through
:class:`LinearModelLoss` to pack or unpack it.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from . import kernels as _kernels
from .class_blocks import class_blocks
from .cross_entropy import MultinomialCrossEntropy
from .hessian import HessianProduct

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
      and gradients are returned in float64 for the solvers. The one
      exception is asked for: Hessian-vector products in float32 on a
      float32 copy of float64 ``X`` (``X_low`` of :meth:`loss_gradient_hessp`).
    - ``y``: integer class codes of shape ``(n_samples,)``, or a target
      matrix of shape ``(n_samples, n_classes)`` whose rows are probability
      vectors (soft targets), see :mod:`softmax.loss.cross_entropy`.
    - ``offset``: optional, shape ``(n_samples, n_classes)`` in ``X``'s dtype,
      a known part of the scores (glmnet's ``offset``): the scores are
      ``X @ coef.T + intercept + offset``. Every method that evaluates the
      data term takes it; None (the default) keeps the fused kernels.

    ``loss``, ``loss_gradient`` and ``loss_gradient_hessp`` evaluate in row
    blocks on a few threads (:mod:`softmax.loss.kernels`; large problems go
    to compiled Numba kernels: one fused pass per row for few classes, two
    BLAS products per block with the softmax done in place between them for
    many), reading ``X`` once per evaluation and once per Hessian-vector
    product.

    Parameters
    ----------
    n_classes : int
    n_features : int
    fit_intercept : bool
    n_threads : int or None, default=None
        Threads per evaluation; None means :func:`softmax.loss.kernels.n_threads`
        *at construction*, so it sees the caller's thread limits rather than
        the single-thread BLAS limit a solver may run under.
    """

    def __init__(
        self, n_classes: int, n_features: int, fit_intercept: bool, n_threads: int | None = None
    ) -> None:
        self.base_loss = MultinomialCrossEntropy()
        self.n_classes = n_classes
        self.n_features = n_features
        self.fit_intercept = fit_intercept
        self.n_threads = _kernels.n_threads() if n_threads is None else max(1, int(n_threads))

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

    def restrict(self, features: NDArray) -> LinearModelLoss:
        """The loss of the sub-model on the columns ``features`` of ``X`` (same classes)."""
        return LinearModelLoss(
            self.n_classes, len(features), self.fit_intercept, n_threads=self.n_threads
        )

    def with_threads(self, n_threads: int) -> LinearModelLoss:
        """The same loss evaluated on ``n_threads`` threads (a Dask worker's budget)."""
        return LinearModelLoss(self.n_classes, self.n_features, self.fit_intercept, n_threads)

    def to_original_coef(self, coef: NDArray, intercept: NDArray) -> tuple[NDArray, NDArray]:
        """``coef`` and ``intercept`` in the original feature units: themselves here."""
        return coef, intercept

    def from_original_coef(self, coef: NDArray, intercept: NDArray) -> tuple[NDArray, NDArray]:
        """Inverse of :meth:`to_original_coef` (for warm starts): themselves here."""
        return coef, intercept

    def solver_features(self, X):
        """Rows of ``X`` as the solver's coordinates see them: ``X`` itself here."""
        return X

    def solver_second_moments(self, second: NDArray) -> NDArray:
        """Weighted means of ``x_j ** 2`` in the solver's coordinates, from those of ``X``."""
        return second

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

    def _coef_intercept(self, w: NDArray) -> tuple[NDArray, NDArray | None]:
        """``coef`` and ``intercept`` views, the latter None without an intercept."""
        coef, intercept = self.unpack(w)
        return coef, intercept if self.fit_intercept else None

    def loss(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> float:  # fmt: skip
        """Data term at ``w``."""
        value, _, _ = _kernels.loss_gradient(
            X, *self._coef_intercept(w), y, sample_weight, gradient=False,
            threads=self.n_threads, offset=offset,
        )  # fmt: skip
        return value

    def loss_gradient(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> tuple[float, NDArray]:  # fmt: skip
        """Data term and its flat gradient (float64), in one pass over ``X``."""
        value, grad, _ = _kernels.loss_gradient(
            X, *self._coef_intercept(w), y, sample_weight, threads=self.n_threads, offset=offset
        )
        return value, grad.ravel()

    def loss_gradient_hessp(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None, X_low=None, norms: dict | None = None,
    ) -> tuple[float, NDArray, HessianProduct]:  # fmt: skip
        """Data term, flat gradient, and the Hessian at ``w`` as a :class:`HessianProduct`.

        Its products reuse the probabilities computed here
        (``n_samples * n_classes`` values are kept), so each costs one
        pass over ``X`` for ``X @ V`` and ``X.T @ H`` together; the offset is
        in those probabilities, so the products need nothing else of it.
        Its traces (:meth:`hessian_traces`) read them too. ``X_low``, a
        float32 copy of float64 ``X``, gives it float32 products as well
        (``HessianProduct.low``), from the probabilities cast at the first one.
        ``norms``, a dict the caller keeps with ``X``, holds the rows' squared
        norms between calls: the traces then cost no pass over ``X`` (a fit's
        rows do not change; the norms took a fifth of a 200,000 x 100 float32 fit).
        """
        value, grad, proba = _kernels.loss_gradient(
            X, *self._coef_intercept(w), y, sample_weight, keep_proba=True,
            threads=self.n_threads, offset=offset,
        )  # fmt: skip

        def product(X, proba, sample_weight):
            def hessp(v: NDArray) -> NDArray:
                hv = _kernels.hessian_product(
                    X, proba, *self._coef_intercept(v), sample_weight, threads=self.n_threads
                )
                return hv.ravel()

            return hessp

        def traces(center: NDArray | None = None, inverse_scale: NDArray | None = None):
            return self._traces(
                _curvature(proba, sample_weight), X, center, inverse_scale, norms
            )

        def blocks(center: NDArray | None = None, inverse_scale: NDArray | None = None):
            # A preconditioner needs no more than float32: BLAS's products are twice as fast.
            rows = X if X_low is None else X_low
            h = _curvature(proba, sample_weight)
            return class_blocks(
                h, rows, self.fit_intercept, center, inverse_scale, threads=self.n_threads
            )

        @functools.cache
        def low_product():
            # Cast at the first float32 product: trial points the line search
            # rejects, and the last point of a fit, never get one.
            weights = None if sample_weight is None else sample_weight.astype(np.float32)
            return product(X_low, proba.astype(np.float32), weights)

        def low(v: NDArray) -> NDArray:
            return low_product()(v)

        hessian = HessianProduct(
            product(X, proba, sample_weight), traces, None if X_low is None else low, blocks
        )
        return value, grad.ravel(), hessian

    # -- Second order: Hessian diagonal and full Hessian, for the Newton solvers ----------
    # Row blocks bound the memory of the temporaries; the Hessian does not depend on y.

    #: Elements of one row block's (rows, n_params) temporary: 32 MiB in float64.
    _BLOCK_ELEMENTS = 2**22
    #: Sparse X denser than this is densified block by block for the Hessian: dense
    #: BLAS then beats sparse-times-sparse products (measured crossover 0.08-0.1 for
    #: 20,000 rows, 100-300 features, 5 classes; at 1% the sparse path is 10x faster).
    _SPARSE_DENSIFY = 0.08
    #: Multiply-adds (about 50 ms) per extra thread for the Hessian: smaller problems
    #: lost time to thread hand-offs on a busy 2-core machine (digits: 27 -> 60 ms).
    _HESSIAN_WORK_PER_THREAD = 10**9

    def _row_blocks(self, X, width: int):
        """Slices of about ``_BLOCK_ELEMENTS / width`` rows covering ``X``."""
        rows = max(1, self._BLOCK_ELEMENTS // max(width, 1))
        return (slice(i, i + rows) for i in range(0, X.shape[0], rows))

    def hessian_diagonal(
        self, w: NDArray, X, sample_weight: NDArray | None = None, center: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> NDArray:  # fmt: skip
        """Diagonal of the data term's Hessian at ``w``, for Jacobi preconditioning.

        Parameters
        ----------
        w : ndarray of shape (n_params,)
        X : array or sparse matrix of shape (n_samples, n_features)
        sample_weight : ndarray of shape (n_samples,), optional
        center : ndarray of shape (n_features,), optional
            Use ``x_ij - center_j`` for ``x_ij`` in the feature entries (what
            standardised coordinates need), without a centred copy of ``X``.
        offset : ndarray of shape (n_samples, n_classes), optional

        Returns
        -------
        diag : ndarray of shape (n_params,), float64
            Entry ``(a, j)`` is ``sum_i s_i p_ia (1 - p_ia) x_ij^2`` (``x_ij = 1``
            for the intercept column).
        """
        n, d = X.shape
        h = self._curvature(w, X, sample_weight, offset)
        D = np.zeros((self.n_classes, d + int(self.fit_intercept)))
        if isinstance(X, np.ndarray):
            # Row blocks bound the squared temporary; each block is one GEMM.
            for rows in self._row_blocks(X, d):
                D[:, :d] += h[:, rows] @ np.square(X[rows])
                if center is not None:
                    D[:, :d] -= 2 * center * (h[:, rows] @ X[rows])
        else:
            D[:, :d] = np.asarray(X.multiply(X).T @ h.T).T
            if center is not None:
                D[:, :d] -= 2 * center * np.asarray(X.T @ h.T).T
        hsum = h.sum(axis=1, dtype=np.float64)
        if center is not None:  # sum h (x - c)^2 = sum h x^2 - 2 c sum h x + c^2 sum h
            D[:, :d] += center**2 * hsum[:, None]
        if self.fit_intercept:
            D[:, d] = hsum
        return D.ravel()

    def _curvature(self, w, X, sample_weight, offset) -> NDArray:
        """``s_i p_ia (1 - p_ia)`` of shape (n_classes, n_samples), in X's dtype, one pass."""
        # Only the probabilities are used: the class codes only feed the discarded loss.
        _, _, proba = _kernels.loss_gradient(
            X, *self._coef_intercept(w), np.zeros(X.shape[0], dtype=np.intp), None,
            gradient=False, keep_proba=True, threads=self.n_threads, offset=offset,
        )
        return _curvature(proba, sample_weight)

    def hessian_traces(
        self, w: NDArray, X, sample_weight: NDArray | None = None, center: NDArray | None = None,
        inverse_scale: NDArray | None = None, offset: NDArray | None = None,
    ) -> NDArray:  # fmt: skip
        """Per class, the trace of the data Hessian's diagonal block (the row sums of
        :meth:`hessian_diagonal`), without forming the diagonal.

        ``sum_i s_i p_ia (1 - p_ia) ||xt_i||^2``: one evaluation pass for the
        probabilities and a matrix-vector product with the rows' squared norms,
        where the diagonal needs a product with the squared ``X`` (Newton-CG's
        preconditioner needs only these; on 200,000 x 100 the diagonal took
        0.63 s of a 1.56 s fit).

        Parameters
        ----------
        w : ndarray of shape (n_params,)
        X : array or sparse matrix of shape (n_samples, n_features)
        sample_weight : ndarray of shape (n_samples,), optional
        center, inverse_scale : ndarray of shape (n_features,), optional
            Take the norms of ``(x_i - center) * inverse_scale`` (standardised
            coordinates) without a copy of ``X``.
        offset : ndarray of shape (n_samples, n_classes), optional

        Returns
        -------
        traces : ndarray of shape (n_classes,), float64
        """
        return self._traces(self._curvature(w, X, sample_weight, offset), X, center, inverse_scale)

    def _traces(
        self, h: NDArray, X, center: NDArray | None, inverse_scale: NDArray | None,
        cache: dict | None = None,
    ) -> NDArray:  # fmt: skip
        """:meth:`hessian_traces` from the curvature ``h`` of shape (n_classes, n_samples).

        ``cache``: the rows' squared norms by coordinates, kept by the caller.
        """
        if cache is None:
            norms = self._row_norms(X, center, inverse_scale)
        else:
            key = tuple(
                None if a is None else np.asarray(a).tobytes()
                for a in (center, inverse_scale)
            )
            norms = cache.get(key)
            if norms is None:
                norms = cache[key] = self._row_norms(X, center, inverse_scale)
        traces = h @ norms.astype(h.dtype)
        if self.fit_intercept:
            traces = traces + h.sum(axis=1)
        return np.asarray(traces, dtype=np.float64)

    def _row_norms(self, X, center: NDArray | None, inverse_scale: NDArray | None) -> NDArray:
        """``||(x_i - center) * inverse_scale||^2`` for each row, float64."""
        v = np.ones(X.shape[1]) if inverse_scale is None else inverse_scale**2
        if isinstance(X, np.ndarray):
            norms = np.concatenate([
                np.einsum("ij,ij,j->i", X[rows], X[rows], v.astype(X.dtype))
                for rows in self._row_blocks(X, X.shape[1])
            ]) if X.shape[0] else np.zeros(0)  # fmt: skip
        else:
            norms = np.asarray(X.multiply(X) @ v).ravel()
        norms = norms.astype(np.float64)
        if center is not None:  # ||x - c||_v^2 = ||x||_v^2 - 2 x . (c v) + ||c||_v^2
            norms += float(center**2 @ v) - 2 * np.asarray(X @ (center * v)).ravel()
        return norms

    def gradient_hessian(
        self, w: NDArray, X, y: NDArray, sample_weight: NDArray | None = None,
        offset: NDArray | None = None,
    ) -> tuple[float, NDArray, NDArray]:  # fmt: skip
        """Data term, flat gradient and full Hessian at ``w``.

        With ``q = n_features + fit_intercept`` and ``xt_i = [x_i, 1]`` (or
        ``x_i``), the Hessian is ``sum_i s_i (diag(p_i) - p_i p_i^T) ⊗ xt_i xt_i^T``
        in the flat layout: entry ``[a*q + j, b*q + l]`` is
        ``sum_i s_i (delta_ab p_ia - p_ia p_ib) xt_ij xt_il``. It is positive
        semi-definite and singular along "add one vector to every class row".

        Parameters
        ----------
        w : ndarray of shape (n_params,)
        X : array or sparse matrix of shape (n_samples, n_features)
        y : ndarray, class codes or target matrix (see :meth:`loss_gradient`)
        sample_weight : ndarray of shape (n_samples,), optional
        offset : ndarray of shape (n_samples, n_classes), optional

        Returns
        -------
        value : float
        grad : ndarray of shape (n_params,), float64
        hessian : ndarray of shape (n_params, n_params), float64
            Products are done in ``X``'s dtype, accumulated in float64.
        """
        value, grad, proba = _kernels.loss_gradient(
            X, *self._coef_intercept(w), y, sample_weight, keep_proba=True,
            threads=self.n_threads, offset=offset,
        )  # fmt: skip
        proba = proba.T  # (n_samples, n_classes), a view
        dense = isinstance(X, np.ndarray)
        if dense or X.nnz > self._SPARSE_DENSIFY * X.shape[0] * X.shape[1]:
            hessian = self._hessian_blocked(X, proba, sample_weight)
        else:
            hessian = self._hessian_sparse(X, proba, sample_weight)
        return value, grad.ravel(), hessian

    def _hessian_blocked(self, X, proba: NDArray, sample_weight) -> NDArray:
        """Dense path: per row block, one symmetric product for all class pairs.

        ``Z`` has rows ``sqrt(s_i) p_i ⊗ xt_i``, so ``Z^T Z`` is the ``p p^T`` part
        for every block pair at once (NumPy turns ``Z.T @ Z`` into a SYRK). Its
        diagonal blocks are replaced by ``X^T diag(s p_a (1 - p_a)) X``, which is
        PSD by construction instead of a difference of two large terms.

        Solvers run with BLAS held to one thread, so large problems split the
        rows over ``n_threads`` threads of our own (BLAS releases the GIL), each
        with its own float64 accumulator, summed in a fixed order.
        """
        from concurrent.futures import ThreadPoolExecutor

        k, d = self.n_classes, self.n_features
        q = d + int(self.fit_intercept)
        n = X.shape[0]

        def accumulate(start: int, stop: int) -> NDArray:
            hessian = np.zeros((k * q, k * q))
            rows_per_block = max(1, self._BLOCK_ELEMENTS // (k * q))
            for i in range(start, stop, rows_per_block):
                rows = slice(i, min(i + rows_per_block, stop))
                Xb = X[rows]
                pb = proba[rows]
                Xb = Xb if isinstance(Xb, np.ndarray) else Xb.toarray()
                xt = np.empty((Xb.shape[0], q), dtype=Xb.dtype)
                xt[:, :d] = Xb
                if self.fit_intercept:
                    xt[:, d] = 1
                if sample_weight is not None:
                    xt *= np.sqrt(sample_weight[rows])[:, None]
                Z = (pb[:, :, None] * xt[:, None, :]).reshape(xt.shape[0], k * q)
                block = Z.T @ Z
                del Z
                root = np.sqrt(pb * (1 - pb))
                for a in range(k):
                    xa = xt * root[:, a, None]
                    block[a * q : (a + 1) * q, a * q : (a + 1) * q] = -(xa.T @ xa)
                hessian -= block
            return hessian

        threads = max(1, min(self.n_threads, n * (k * q) ** 2 // self._HESSIAN_WORK_PER_THREAD))
        if threads == 1:
            return accumulate(0, n)
        bounds = np.linspace(0, n, threads + 1).astype(int)
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(accumulate, bounds[:-1], bounds[1:]))
        return sum(parts[1:], parts[0])

    def _hessian_sparse(self, X, proba: NDArray, sample_weight) -> NDArray:
        """Sparse path: one sparse ``X^T diag(h_ab) X`` per class pair ``a <= b``."""
        k, d = self.n_classes, self.n_features
        q = d + int(self.fit_intercept)
        s = np.ones(X.shape[0], X.dtype) if sample_weight is None else sample_weight
        X = X.tocsr()
        XT = X.T.tocsr()
        H = np.empty((k, q, k, q))
        for a in range(k):
            for b in range(a, k):
                h = s * proba[:, a] * ((1 - proba[:, a]) if a == b else -proba[:, b])
                blk = np.empty((q, q))
                blk[:d, :d] = (XT @ X.multiply(h[:, None]).tocsr()).toarray()
                if self.fit_intercept:
                    blk[:d, d] = blk[d, :d] = XT @ h
                    blk[d, d] = h.sum(dtype=np.float64)
                H[a, :, b, :] = blk
                H[b, :, a, :] = blk.T
        return H.reshape(k * q, k * q)


def _curvature(proba: NDArray, sample_weight: NDArray | None) -> NDArray:
    """``s_i p_ia (1 - p_ia)`` from probabilities of shape (n_classes, n_samples)."""
    h = proba * (1 - proba)
    if sample_weight is not None:
        h *= sample_weight.astype(h.dtype, copy=False)
    return h
