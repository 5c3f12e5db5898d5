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

from ..loss.linear import LinearModelLoss
from ..loss.objective import Objective
from ..loss.standardize import StandardizedLinearLoss

__all__ = ["flat_index", "working_set_hessian"]


def flat_index(objective: Objective, columns: NDArray) -> NDArray:
    """Flat positions of the blocks of ``columns`` (intercept column included), shape (m, k)."""
    loss = objective.linear_loss
    q = loss.n_features + int(loss.fit_intercept)
    return np.asarray(columns)[:, None] + q * np.arange(loss.n_classes)[None, :]


def working_set_hessian(objective: Objective, w: NDArray, features: NDArray) -> NDArray:
    """Hessian of the smooth part at ``w`` on the working set of ``features``.

    The coefficients of all other features must be zero at ``w`` (they are:
    the working set holds every non-zero feature). Then the data term is the
    one of the sub-model on ``X[:, features]``, whose Hessian costs
    ``n_samples * p_ws**2 / 2`` instead of ``n_samples * p**2 / 2`` for the
    full one (``p_ws``: working-set entries). Standardised coordinates
    (:class:`StandardizedLinearLoss`) go through the sub-model's linear map.
    Other losses fall back to one Hessian-vector product per entry.

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
    loss = objective.linear_loss
    standardized = isinstance(loss, StandardizedLinearLoss)
    inner = loss.inner if standardized else loss
    k, d, fit_intercept = loss.n_classes, loss.n_features, loss.fit_intercept
    columns = np.append(features, d) if fit_intercept else np.asarray(features)
    if type(inner) is not LinearModelLoss:
        return _hessian_by_columns(objective, w, flat_index(objective, columns).ravel())

    m = len(features)
    sub = LinearModelLoss(k, m, fit_intercept, n_threads=inner.n_threads)
    X = objective.X if m == d else objective.X[:, features]
    w_sub = w.reshape(k, -1)[:, columns].ravel()
    if standardized:
        sub_std = StandardizedLinearLoss(sub, loss.mean[features], loss.scale[features])
        # Rows of ``jacobian`` are the images of the unit vectors: J^T.
        jacobian = sub_std.to_original(np.eye(len(w_sub)))
        hessian = sub.gradient_hessian(sub_std.to_original(w_sub), X, objective.y,
                                       objective.sample_weight)[2]
        hessian = jacobian @ hessian @ jacobian.T
    else:
        hessian = sub.gradient_hessian(w_sub, X, objective.y, objective.sample_weight)[2]
    # The smooth penalty (L2) on the coefficients, on the mean-loss scale.
    diagonal = np.zeros((k, len(columns)))
    diagonal[:, :m] = objective.scale * objective.penalty.hessian_diagonal(
        w.reshape(k, -1)[:, features]
    )
    hessian[np.diag_indices_from(hessian)] += diagonal.ravel()
    # From the sub-model's class-major layout to blocks of classes.
    order = (np.arange(len(columns))[:, None] + len(columns) * np.arange(k)[None, :]).ravel()
    return hessian[np.ix_(order, order)]


def _hessian_by_columns(objective: Objective, w: NDArray, index: NDArray) -> NDArray:
    """Restricted Hessian from one Hessian-vector product per entry (any loss)."""
    hessp = objective.value_grad_hessp(w)[2]
    columns = np.empty((len(index), len(index)))
    unit = np.zeros_like(w)
    for c, j in enumerate(index):  # a loop over coefficients, each a pass over X
        unit[j] = 1.0
        columns[c] = hessp(unit)[index]
        unit[j] = 0.0
    return 0.5 * (columns + columns.T)  # symmetric up to rounding
