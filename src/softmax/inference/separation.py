"""Detecting (quasi-)complete separation in multinomial logit data, for inference.

The linear programme that finds separated classes lives in
:mod:`softmax.model.separation`, where the estimator uses it too (it warns
after an unpenalised fit of separated data); this module adds what inference
needs on top: :class:`SeparationWarning`, and the certificate from an
inference problem's converged estimate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..model.separation import STRICT, SeparatedPair, SeparationReport, detect_separation

__all__ = [
    "SeparatedPair",
    "SeparationReport",
    "SeparationWarning",
    "detect_separation",
    "no_separation_certificate",
]


class SeparationWarning(UserWarning):
    """The data separate some classes, so their maximum-likelihood estimate does not exist.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> from softmax.datasets import load_dataset
    >>> iris = load_dataset("iris")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = SoftmaxRegression(C=np.inf, max_iter=100).fit(iris.X, iris.y)
    ...     res = model.inference(iris.X, iris.y)  # no penalty: setosa is separated
    >>> [w.category.__name__ for w in caught]
    ['ConvergenceWarning', 'SeparationWarning']
    >>> res.method  # the remedy: Firth's bias-reduced estimate, finite
    'firth'
    """


def no_separation_certificate(problem, theta: NDArray) -> bool:
    """Whether a fit proves that the data are not separated, sparing the LP.

    By Stiemke's lemma, no separating direction exists iff some ``y > 0``
    has ``A' y = 0`` (``A``: the constraint rows of
    :mod:`softmax.model.separation`). The fitted probabilities give one: the
    full score ``sum_i w_i (e_{y_i} - p_i) ⊗ z_i`` is ``A' y`` with
    ``y_ik = w_i p_ik``. With a residual score ``g``, any direction
    ``|D| <= 1`` has slack sum at most ``|g|_1 / min y``; below the LP's
    threshold it is the LP's own verdict "not separated".

    Parameters
    ----------
    problem : softmax.inference.core.Problem
    theta : ndarray of shape (J, q)
        A converged unpenalised estimate.
    """
    Z, codes, w = problem.Z, problem.codes, problem.weights
    scale = np.max(np.abs(Z), axis=0)
    p = np.exp(problem.log_proba(theta))
    onehot = codes[:, None] == np.arange(problem.n_classes)
    score = (w[:, None] * (onehot - p)).T @ (Z / np.where(scale > 0, scale, 1.0))
    y_min = np.min(np.where(onehot, np.inf, w[:, None] * p))
    return bool(np.sum(np.abs(score)) <= STRICT * y_min)
