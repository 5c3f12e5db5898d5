"""The Hessian of the smooth objective on a working set, for :class:`ProxNewton`.

Working-set entries are ordered in blocks, one per column of the
``(n_classes, n_features + fit_intercept)`` coefficient matrix (the features
of the working set, then the intercept column), each block holding that
column's ``n_classes`` entries; ``index[b, a]`` is the flat position (see
:class:`softmax.loss.linear.LinearModelLoss`) of block ``b``, class ``a``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective

__all__ = ["flat_index", "working_set_hessian"]


def flat_index(objective: Objective, columns: NDArray) -> NDArray:
    """Flat positions of the blocks of ``columns`` (intercept column included), shape (m, k)."""
    loss = objective.linear_loss
    q = loss.n_features + int(loss.fit_intercept)
    return np.asarray(columns)[:, None] + q * np.arange(loss.n_classes)[None, :]


def working_set_hessian(objective: Objective, w: NDArray, features: NDArray) -> NDArray:
    """Hessian of the smooth part at ``w`` on the working set of ``features``.

    The coefficients of all other features must be zero at ``w`` (they are:
    the working set holds every non-zero feature), so the objective's
    :meth:`~softmax.loss.objective.Objective.feature_hessian` applies: it
    costs ``n_samples * p_ws**2 / 2`` instead of ``n_samples * p**2 / 2``.

    Parameters
    ----------
    objective : Objective
    w : ndarray of shape (n_params,)
    features : ndarray of int, sorted
        Feature indices of the working set (the intercept is added).

    Returns
    -------
    hessian : ndarray of shape (p_ws, p_ws)
        In the working set's block order.
    """
    hessian = objective.feature_hessian(w, features)
    n_columns = len(features) + int(objective.linear_loss.fit_intercept)
    k = objective.linear_loss.n_classes
    # From the sub-model's class-major layout to blocks of classes.
    order = (np.arange(n_columns)[:, None] + n_columns * np.arange(k)[None, :]).ravel()
    return hessian[np.ix_(order, order)]
