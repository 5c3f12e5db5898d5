"""The element functions of the block path in NumPy passes, for when Numba is missing.

:func:`softmax.loss.kernels.loss_gradient` and
:func:`~softmax.loss.kernels.hessian_product` compute each block's
transposed scores ``r`` of shape ``(n_classes, block)`` with a product,
hand them to an *element function* ``element(r, start, stop, gsum)`` that
turns them in place into the weights of the second product, and multiply
back. These are those functions without compiled kernels; the compiled
ones (:mod:`softmax.loss.compiled`) do the same in one pass.
"""

from __future__ import annotations

import numpy as np

from .cross_entropy import is_soft_target

__all__ = ["softmax_element", "hessian_element"]


def softmax_element(b, y, sw, gradient: bool, proba):
    """The ``element`` of :func:`softmax.loss.kernels.loss_gradient`: softmax, loss, gradient.

    Examples
    --------
    >>> import numpy as np
    >>> element = softmax_element(None, np.array([0]), None, True, None)
    >>> r = np.zeros((2, 1))
    >>> round(element(r, 0, 1, np.zeros(2)), 4), r.ravel().tolist()  # log 2; p - onehot
    (0.6931, [-0.5, 0.5])
    """
    soft = is_soft_target(y)

    def element(r, s, e, gsum):
        L = e - s
        if b is not None:
            r += b[:, None]
        m = r.max(axis=0)
        r -= m
        # loss = log(sum exp(z - m)) - t . (z - m) + m (1 - sum t); take
        # t . (z - m) before r is overwritten (the last term is 0 for codes).
        if soft:
            yb = y[s:e].T
            per_sample = -np.einsum("ij,ij->j", yb, r, dtype=np.float64)
            per_sample += m * (1 - yb.sum(axis=0, dtype=np.float64))
        else:
            target = y[s:e] * L + np.arange(L)  # flat positions of the classes in r
            per_sample = -r.ravel()[target].astype(np.float64)
        np.exp(r, out=r)
        total = r.sum(axis=0)
        per_sample += np.log(total)
        loss = float(per_sample.sum() if sw is None else np.dot(sw[s:e], per_sample))
        inv = np.reciprocal(total)
        if proba is not None:
            np.multiply(r, inv, out=proba[:, s:e])
        if not gradient:
            return loss
        # gradient on the scores: s * (p - t), with s / total in one pass.
        if sw is None:
            r *= inv
            if soft:
                r -= yb
            else:
                r.ravel()[target] -= 1
        else:
            swb = sw[s:e]
            r *= inv * swb
            if soft:
                r -= yb * swb
            else:
                r.ravel()[target] -= swb
        if b is not None:
            gsum += r.sum(axis=1)
        return loss

    return element


def hessian_element(proba, vb, sw):
    """The ``element`` of :func:`softmax.loss.kernels.hessian_product`: ``(diag(p) - p p^T) v``.

    Examples
    --------
    >>> import numpy as np
    >>> element = hessian_element(np.array([[0.5], [0.5]]), None, None)
    >>> r = np.array([[1.0], [0.0]])
    >>> element(r, 0, 1, np.zeros(2)), r.ravel().tolist()
    (0.0, [0.25, -0.25])
    """

    def element(r, s, e, gsum):
        if vb is not None:
            r += vb[:, None]
        p = proba[:, s:e]
        r *= p
        # (diag(p) - p p^T) v = p * v - p (p . v)
        r -= p * r.sum(axis=0)
        if sw is not None:
            r *= sw[s:e]
        if vb is not None:
            gsum += r.sum(axis=1)
        return 0.0

    return element
