"""Multinomial cross-entropy on raw scores: the per-sample loss layer.

This layer knows nothing about features or coefficients. It maps raw scores
(logits) ``raw`` of shape ``(n_samples, n_classes)`` and targets ``y`` to the
loss, its gradient and its Hessian-vector product with respect to ``raw``.

Targets come in two forms:

- integer class codes of shape ``(n_samples,)`` with values in
  ``[0, n_classes)``;
- a target matrix ``Y`` of shape ``(n_samples, n_classes)`` whose rows are
  probability vectors (soft targets: label smoothing, probabilistic labels).
  Class codes are the special case ``Y = onehot(y)``.

For one sample with scores ``z`` and target row ``t`` (``t = onehot(c)`` for
a class code ``c``)::

    loss     = logsumexp(z) - t . z
    gradient = p - t,                    p = softmax(z)
    Hessian  = diag(p) - p p^T

The three formulas are consistent for any ``t``; they are the cross-entropy
``-sum_c t_c log p_c`` when the row sums to one, which the caller ensures.

Sample weights multiply each sample's contribution. Arrays keep the dtype of
``raw`` (float32 stays float32); summed loss values are accumulated in float64.
The blocked evaluation used for training (:mod:`softmax.loss.kernels`) computes
the same quantities without materialising ``raw`` for all samples at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["MultinomialCrossEntropy", "is_soft_target"]


def is_soft_target(y: NDArray) -> bool:
    """Whether ``y`` is a target matrix (2-D) rather than class codes (1-D)."""
    return np.ndim(y) == 2


class MultinomialCrossEntropy:
    """Multinomial cross-entropy (negative log-likelihood of a softmax model)."""

    @staticmethod
    def log_normalizer_proba(raw: NDArray) -> tuple[NDArray, NDArray]:
        """Return ``logsumexp(raw, axis=1)`` and ``softmax(raw, axis=1)``.

        One max-shift and one ``exp`` pass serve both; ``raw`` is not modified.
        """
        m = raw.max(axis=1, keepdims=True)
        proba = raw - m
        np.exp(proba, out=proba)
        total = proba.sum(axis=1, keepdims=True)
        proba /= total
        return (np.log(total) + m)[:, 0], proba

    @staticmethod
    def target_score(y: NDArray, raw: NDArray) -> NDArray:
        """Per-sample ``t . z``: the score of the class (or the target-weighted score).

        Parameters
        ----------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Class codes or target matrix.
        raw : ndarray of shape (n_samples, n_classes)

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        if is_soft_target(y):
            return np.einsum("ij,ij->i", y, raw, dtype=np.float64)
        return raw[np.arange(raw.shape[0]), y]

    @staticmethod
    def _subtract_target(grad: NDArray, y: NDArray) -> None:
        """``grad -= t`` in place, for codes or a target matrix."""
        if is_soft_target(y):
            grad -= y
        else:
            grad[np.arange(grad.shape[0]), y] -= 1

    @staticmethod
    def _weighted_sum(per_sample: NDArray, sample_weight: NDArray | None) -> float:
        if sample_weight is None:
            return float(per_sample.sum(dtype=np.float64))
        return float(np.dot(sample_weight.astype(np.float64), per_sample.astype(np.float64)))

    def loss(self, y: NDArray, raw: NDArray, sample_weight: NDArray | None = None) -> float:
        """Weighted sum of per-sample losses, as a Python float."""
        lse, _ = self.log_normalizer_proba(raw)
        return self._weighted_sum(lse - self.target_score(y, raw), sample_weight)

    def loss_gradient(
        self, y: NDArray, raw: NDArray, sample_weight: NDArray | None = None
    ) -> tuple[float, NDArray, NDArray]:
        """Loss, its gradient with respect to ``raw``, and the probabilities.

        Parameters
        ----------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Class codes or target matrix.
        raw : ndarray of shape (n_samples, n_classes)
        sample_weight : ndarray of shape (n_samples,), optional

        Returns
        -------
        loss : float
            Weighted sum of per-sample losses.
        grad : ndarray of shape (n_samples, n_classes)
            ``sample_weight[:, None] * (proba - t)``.
        proba : ndarray of shape (n_samples, n_classes)
            ``softmax(raw)``, unweighted; reused by :meth:`hessian_product`.
        """
        lse, proba = self.log_normalizer_proba(raw)
        value = self._weighted_sum(lse - self.target_score(y, raw), sample_weight)
        grad = proba.copy()
        self._subtract_target(grad, y)
        if sample_weight is not None:
            grad *= sample_weight[:, None]
        return value, grad, proba

    @staticmethod
    def hessian_product(
        proba: NDArray, v_raw: NDArray, sample_weight: NDArray | None = None
    ) -> NDArray:
        """Per-sample Hessian ``diag(p) - p p^T`` applied to ``v_raw``.

        It does not depend on the targets.

        Parameters
        ----------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities from :meth:`loss_gradient`.
        v_raw : ndarray of shape (n_samples, n_classes)
            A direction in raw-score space.
        sample_weight : ndarray of shape (n_samples,), optional

        Returns
        -------
        hv : ndarray of shape (n_samples, n_classes)
        """
        pv = proba * v_raw
        hv = pv - proba * pv.sum(axis=1, keepdims=True)
        if sample_weight is not None:
            hv *= sample_weight[:, None]
        return hv
