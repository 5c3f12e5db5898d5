"""The one place that writes a fitted model's attributes.

``fit`` (arrays in memory, Dask collections, streams), ``partial_fit``,
:meth:`SoftmaxRegression.calibrate` and loading a model file
(:mod:`softmax.io.model_file`) all go through :func:`set_fitted` or
:func:`set_temperature`, so what a fitted model holds is written down once:

===========================  ==================================================
``classes_``                 class labels, sorted
``coef_``, ``intercept_``    (n_classes, n_features) and (n_classes,)
``n_iter_``, ``converged_``  iterations (epochs, ``partial_fit`` calls), an int32
                             array of shape (1,) as scikit-learn's, and the verdict
``objective_history_``       mean objective per iteration
``solver_``                  the solver that ran (what ``solver="auto"`` chose); absent
                             after loading a model file, which does not store it
``n_features_in_``           and ``feature_names_in_`` when the features had names: the
                             input columns, before any encoding
``feature_encoding_``        how the columns of ``X`` become the features
                             (:mod:`softmax.model.design`); None for numbers
``feature_names_out_``       the name of each column of ``coef_``
``sgd_state_``               the stochastic run (:class:`softmax.backends.stream.StochasticRun`),
                             only while stochastic training may continue
``beta_``                    inverse temperature from ``calibrate``, until the next fit
``offset_used_``             whether the fit had an ``offset`` (:mod:`softmax.model.offset`),
                             which predictions then need
===========================  ==================================================

A fit on arrays of another array-API library (PyTorch, CuPy; see
:mod:`softmax.model.device`) follows scikit-learn's convention: the array
attributes ``coef_``, ``intercept_`` and ``n_iter_`` are arrays of that
library on the data's device. ``classes_`` stays a NumPy array (labels may
be text), and so do ``objective_history_`` and ``feature_names_out_``,
records of the fit rather than results computed from the data (see
:class:`HostArray`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["ESTIMATORS", "HostArray", "register", "set_fitted", "set_temperature"]

#: The estimator classes whose fitted state :func:`set_fitted` writes, by class
#: name. The estimator registers itself, so that a reader of model files (a
#: higher layer) can build one without importing the estimator module, whose
#: ``save`` method imports that reader: an import circle otherwise.
ESTIMATORS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: add ``cls`` to :data:`ESTIMATORS`."""
    ESTIMATORS[cls.__name__] = cls
    return cls

class HostArray:
    """A fitted attribute kept as a tuple and read as a new NumPy array of ``dtype``.

    Declared on the estimator class (``objective_history_ = HostArray(np.float64)``);
    :func:`set_fitted` assigns it as any attribute. scikit-learn's array-API
    estimator checks hold every NumPy array among a fitted model's ``vars``
    to its convention, which wants it in the namespace, on the device and of
    the shape of the same attribute after a fit on device arrays. Text
    (``feature_names_out_``) has no place on a device, and the length of
    ``objective_history_`` depends on the solver (``"auto"`` picks
    Newton-Cholesky for NumPy arrays, which does not run on a device), so
    these two live in ``vars`` as tuples, and on the host.

    Parameters
    ----------
    dtype : dtype
        Of the array returned.
    """

    def __init__(self, dtype) -> None:
        self.dtype = dtype

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model, owner: type | None = None):
        if model is None:
            return self
        try:
            values = model.__dict__["_" + self.name]
        except KeyError:
            raise AttributeError(
                f"{type(model).__name__!r} object has no attribute {self.name!r} (fit sets it)"
            ) from None
        return np.asarray(values, dtype=self.dtype)

    def __set__(self, model, values) -> None:
        model.__dict__["_" + self.name] = tuple(np.asarray(values, dtype=self.dtype).tolist())


def set_fitted(
    model,
    *,
    classes: NDArray,
    coef: NDArray,
    intercept: NDArray,
    n_iter: int | NDArray,
    converged: bool,
    objective_history: Sequence[float],
    n_features: int | None = None,
    feature_names: Sequence[str] | None = None,
    sgd_state=None,
    beta: float | None = None,
    solver: str | None = None,
    encoding=None,
    to_arrays: Callable[[NDArray], object] | None = None,
    offset_used: bool = False,
) -> None:
    """Write the result of a fit (or of a model file) onto ``model``.

    Parameters
    ----------
    model : SoftmaxRegression
    classes, coef, intercept, n_iter, converged, objective_history
        The fitted attributes of the same names (without the trailing ``_``);
        ``n_iter`` is a count (an int, as model files store it, or an array
        of one) and becomes an int32 array of shape (1,), scikit-learn's
        ``n_iter_``, whose code reads ``n_iter_[0]``.
    n_features : int, optional
        ``n_features_in_``; leave it out when scikit-learn's ``validate_data``
        has set it (and ``feature_names_in_``) already.
    feature_names : sequence of str or None, optional
        ``feature_names_in_`` (None removes it); only with ``n_features``.
    sgd_state : StochasticRun or None
        Kept as ``sgd_state_``; None removes it (a full-batch fit ends a stream).
    beta : float or None
        ``beta_``; None removes it (a temperature fitted to other
        coefficients does not fit these).
    solver : str or None
        ``solver_``, the name of the solver that ran; None removes it.
    encoding : ColumnEncoding, FormulaDesign or None
        ``feature_encoding_``; its ``names_out`` are ``feature_names_out_``,
        which are otherwise ``feature_names_in_`` or ``x0, x1, ...``.
    to_arrays : callable, optional
        For a fit on a device: turns the NumPy ``coef``, ``intercept`` and
        ``n_iter_`` into arrays of the training data's namespace and device
        (:func:`softmax.loss.array_api.to_device`).
    offset_used : bool, default=False
        ``offset_used_``: whether the scores had an offset in the fit.
    """
    place = (lambda a: a) if to_arrays is None else to_arrays
    model.classes_ = classes
    model.coef_ = place(coef)
    model.intercept_ = place(intercept)
    model.n_iter_ = place(np.asarray(n_iter, dtype=np.int32).reshape(1))
    model.converged_ = bool(converged)
    model.offset_used_ = bool(offset_used)
    model.objective_history_ = np.asarray(objective_history, dtype=np.float64)
    if n_features is not None:
        model.n_features_in_ = int(n_features)
        names = None if feature_names is None else np.asarray(feature_names, dtype=object)
        _keep(model, "feature_names_in_", names)
    model.feature_encoding_ = encoding
    if encoding is not None:
        names_out = encoding.names_out
    elif getattr(model, "feature_names_in_", None) is not None:
        names_out = model.feature_names_in_
    else:
        names_out = [f"x{j}" for j in range(np.shape(coef)[1])]
    model.feature_names_out_ = np.asarray(names_out, dtype=object)
    _keep(model, "sgd_state_", sgd_state)
    _keep(model, "beta_", beta)
    _keep(model, "solver_", solver)


def set_temperature(model, beta: float) -> None:
    """Set ``beta_``, the inverse temperature fitted by ``calibrate``."""
    model.beta_ = float(beta)


def _keep(model, name: str, value) -> None:
    if value is None:
        model.__dict__.pop(name, None)
    else:
        setattr(model, name, value)
