"""Fits and predictions on array-API arrays (PyTorch, CuPy, ...) on their device.

With scikit-learn's ``array_api_dispatch`` on, ``fit`` keeps a non-NumPy
``X`` where it is (:func:`softmax.backends.array_api.is_device_array`): the
options below are checked (:func:`unsupported` says what is not supported,
and the estimator's ``array_api_support`` tag follows it), the inputs are
validated on the device (:func:`validate`), and the one fit path of
:mod:`softmax.model.training` runs over :class:`~softmax.backends.array_api.ArrayRows`.
The fitted ``coef_``, ``intercept_`` and ``n_iter_`` are then arrays of
``X``'s namespace on its device (``classes_`` and ``objective_history_`` stay
NumPy, :class:`softmax.model.fitted.HostArray`), and so are the outputs of
``predict`` (numeric labels), ``predict_proba``, ``predict_log_proba`` and
``decision_function`` for ``X`` of that namespace and device
(:func:`check_same_device`, :func:`device_features`). ``save``,
``inference``, ``calibrate`` and ``partial_fit`` work on NumPy arrays only
(:func:`refuse`).

Supported: ``solver`` ``"auto"`` (which picks ``"lbfgs"`` or ``"newton-cg"``),
``"lbfgs"``, ``"newton-cg"`` and ``"gd"``; the L2 penalty (``C`` or ``alpha``);
``fit_intercept``, ``sample_weight``, ``class_weight``, ``warm_start``;
float32 and float64. Everything else says so in a ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import config_context
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..backends.array_api import ArrayData, ArrayRows, is_device_array, move, same_place
from ..loss import array_api as aa
from ..solvers import SOLVERS

__all__ = [
    "SUPPORTED",
    "check_same_device",
    "device_features",
    "fitted_on_device",
    "refuse",
    "unsupported",
    "validate",
]

#: What a fit on a device supports, in the words of the errors.
SUPPORTED = (
    "solver 'auto', 'lbfgs', 'newton-cg' or 'gd', the L2 penalty (C or alpha), "
    "fit_intercept, sample_weight, class_weight and warm_start, on float32 or float64 "
    "arrays of one namespace and device"
)


def _runs_on_device(solver: str) -> bool:
    """Whether ``solver`` needs only what :class:`ArrayRows` offers."""
    return solver == "auto" or all(hasattr(ArrayRows, need) for need in SOLVERS[solver].needs)


def unsupported(model) -> list[str]:
    """The options of ``model`` that a fit on a device does not support (empty: none)."""
    found = []
    if not _runs_on_device(model.solver):
        found.append(f"solver={model.solver!r}")
    if model.l1_ratio > 0:
        found.append(f"l1_ratio={model.l1_ratio} (an L1 or elastic-net penalty)")
    for name in ("standardize", "label_smoothing", "formula"):
        if getattr(model, name):
            found.append(f"{name}={getattr(model, name)!r}")
    return found


def validate(model, X, y, sample_weight) -> tuple[Any, ArrayData]:
    """``X`` validated on its device and the labels and weights made codes and weights there.

    Raises
    ------
    ValueError
        For unsupported options, probability targets, or the usual input errors.
    """
    xp = aa.namespace(X)
    found = unsupported(model)
    if found:
        raise ValueError(
            f"fitting on {xp.__name__} arrays (array_api_dispatch=True) does not support "
            f"{', '.join(found)}. It supports {SUPPORTED}. For the rest, fit on NumPy arrays "
            "(np.asarray or the library's .cpu().numpy() / .get())."
        )
    shape = y.shape if hasattr(y, "shape") else np.shape(y)
    if len(shape) == 2 and shape[1] != 1:
        raise ValueError(
            f"fitting on {xp.__name__} arrays takes class labels, not a matrix of "
            "probability targets; fit probability targets on NumPy arrays"
        )
    X = validate_data(model, X, dtype=[xp.float64, xp.float32])
    if sample_weight is not None:
        sample_weight = xp.astype(move(sample_weight, xp, aa.device(X)), X.dtype)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    data = ArrayData(X, y, sample_weight)
    check_classification_targets(data.classes)
    return X, data


def fitted_on_device(model) -> bool:
    """Whether ``model`` was fitted on device arrays (its ``coef_`` is not NumPy)."""
    return not isinstance(model.coef_, np.ndarray)


def _describe(x) -> str:
    if not aa.is_non_numpy_array(x):
        return f"a {type(x).__name__}"
    return f"{aa.namespace(x).__name__} arrays on {aa.device(x)}"


def check_same_device(model, X, method: str) -> None:
    """Refuse ``X`` of another namespace or device than the model's coefficients.

    A model fitted on NumPy arrays takes any ``X`` NumPy can convert, as
    scikit-learn's estimators do, except device arrays while
    ``array_api_dispatch`` is on.

    Raises
    ------
    ValueError
        With scikit-learn's words ("must use the same namespace ...").
    """
    on_device = fitted_on_device(model)
    if not on_device and not is_device_array(X):
        return
    if on_device and same_place(X, aa.namespace(model.coef_), aa.device(model.coef_)):
        return
    raise ValueError(
        f"Inputs passed to {type(model).__name__}.{method}() must use the same namespace and "
        f"the same device as those passed to fit(): the model was fitted on "
        f"{_describe(model.coef_)}, X is {_describe(X)}. Pass X as the model was fitted, "
        "or fit again on arrays like X."
    )


def device_features(model, X):
    """``X`` validated for a model fitted on a device (checked: same namespace and device)."""
    xp = aa.namespace(model.coef_)
    # The model's arrays are on the device: its predictions dispatch whatever the
    # configuration, as the fit did.
    with config_context(array_api_dispatch=True):
        return validate_data(model, X, dtype=[xp.float64, xp.float32], reset=False)


def refuse(model, what: str, X=None) -> None:
    """Raise a ValueError when ``what`` is asked of a device model or with device ``X``."""
    on_device = hasattr(model, "coef_") and fitted_on_device(model)
    if on_device or (X is not None and is_device_array(X)):
        source = model.coef_ if on_device else X
        raise ValueError(
            f"{what} works on NumPy arrays, not on {_describe(source)}; on a device, "
            "SoftmaxRegression supports fit, predict, predict_proba, predict_log_proba, "
            f"decision_function and score, with {SUPPORTED}. Fit on NumPy arrays for {what}."
        )
