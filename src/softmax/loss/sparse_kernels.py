"""Numba kernels for CSR rows: the two products of the block path without SciPy.

The block path of :mod:`softmax.loss.kernels` needs, per block of rows,
the transposed scores ``W @ X_b.T`` and the gradient product ``G_b @ X_b``.
For CSR ``X`` SciPy would slice each block (a copy of its data and
indices), compute ``X_b @ W.T`` into a new array that is then transposed
into place, and form ``X_b.T @ G_b.T`` by converting the block to CSC on
every call. These kernels read the CSR arrays of the whole matrix in place
over a range of rows:

- :func:`csr_scores_T`: for each row, its non-zeros gather rows of
  ``W.T`` (``(n_features, n_classes)``, C-contiguous, so each gather is
  ``n_classes`` contiguous values) into a running sum of ``n_classes``
  scores, written to one column of the ``(n_classes, L)`` block.
- :func:`csr_accumulate_T`: the transposed gradient ``acc += (G_b @ X_b).T``,
  each non-zero scattering ``x_ij * G[:, i]`` into row ``j`` of a float64
  ``(n_features, n_classes)`` accumulator owned by the calling chunk.

Both are memory-bound gathers/scatters with ``n_classes`` contiguous
values per non-zero; imported lazily with :mod:`softmax.loss.compiled`.
"""

from __future__ import annotations

import numpy as np

from .compiled import _jit

__all__ = ["over_blocks", "csr_scores_T", "csr_accumulate_T"]


@_jit
def csr_scores_T(data, indices, indptr, start, stop, WT, out):
    """``out[:, i - start] = W @ x_i`` for CSR rows ``start <= i < stop``; ``WT`` is ``W.T``."""
    k = WT.shape[1]
    acc = np.empty(k, dtype=out.dtype)
    for i in range(start, stop):
        for c in range(k):
            acc[c] = 0
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            w = WT[indices[p]]
            for c in range(k):
                acc[c] += v * w[c]
        col = i - start
        for c in range(k):
            out[c, col] = acc[c]


@_jit
def csr_accumulate_T(data, indices, indptr, start, stop, G, acc):
    """``acc += (G @ X[start:stop]).T``: ``G`` is (k, L), ``acc`` float64 (n_features, k)."""
    k = G.shape[0]
    g = np.empty(k, dtype=G.dtype)
    for i in range(start, stop):
        col = i - start
        for c in range(k):
            g[c] = G[c, col]
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            a = acc[indices[p]]
            for c in range(k):
                a[c] += v * g[c]


def over_blocks(X, W, blocks, element, gradient: bool):
    """``(value, grad, gsum)`` of one chunk of CSR rows: no slices, no copies of ``X``.

    :func:`softmax.loss.kernels._over_blocks` for CSR ``X`` (``X.data`` in X's
    dtype, ``indices`` and ``indptr`` of one integer type), with the products
    done by the kernels above; ``grad`` is a transposed view.
    """
    k, d = W.shape
    WT = np.ascontiguousarray(W.T)
    data, indices, indptr = X.data, X.indices, X.indptr
    buffer = np.empty(k * max((e - s for s, e in blocks), default=0), dtype=X.dtype)
    value = 0.0
    acc = np.zeros((d, k)) if gradient else None  # transposed: one row per feature
    gsum = np.zeros(k)
    for s, e in blocks:
        r = buffer[: k * (e - s)].reshape(k, e - s)
        csr_scores_T(data, indices, indptr, s, e, WT, r)
        value += element(r, s, e, gsum)
        if gradient:
            csr_accumulate_T(data, indices, indptr, s, e, r, acc)
    return value, None if acc is None else acc.T, gsum
