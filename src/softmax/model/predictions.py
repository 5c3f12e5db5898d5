"""What a fitted model says about new rows: scores, probabilities, labels.

One function, :func:`predict`, serves every kind of ``X``: NumPy arrays,
SciPy sparse matrices and tables (through the model's design,
:func:`softmax.model.design.design_matrix`), Dask collections (lazy Dask
arrays, :func:`softmax.backends.dask.predict`), and arrays of the namespace
and device a model was fitted on (:mod:`softmax.model.device`), whose
results stay there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .. import functions
from ..backends import dask as _dask
from ..loss import array_api as aa
from . import device
from . import offset as offsets
from .design import design_matrix

__all__ = ["METHODS", "predict"]

#: What :func:`predict` computes; ``"scores"`` are the raw ``X @ coef_.T + intercept_``.
METHODS = ("scores", "decision_function", "predict_proba", "predict_log_proba", "predict")


def predict(model, method: str, X, offset=None) -> Any:
    """``model.<method>(X, offset)``; ``method`` is one of :data:`METHODS`.

    Parameters
    ----------
    model : SoftmaxRegression
    method : str
    X : array-like, sparse matrix, DataFrame, Dask collection or device array
    offset : array-like of shape (n_samples, n_classes), optional
        The rows' known part of the scores; needed exactly when the model
        was fitted with one (:mod:`softmax.model.offset`). NumPy rows only.

    Returns
    -------
    array
        Of shape (n_samples, n_classes), or (n_samples,) for ``"predict"`` and
        for ``"decision_function"`` with two classes. NumPy, lazy Dask, or
        of the namespace and device of the model's coefficients.
    """
    if method != "scores" and _dask.is_dask_collection(X):
        offsets.refuse(offset, "Dask collections")
        offsets.refuse_fitted(model, "prediction on Dask collections")
        return _dask.predict(model, method, X)
    check_is_fitted(model)
    name = "decision_function" if method == "scores" else method
    device.check_same_device(model, X, name)
    if device.fitted_on_device(model):
        offsets.refuse(offset, "arrays on a device")
        return _on_device(model, method, device.device_features(model, X))
    X = design_matrix(model, X)
    offset = offsets.for_prediction(model, offset, X.shape[0], X.dtype)
    raw = np.asarray(X @ model.coef_.T.astype(X.dtype)) + model.intercept_.astype(X.dtype)
    if offset is not None:
        raw += offset
    beta = getattr(model, "beta_", 1.0)
    if method == "decision_function" and raw.shape[1] == 2:
        return raw[:, 1] - raw[:, 0]
    if method == "predict_proba":
        return functions.softmax(raw, axis=1, beta=beta)
    if method == "predict_log_proba":
        return functions.log_softmax(raw, axis=1, beta=beta)
    if method == "predict":
        return model.classes_[np.argmax(raw, axis=1)]
    return raw


def _on_device(model, method: str, X) -> Any:
    """:func:`predict` for validated ``X`` on the model's device; results stay there."""
    xp = aa.namespace(X)
    coef, intercept = (xp.astype(a, X.dtype) for a in (model.coef_, model.intercept_))
    raw = X @ xp.matrix_transpose(coef) + intercept
    if method == "decision_function" and raw.shape[1] == 2:
        return raw[:, 1] - raw[:, 0]
    if method in ("predict_proba", "predict_log_proba"):
        log_proba = aa.log_softmax(xp, getattr(model, "beta_", 1.0) * raw)
        return xp.exp(log_proba) if method == "predict_proba" else log_proba
    if method == "predict":
        codes = xp.argmax(raw, axis=1)
        if model.classes_.dtype.kind in "biuf":
            return xp.take(aa.to_device(xp, model.classes_, aa.device(X)), codes)
        return model.classes_[aa.to_numpy(codes)]  # text labels exist only on the host
    return raw
