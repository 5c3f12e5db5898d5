"""What each parameter of :class:`softmax.SoftmaxRegression` may be (scikit-learn's constraints).

scikit-learn checks them at every ``fit`` and ``partial_fit``
(``_fit_context``); they live here, beside the code that gives the
parameters their meaning, to keep the estimator module under its size limit.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..solvers import SOLVERS, sgd
from .columns import HANDLE_UNKNOWN

__all__ = ["PARAMETER_CONSTRAINTS"]

#: The estimator's ``_parameter_constraints``.
PARAMETER_CONSTRAINTS: dict = {
    "C": [Interval(Real, 0, None, closed="right")],
    "fit_intercept": ["boolean"],
    "standardize": ["boolean"],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "grouped": ["boolean"],
    "solver": [StrOptions(set(SOLVERS) | {"auto"})],
    "max_iter": [Interval(Integral, 0, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "callback": [callable, None],
    "alpha": [Interval(Real, 0, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [StrOptions(set(sgd.OPTIMIZERS))],
    "schedule": [StrOptions(set(sgd.SCHEDULES))],
    "random_state": ["random_state"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "formula": [str, None],
    "handle_unknown": [StrOptions(set(HANDLE_UNKNOWN))],
    # Shapes and values are checked against the data, in softmax.model.glmnet.
    "penalty_factor": ["array-like", None],
    "lower_bounds": [Real, "array-like", None],
    "upper_bounds": [Real, "array-like", None],
}
