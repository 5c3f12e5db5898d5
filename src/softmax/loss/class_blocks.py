"""Each class's diagonal block of the data Hessian, for Newton-CG's block preconditioner."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .threads import single_threaded_blas, worker_pool

__all__ = ["CLASS_BLOCK_THRESHOLD", "class_blocks"]

#: Rows whose curvature for a class is below this fraction of that class's
#: largest are left out of its block. With 200 classes (30,000 x 256, near
#: the optimum) 1e-2 keeps 14 of the 200 classes per row, a fifth of the
#: exact blocks' cost, and CG needs as few steps as with the exact blocks, 4
#: (1e-1: 5 classes per row, 7 steps; the diagonal preconditioner: 35).
CLASS_BLOCK_THRESHOLD = 1e-2


def class_blocks(
    h: NDArray, X, fit_intercept: bool, center: NDArray | None = None,
    inverse_scale: NDArray | None = None, threshold: float | None = None, threads: int = 1,
) -> NDArray | None:  # fmt: skip
    """``sum_i h_ai xt_i xt_i^T`` for every class ``a``, from the rows that matter to it.

    Class ``a``'s diagonal block of the data Hessian (the coupling between
    classes left out) is ``Xt^T diag(h_a) Xt`` with ``xt_i = [x_i, 1]`` (or
    ``x_i`` without intercept). Only rows with ``h_ai >= threshold * max_i
    h_ai`` enter it: with many classes each row is probable for a few of them,
    and the rest add little (an approximation, good enough to precondition).

    Parameters
    ----------
    h : ndarray of shape (n_classes, n_samples)
        Per-sample curvature ``s_i p_ia (1 - p_ia)``, in ``X``'s dtype.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    fit_intercept : bool
    center, inverse_scale : ndarray of shape (n_features,), optional
        The blocks of ``(x_i - center) * inverse_scale`` (standardised
        coordinates), got from those of ``x_i`` without a copy of ``X``.
    threshold : float, optional
        Default :data:`CLASS_BLOCK_THRESHOLD`; 0 gives the exact blocks.
    threads : int, default=1
        Threads of our own, the classes split between them.

    Returns
    -------
    blocks : ndarray of shape (n_classes, q, q) in ``X``'s dtype, or None
        ``q = n_features + fit_intercept``. None for sparse formats other
        than CSR.
    """
    if sp.issparse(X) and X.format != "csr":
        return None
    k, d = h.shape[0], X.shape[1]
    threshold = CLASS_BLOCK_THRESHOLD if threshold is None else threshold
    blocks = np.zeros((k, d + 1, d + 1), dtype=X.dtype)
    h = h.astype(X.dtype, copy=False)
    if h.shape[1] == 0:
        return blocks if fit_intercept else blocks[:, :d, :d].copy()
    tiny = np.finfo(X.dtype).tiny  # rows without curvature add nothing
    selected = [np.flatnonzero(ha >= max(threshold * ha.max(), tiny)) for ha in h]

    def fill(classes: range) -> None:
        # One buffer for the scaled rows of all these classes (X's rows gathered
        # into it, then scaled in place): the gathers cost a third of the products.
        most = max((len(selected[a]) for a in classes), default=0)
        buffer = None if sp.issparse(X) else np.empty((most, d), X.dtype)
        for a in classes:
            rows = selected[a]
            root = np.sqrt(h[a, rows])
            if buffer is None:
                S = X[rows].multiply(root[:, None]).tocsr()
                blocks[a, :d, :d] = (S.T @ S).toarray()
            else:
                S = np.take(X, rows, axis=0, out=buffer[: len(rows)])
                S *= root[:, None]
                blocks[a, :d, :d] = S.T @ S  # NumPy hands this form to BLAS's syrk
            blocks[a, :d, d] = S.T @ root  # the products with the ones column
            blocks[a, d, d] = root @ root

    # Classes split over the threads by their numbers of rows (NumPy releases the GIL).
    ends = np.cumsum([len(rows) for rows in selected])
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, threads) / threads, side="right")
    edges = [0, *map(int, cuts), k]
    chunks = [range(lo, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
    if len(chunks) == 1:
        fill(chunks[0])
    else:
        with single_threaded_blas():
            list(worker_pool(len(chunks)).map(fill, chunks))
    column, total = blocks[:, :d, d], blocks[:, d, d]
    if center is not None:
        # (x - c)(x - c)^T summed: B - c m^T - m c^T + H c c^T, m = sum h x, H = sum h.
        shift = column[:, :, None] * center[None, None, :]
        blocks[:, :d, :d] -= shift + shift.transpose(0, 2, 1)
        blocks[:, :d, :d] += total[:, None, None] * np.outer(center, center)
        column -= total[:, None] * center
    if inverse_scale is not None:
        blocks[:, :d, :d] *= np.outer(inverse_scale, inverse_scale)
        column *= inverse_scale
    if not fit_intercept:
        return np.ascontiguousarray(blocks[:, :d, :d])
    blocks[:, d, :d] = column
    return blocks
