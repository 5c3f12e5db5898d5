"""glmnet's ``offset``: a known part of every score, given with the rows.

A model fitted with ``offset`` has scores ``X @ coef_.T + intercept_ + offset``,
one row of ``offset`` per sample and one column per class (as glmnet's
multinomial ``offset``, an ``n x K`` matrix). A single column shared by
all classes would add the same number to every score of a row, which
softmax cancels, so only the ``(n_samples, n_classes)`` shape is taken. The
offset is part of the data, so predictions need the rows' offset too
(glmnet's ``newoffset``); the fitted attribute ``offset_used_`` records
that, and model files keep it.

Only fits of arrays in memory take an offset (the full-batch solvers and
:class:`softmax.SoftmaxRegressionCV`); the other paths refuse it here, by name.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["check", "for_prediction", "refuse", "refuse_fitted"]


def check(offset: ArrayLike, n_samples: int, n_classes: int, dtype) -> NDArray:
    """``offset`` validated: a C-contiguous array of shape (n_samples, n_classes) in ``dtype``.

    Raises
    ------
    ValueError
        For a 1-D offset (it would cancel in the softmax), another shape,
        or entries that are not finite.

    Examples
    --------
    >>> check([[0.0, 1.0], [2.0, 3.0]], 2, 2, np.float64)
    array([[0., 1.],
           [2., 3.]])
    >>> check([0.0, 1.0], 2, 2, np.float64)
    Traceback (most recent call last):
    ...
    ValueError: offset must have one column per class, shape (2, 2); ...
    """
    array = np.asarray(offset, dtype=dtype)
    if array.ndim == 1:
        raise ValueError(
            f"offset must have one column per class, shape ({n_samples}, {n_classes}); a "
            "1-D offset, shared by all classes, adds the same number to every score of a "
            "row and cancels in the softmax (give the known part of each class's score)"
        )
    if array.shape != (n_samples, n_classes):
        raise ValueError(
            f"offset must have shape (n_samples, n_classes) = ({n_samples}, {n_classes}), "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("offset must be finite (no NaN or infinity)")
    return np.ascontiguousarray(array)


def refuse(offset, where: str) -> None:
    """Raise ValueError when an ``offset`` is given to ``where``, which cannot take it.

    Examples
    --------
    >>> refuse(None, "Dask collections")  # none given: nothing to refuse
    >>> refuse(np.zeros((2, 3)), "Dask collections")
    Traceback (most recent call last):
    ...
    ValueError: offset is not supported for Dask collections; ...
    """
    if offset is not None:
        raise ValueError(
            f"offset is not supported for {where}; fit arrays in memory (NumPy or SciPy "
            "sparse) with a full-batch solver to use it"
        )


def refuse_fitted(model, what: str) -> None:
    """Raise ValueError when ``what`` is asked of a model fitted with an offset.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> refuse_fitted(SoftmaxRegression(), "to_onnx")  # not fitted with an offset
    """
    if getattr(model, "offset_used_", False):
        raise ValueError(
            f"{what} does not support a model fitted with an offset: its scores have a "
            "part that only the data give; refit without offset for it"
        )


def for_prediction(model, offset, n_samples: int, dtype) -> NDArray | None:
    """The offset of new rows, checked against how ``model`` was fitted (glmnet's ``newoffset``).

    Raises
    ------
    ValueError
        If the model was fitted with an offset and none is given, or the
        other way round, or the offset does not fit the rows.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> for_prediction(SoftmaxRegression(), None, 5, np.float64) is None
    True
    """
    used = getattr(model, "offset_used_", False)
    if used and offset is None:
        raise ValueError(
            "this model was fitted with an offset, so predictions need the offset of the "
            "new rows too (glmnet's newoffset): pass offset= of shape (n_samples, n_classes)"
        )
    if not used and offset is not None:
        raise ValueError(
            "this model was fitted without an offset, so it takes none at prediction; "
            "refit with offset= to use one"
        )
    return None if offset is None else check(offset, n_samples, len(model.classes_), dtype)
