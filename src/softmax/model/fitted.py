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
``n_features_in_``           and ``feature_names_in_`` when the features had names
``sgd_state_``               the stochastic run (:class:`softmax.backends.stream.StochasticRun`),
                             only while stochastic training may continue
``beta_``                    inverse temperature from ``calibrate``, until the next fit
===========================  ==================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["ESTIMATORS", "register", "set_fitted", "set_temperature"]

#: The estimator classes whose fitted state :func:`set_fitted` writes, by class
#: name. The estimator registers itself, so that a reader of model files (a
#: higher layer) can build one without importing the estimator module, whose
#: ``save`` method imports that reader: an import circle otherwise.
ESTIMATORS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: add ``cls`` to :data:`ESTIMATORS`."""
    ESTIMATORS[cls.__name__] = cls
    return cls

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
    """
    model.classes_ = classes
    model.coef_ = coef
    model.intercept_ = intercept
    model.n_iter_ = np.asarray(n_iter, dtype=np.int32).reshape(1)
    model.converged_ = bool(converged)
    model.objective_history_ = np.asarray(objective_history, dtype=np.float64)
    if n_features is not None:
        model.n_features_in_ = int(n_features)
        names = None if feature_names is None else np.asarray(feature_names, dtype=object)
        _keep(model, "feature_names_in_", names)
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
