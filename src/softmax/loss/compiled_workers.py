"""Chunk workers for :func:`softmax.loss.kernels._run` over the Numba kernels.

The kernels themselves are in :mod:`softmax.loss.compiled`; these wrap them
for one chunk of rows each, with arguments of fixed types and layouts
(C-contiguous, stand-ins for the unused ones): every new combination of
argument types would compile anew. Imported lazily by
:mod:`softmax.loss.kernels` (this imports Numba).
"""

from __future__ import annotations

import numpy as np

from .compiled import hessian_block, hessian_product_rows, loss_gradient_rows, softmax_block

__all__ = [
    "hessian_block_function",
    "hessian_product_worker",
    "loss_gradient_worker",
    "softmax_block_function",
]


def _fixed(b, y, sw, proba, n: int, k: int, dtype):
    """The loss kernels' arguments in fixed types.

    Returns ``(soft, bias, weights, keep, proba or a stand-in, stand-in codes,
    stand-in targets)``.
    """
    bias = np.zeros(k, dtype) if b is None else np.ascontiguousarray(b)
    weights = np.ones(n, dtype) if sw is None else np.ascontiguousarray(sw)
    keep = proba is not None
    out = proba if keep else np.zeros((k, 1), dtype)
    return y.ndim == 2, bias, weights, keep, out, np.zeros(1, np.intp), np.zeros((1, k), dtype)


def loss_gradient_worker(X, W, b, y, sw, gradient, proba):
    """``worker(blocks) -> (loss, grad, gsum)`` over the rows the blocks span.

    Arguments as prepared by :func:`softmax.loss.kernels.loss_gradient` (``b``
    and ``sw`` may be None; ``y`` codes or a target matrix; ``proba`` an
    ``(n_classes, n_samples)`` array to fill, or None).
    """
    X = np.asarray(X)  # a plain ndarray view of subclasses (np.memmap)
    n, d = X.shape
    k = W.shape[0]
    soft, bias, weights, keep, out, no_codes, no_targets = _fixed(b, y, sw, proba, n, k, X.dtype)

    def worker(blocks):
        s, e = blocks[0][0], blocks[-1][1]
        grad, gsum = np.zeros((k, d)), np.zeros(k)
        codes, targets = (no_codes, y[s:e]) if soft else (y[s:e], no_targets)
        loss = loss_gradient_rows(
            X[s:e], W, bias, codes, targets, soft, weights[s:e], gradient, out, keep, s, grad, gsum
        )
        return loss, grad, gsum

    return worker


def hessian_product_worker(X, proba, V, vb, sw):
    """``worker(blocks) -> (grad, gsum)``, the Hessian product over the rows the blocks span."""
    X = np.asarray(X)
    n, d = X.shape
    k = V.shape[0]
    bias = np.zeros(k, X.dtype) if vb is None else np.ascontiguousarray(vb)
    weights = np.ones(n, X.dtype) if sw is None else np.ascontiguousarray(sw)

    def worker(blocks):
        s, e = blocks[0][0], blocks[-1][1]
        grad, gsum = np.zeros((k, d)), np.zeros(k)
        hessian_product_rows(X[s:e], V, bias, proba, s, weights[s:e], grad, gsum)
        return grad, gsum

    return worker


def softmax_block_function(b, y, sw, gradient, proba, n, k, dtype):
    """``element(r, start, stop, gsum) -> loss``: :func:`softmax_block` on rows ``start:stop``.

    Arguments as prepared by :func:`softmax.loss.kernels.loss_gradient`; the
    ``element`` of :func:`softmax.loss.kernels._over_blocks`.
    """
    soft, bias, weights, keep, out, no_codes, no_targets = _fixed(b, y, sw, proba, n, k, dtype)

    def element(r, s, e, gsum):
        codes, targets = (no_codes, y[s:e]) if soft else (y[s:e], no_targets)
        return softmax_block(
            r, bias, codes, targets, soft, weights[s:e], gradient, out, keep, s, gsum
        )

    return element


def hessian_block_function(proba, vb, sw, n, k, dtype):
    """``element(r, start, stop, gsum) -> 0.0``: :func:`hessian_block` on rows ``start:stop``."""
    bias = np.zeros(k, dtype) if vb is None else np.ascontiguousarray(vb)
    weights = np.ones(n, dtype) if sw is None else np.ascontiguousarray(sw)

    def element(r, s, e, gsum):
        hessian_block(r, bias, proba, s, weights[s:e], gsum)
        return 0.0

    return element
