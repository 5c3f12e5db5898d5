"""Training targets: class labels, label smoothing, and probability (soft) targets.

The loss layer takes either integer class codes of shape ``(n_samples,)`` or
a target matrix of shape ``(n_samples, n_classes)`` whose rows are
probability vectors (see :mod:`softmax.loss.cross_entropy`); this module builds and checks
the latter at the estimator's boundary.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["is_probability_matrix", "check_soft_targets", "smooth_labels"]


def is_probability_matrix(y) -> bool:
    """Whether ``y`` is meant as soft targets: 2-D with at least two columns.

    A single column ``(n, 1)`` is a column vector of labels, as in scikit-learn.
    """
    shape = getattr(y, "shape", None)
    if shape is None:  # a list, or an object that only converts via __array__
        shape = np.asarray(y).shape
    return len(shape) == 2 and shape[1] >= 2


def soft_target_classes(y, n_classes: int) -> NDArray:
    """Class labels of a target matrix: its column names, else ``0..k-1``."""
    columns = getattr(y, "columns", None)
    return np.asarray(list(columns)) if columns is not None else np.arange(n_classes)


def check_soft_targets(Y: NDArray, dtype) -> NDArray:
    """Validate rows as probability vectors; returns them in ``dtype``.

    Raises
    ------
    ValueError
        Naming the first bad row: a negative entry, or a sum away from 1.
    """
    Y = np.asarray(Y, dtype=np.float64)
    negative = np.flatnonzero(np.any(Y < 0, axis=1))
    if negative.size:
        raise ValueError(
            f"soft targets must be probabilities, but row {negative[0]} has a negative entry"
        )
    off = np.flatnonzero(np.abs(Y.sum(axis=1) - 1) > 1e-6)
    if off.size:
        raise ValueError(
            f"each row of soft targets must sum to 1, but row {off[0]} sums to "
            f"{Y[off[0]].sum():.6g}"
        )
    return Y.astype(dtype)


def smooth_labels(codes: NDArray, n_classes: int, epsilon: float, dtype) -> NDArray:
    """``(1 - epsilon) * onehot + epsilon / n_classes``, shape (n_samples, n_classes)."""
    Y = np.full((codes.shape[0], n_classes), epsilon / n_classes, dtype=dtype)
    Y[np.arange(codes.shape[0]), codes] += 1 - epsilon
    return Y
