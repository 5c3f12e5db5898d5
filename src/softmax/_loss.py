"""Multinomial cross-entropy on raw scores: the per-sample loss layer.

This layer knows nothing about features or coefficients. It maps raw scores
(logits) ``raw`` of shape ``(n_samples, n_classes)`` and integer class codes
``y`` of shape ``(n_samples,)`` with values in ``[0, n_classes)`` to the loss,
its gradient and its Hessian-vector product with respect to ``raw``.

For one sample with scores ``z`` and class ``c``::

    loss     = logsumexp(z) - z[c]
    gradient = p - onehot(c),            p = softmax(z)
    Hessian  = diag(p) - p p^T

Sample weights multiply each sample's contribution. Arrays keep the dtype of
``raw`` (float32 stays float32); summed loss values are accumulated in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["MultinomialCrossEntropy"]


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

    def loss(self, y: NDArray, raw: NDArray, sample_weight: NDArray | None = None) -> float:
        """Weighted sum of per-sample losses, as a Python float."""
        lse, _ = self.log_normalizer_proba(raw)
        per_sample = lse - raw[np.arange(raw.shape[0]), y]
        if sample_weight is None:
            return float(per_sample.sum(dtype=np.float64))
        return float(np.dot(sample_weight.astype(np.float64), per_sample))

    def loss_gradient(
        self, y: NDArray, raw: NDArray, sample_weight: NDArray | None = None
    ) -> tuple[float, NDArray, NDArray]:
        """Loss, its gradient with respect to ``raw``, and the probabilities.

        Returns
        -------
        loss : float
            Weighted sum of per-sample losses.
        grad : ndarray of shape (n_samples, n_classes)
            ``sample_weight[:, None] * (proba - onehot(y))``.
        proba : ndarray of shape (n_samples, n_classes)
            ``softmax(raw)``, unweighted; reused by :meth:`hessian_product`.
        """
        rows = np.arange(raw.shape[0])
        lse, proba = self.log_normalizer_proba(raw)
        per_sample = lse - raw[rows, y]
        grad = proba.copy()
        grad[rows, y] -= 1
        if sample_weight is None:
            return float(per_sample.sum(dtype=np.float64)), grad, proba
        grad *= sample_weight[:, None]
        return float(np.dot(sample_weight.astype(np.float64), per_sample)), grad, proba

    @staticmethod
    def hessian_product(
        proba: NDArray, v_raw: NDArray, sample_weight: NDArray | None = None
    ) -> NDArray:
        """Per-sample Hessian ``diag(p) - p p^T`` applied to ``v_raw``.

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
