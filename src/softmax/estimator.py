"""SoftmaxRegression: the scikit-learn estimator. It validates and wires the layers."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import functions
from ._linear_loss import LinearModelLoss
from ._objective import Objective
from ._standardize import StandardizedLinearLoss, feature_mean_scale
from .penalties import L2
from .solvers import SOLVERS, IterationInfo

__all__ = ["SoftmaxRegression"]


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Softmax regression (multinomial logistic regression).

    A linear model gives each class a score ``z_k = x . coef_[k] + intercept_[k]``;
    softmax turns the scores into probabilities, and the class with the largest
    probability is predicted. Training minimises the weighted cross-entropy
    plus a ridge penalty::

        sum_i s_i * CE(y_i, softmax(z_i)) + ||coef_||^2 / (2 * C)

    which is exactly scikit-learn ``LogisticRegression``'s multinomial
    objective for the same ``C`` (the intercept is not penalised).
    The coefficient layout is documented once, in
    :class:`softmax._linear_loss.LinearModelLoss`.

    **Two classes.** The model keeps one row per class even for two classes.
    Softmax of two scores is the sigmoid of their difference,
    ``p_1 = 1 / (1 + exp(-(z_1 - z_0)))``, so this is logistic regression with
    coefficients ``beta = coef_[1] - coef_[0]``. The penalty makes the rows
    opposite (``coef_[0] = -coef_[1] = -beta / 2``), so it equals
    ``||beta||^2 / (4 C)``: the same optimum as binary ``LogisticRegression``
    with ``2 * C``. ``decision_function`` returns ``z_1 - z_0`` (shape
    ``(n_samples,)``), as scikit-learn does for binary classifiers.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; ``np.inf`` means no penalty (then the
        classes must not be separable for a finite optimum to exist).
    fit_intercept : bool, default=True
        Whether to fit a per-class intercept.
    standardize : bool, default=False
        Fit as if every feature were centred and scaled to unit (weighted)
        variance, which makes badly scaled data converge fast, then report
        ``coef_`` and ``intercept_`` in the original units. No copy of ``X``
        is made (sparse input stays sparse). As in glmnet, the penalty then
        applies to the standardised coefficients, so the optimum differs from
        ``standardize=False`` unless ``C=np.inf``. Without an intercept the
        features are only scaled.
    solver : {"lbfgs", "gd"}, default="lbfgs"
        ``"lbfgs"``: limited-memory BFGS, fast and the default.
        ``"gd"``: plain gradient descent, as in the founding article; with a
        backtracking line search unless ``learning_rate`` is given.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    tol : float, default=1e-6
        Stop when the largest absolute entry of the gradient of the mean
        objective (the objective above divided by the total sample weight)
        is at most ``tol``.
    learning_rate : float or None, default=None
        Fixed step size for ``solver="gd"``; ``None`` uses a line search.
        Only ``"gd"`` takes it.
    class_weight : dict, "balanced" or None, default=None
        Weights multiplying ``sample_weight`` by class. ``"balanced"`` uses
        ``n_samples / (n_classes * np.bincount(y))``.
    warm_start : bool, default=False
        Start from the previous solution when refitting on the same classes
        and features.
    verbose : int, default=0
        Print one line per iteration when positive.
    callback : callable or None, default=None
        Called after each iteration with a
        :class:`softmax.solvers.IterationInfo` (iteration, objective,
        gradient_max); used for progress bars.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    coef_ : ndarray of shape (n_classes, n_features)
        Coefficients, in the dtype of the training data (float32 or float64).
        Rows sum to zero (the representative of the symmetric parametrisation).
    intercept_ : ndarray of shape (n_classes,)
        Intercepts, centred to sum to zero; zeros when ``fit_intercept=False``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Present when ``X`` had string column names.
    n_iter_ : int
        Iterations run by the solver in the last ``fit``.
    converged_ : bool
        Whether the last ``fit`` met ``tol``.
    objective_history_ : ndarray of shape (n_iter_ + 1,)
        Mean objective (see ``tol``) at the start and after each iteration.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression().fit(X, y)
    >>> model.predict_proba(X[:1]).round(3)
    array([[0.982, 0.018, 0.   ]])
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "callback": [callable, None],
    }

    def __init__(
        self,
        C: float = 1.0,
        *,
        fit_intercept: bool = True,
        standardize: bool = False,
        solver: str = "lbfgs",
        max_iter: int = 1000,
        tol: float = 1e-6,
        learning_rate: float | None = None,
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        callback: Callable[[IterationInfo], None] | None = None,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.callback = callback

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is computed in float32.
        y : array-like of shape (n_samples,)
            Class labels (strings or numbers); at least two classes.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample.

        Returns
        -------
        self : SoftmaxRegression
        """
        solver_cls = SOLVERS[self.solver]
        if self.learning_rate is not None and "learning_rate" not in solver_cls.options:
            raise ValueError(
                f"learning_rate is only used by solver='gd', not solver={self.solver!r}; "
                "leave it as None"
            )
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]
        )
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=classes, y=y)
            sample_weight = sample_weight * per_class[codes].astype(X.dtype)
        weight_per_class = np.bincount(codes, weights=sample_weight, minlength=len(classes))
        if np.count_nonzero(weight_per_class) < 2:
            present = classes[weight_per_class > 0]
            raise ValueError(
                "SoftmaxRegression needs samples of at least 2 classes with positive weight, "
                f"but the data has only one class: {present.tolist()} "
                f"(labels seen: {classes.tolist()})"
            )

        linear_loss = LinearModelLoss(len(classes), X.shape[1], self.fit_intercept)
        if self.standardize:
            mean, scale = feature_mean_scale(X, sample_weight, center=self.fit_intercept)
            linear_loss = StandardizedLinearLoss(linear_loss, mean, scale)
        objective = Objective(linear_loss, L2(1.0 / self.C), X, codes, sample_weight)
        w0 = self._initial_point(linear_loss, classes)
        solver = solver_cls(**{name: getattr(self, name) for name in solver_cls.options})
        # NumPy and SciPy each bundle an OpenBLAS; both spinning 2 threads made
        # digits 5x and a 50,000 x 100 fit 1.8x slower than single-threaded BLAS.
        with threadpool_limits(1, user_api="blas"):
            result = solver.solve(
                objective, w0, max_iter=self.max_iter, tol=self.tol, callback=self._iteration_hook()
            )

        coef, intercept = linear_loss.unpack(result.w)
        if self.standardize:
            coef, intercept = linear_loss.to_original_coef(coef, intercept)
        # Adding one vector to every row changes no probability: report the
        # representative with rows (and intercepts) summing to zero.
        self.coef_ = (coef - coef.mean(axis=0)).astype(X.dtype)
        self.intercept_ = (intercept - intercept.mean()).astype(X.dtype)
        self.classes_ = classes
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.objective_history_ = np.asarray(result.objective_history, dtype=np.float64)
        if not np.all(np.isfinite(result.w)):
            raise FloatingPointError(
                "the solver produced non-finite coefficients; check the data for extreme "
                "values and standardise the features"
            )
        if not result.converged:
            warnings.warn(self._convergence_advice(result), ConvergenceWarning, stacklevel=2)
        return self

    def _initial_point(self, linear_loss: LinearModelLoss, classes: NDArray) -> NDArray:
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and self.coef_.shape == (linear_loss.n_classes, linear_loss.n_features)
            and np.array_equal(self.classes_, classes)
        ):
            coef = self.coef_.astype(np.float64)
            intercept = self.intercept_.astype(np.float64)
            if isinstance(linear_loss, StandardizedLinearLoss):
                coef, intercept = linear_loss.from_original_coef(coef, intercept)
            return linear_loss.pack(coef, intercept)
        return np.zeros(linear_loss.n_params)

    def _iteration_hook(self) -> Callable[[IterationInfo], None] | None:
        hooks = [h for h in (self.callback, self._print_iteration if self.verbose else None) if h]
        if not hooks:
            return None
        return lambda info: [hook(info) for hook in hooks] and None

    @staticmethod
    def _print_iteration(info: IterationInfo) -> None:
        print(
            f"iter {info.iteration:5d}  objective {info.objective:.10g}  "
            f"max|grad| {info.gradient_max:.3e}",
            flush=True,
        )

    def _convergence_advice(self, result) -> str:
        advice = [
            f"increase max_iter (now {self.max_iter})" if result.n_iter >= self.max_iter else None,
            None
            if self.standardize
            else "set standardize=True (or scale the features, for example with "
            "sklearn.preprocessing.StandardScaler): features on very different scales are "
            "the most common cause",
            "use solver='lbfgs'" if self.solver == "gd" else None,
            "use a finite C: without a penalty, separable classes have no finite optimum"
            if np.isinf(self.C)
            else "decrease C for a stronger penalty",
            f"or loosen tol (now {self.tol:g})",
        ]
        return (
            f"SoftmaxRegression(solver={self.solver!r}) did not converge after "
            f"{result.n_iter} iterations ({result.message}); the largest gradient entry is "
            f"{result.gradient_max:.2e}, above tol={self.tol:g}. To fix it: "
            + "; ".join(a for a in advice if a)
            + "."
        )

    def _raw(self, X: ArrayLike) -> NDArray:
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=False
        )
        return np.asarray(X @ self.coef_.T.astype(X.dtype)) + self.intercept_.astype(X.dtype)

    def decision_function(self, X: ArrayLike) -> NDArray:
        """Class scores ``X @ coef_.T + intercept_``.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the log-odds ``z_1 - z_0`` of ``classes_[1]``.
        """
        raw = self._raw(X)
        return raw[:, 1] - raw[:, 0] if raw.shape[1] == 2 else raw

    def predict_proba(self, X: ArrayLike) -> NDArray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        return functions.softmax(self._raw(X), axis=1)

    def predict_log_proba(self, X: ArrayLike) -> NDArray:
        """Log of :meth:`predict_proba`, computed stably, shape (n_samples, n_classes)."""
        return functions.log_softmax(self._raw(X), axis=1)

    def predict(self, X: ArrayLike) -> NDArray:
        """Most probable class for each sample, shape (n_samples,)."""
        raw = self._raw(X)  # first, so an unfitted model raises NotFittedError
        return self.classes_[np.argmax(raw, axis=1)]

    def save(self, path: str | os.PathLike, *, extra: dict | None = None):
        """Write the fitted model to one safe file (no pickle); see :func:`softmax.load`.

        Parameters
        ----------
        path : str or path-like
            Any file name; the write is atomic.
        extra : dict, optional
            JSON-able training summary stored with the model.

        Returns
        -------
        path : pathlib.Path
        """
        from .persistence import save

        return save(self, path, extra=extra)

    def inference(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        cov_type: str = "nonrobust",
        reference=None,
        groups: ArrayLike | None = None,
        *,
        weights_kind: str = "frequency",
        separation: str = "firth",
    ):
        """Standard errors, p-values, tests and marginal effects (:mod:`softmax.inference`).

        Returns an :class:`softmax.inference.InferenceResults` in a
        reference-class form (``reference``, default ``classes_[0]``), with
        ``cov_type`` one of ``"nonrobust"``, ``"HC0"``, ``"HC1"``, ``"cluster"``
        (with ``groups``). The estimate is refined by Newton steps on ``X, y``;
        separated data without a penalty get a warning and Firth estimates.
        """
        from .inference import inference

        return inference(
            self, X, y, sample_weight, cov_type, reference, groups,
            weights_kind=weights_kind, separation=separation,
        )
