"""SoftmaxRegressionCV: the penalty chosen by cross-validation along regularisation paths."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names, log_loss, make_scorer
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..estimator import SoftmaxRegression
from ..model import offset as offsets
from ..model.fitted import set_fitted
from ..model.parameters import PARAMETER_CONSTRAINTS
from ..solvers import SOLVERS
from .path import RegularizationPath, fit_path, prepare, smallest_c
from .scores import RULES, cv_results, select, with_offset

__all__ = ["L1_DECADES", "L2_CS", "SoftmaxRegressionCV"]

#: Default grid without an L1 part: ``np.logspace(-4, 4, Cs)``, scikit-learn
#: ``LogisticRegressionCV``'s (``C`` is on the same scale), so a switch keeps the grid.
L2_CS = (-4.0, 4.0)
#: Default grid with an L1 part: ``C_min * np.logspace(0, L1_DECADES, Cs)`` from the
#: ``C_min`` at which every coefficient is zero, i.e. glmnet's path from
#: ``lambda_max`` down to ``lambda.min.ratio = 1e-4`` of it.
L1_DECADES = 4.0

#: The fitting options passed through to each path's SoftmaxRegression.
_FIT_OPTIONS = (
    "fit_intercept", "standardize", "grouped", "label_smoothing", "solver", "max_iter", "tol",
    "class_weight", "penalty_factor", "lower_bounds", "upper_bounds",
)  # fmt: skip


def _has_final_model(model) -> bool:
    if not model.refit:
        raise AttributeError(
            "SoftmaxRegressionCV(refit=False) keeps only the cross-validation results; set "
            "refit=True for a final model to predict with"
        )
    return True


class SoftmaxRegressionCV(ClassifierMixin, BaseEstimator):
    """Softmax regression with ``C`` (and ``l1_ratio``) chosen by cross-validation.

    For each fold, and for each ``l1_ratio``, the whole grid of ``C`` is
    fitted as one regularisation path (:mod:`softmax.selection.path`): from
    the strongest penalty (smallest ``C``) to the weakest, each fit starting
    from the previous solution, with glmnet's sequential strong rules to
    screen out features when there is an L1 part. Every point is scored on
    the held-out rows; a rule (``"min"`` or ``"1se"``) picks the candidate,
    and with ``refit`` the same path fitted on all the data gives the final
    model. The objective is :class:`~softmax.SoftmaxRegression`'s::

        sum_i s_i CE_i + ((1 - l1_ratio) / 2 * ||coef||^2 + l1_ratio * ||coef||_1) / C

    (the L1 norm replaced by the sum of column norms when ``grouped``); on
    the mean scale, ``mean CE + penalty / (C S)`` with ``S`` the total sample
    weight, so glmnet's ``lambda`` is ``1 / (C S)``.

    Parameters
    ----------
    Cs : int or array-like of float, default=20
        The grid of ``C``. An int asks for that many log-spaced values: with
        an L1 part, from ``C_min``, the largest ``C`` at which every
        coefficient is zero (glmnet's ``lambda_max``, computed on all the
        data from the gradient at the intercept-only model), up to
        ``10 ** L1_DECADES`` times it (``1e4``: glmnet's ``lambda.min.ratio``
        of 1e-4); for pure L2, ``np.logspace(-4, 4, Cs)``, as scikit-learn's
        ``LogisticRegressionCV``. A list is used for every ``l1_ratio``,
        sorted increasing.
    l1_ratios : array-like of float in [0, 1] or None, default=None
        Elastic-net mixings to try (see ``SoftmaxRegression.l1_ratio``);
        None means ``[0.0]``, pure L2.
    grouped : bool, default=False
        The grouped lasso: a feature is in or out for all classes at once
        (``SoftmaxRegression.grouped``).
    cv : int, cross-validation generator, iterable or None, default=5
        An int ``k`` means ``StratifiedKFold(k, shuffle=True,
        random_state=random_state)``, None 5 of them; otherwise anything
        :func:`sklearn.model_selection.check_cv` takes (a splitter, or an
        iterable of ``(train, test)`` index arrays).
    scoring : str, callable or None, default=None
        A scikit-learn scorer name or ``scorer(estimator, X, y)``, greater is
        better; None means ``"neg_log_loss"`` (told every class of ``y``, so
        that a validation fold may miss some). Scores are unweighted
        (``sample_weight`` weights the fits only).
    rule : {"min", "1se"}, default="min"
        ``"min"``: the best mean score. ``"1se"``: the largest penalty
        (smallest ``C``) along the best candidate's ``l1_ratio`` whose mean
        score is at least the best mean minus its standard error
        (``std_test_score / sqrt(n_folds)``), glmnet's ``lambda.1se``.
    refit : bool, default=True
        Fit the path on all the data too: it gives ``coef_path_`` and the
        final model at the chosen candidate. False keeps only the
        cross-validation results (no ``predict``).
    n_jobs : int or None, default=None
        Paths fitted in parallel by joblib, one task per fold (and one for
        the fit on all the data); None means 1 unless in a
        ``joblib.parallel_config`` context.
    random_state : int, RandomState or None, default=None
        Shuffles the folds of ``cv=int``.
    fit_intercept, standardize, label_smoothing, max_iter, tol, class_weight
        As for :class:`~softmax.SoftmaxRegression`, for every fit.
    penalty_factor, lower_bounds, upper_bounds
        As for :class:`~softmax.SoftmaxRegression` (glmnet's per-feature
        penalty factors and coefficient bounds), for every fit. The default
        L1 grid's ``C_min`` divides each feature's gradient by its factor
        (features of factor 0 are left out of it).
    solver : {"auto", "lbfgs", "gd", "newton-cg", "newton-cholesky", "prox-newton"}, \
default="auto"
        As for :class:`~softmax.SoftmaxRegression`; ``"sgd"`` is not offered,
        since a stochastic solve does not reach each point's optimum, which
        warm starts and screening rely on.

    Attributes
    ----------
    C_ : float
        The chosen ``C``.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    Cs_ : ndarray of shape (n_l1_ratios, n_Cs)
        Each ``l1_ratio``'s grid, increasing.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    cv_results_ : dict of ndarrays
        :class:`~sklearn.model_selection.GridSearchCV`'s layout, one entry per
        candidate, l1_ratio by l1_ratio and increasing ``C`` within one:
        ``param_C``, ``param_l1_ratio``, ``params``, ``split{i}_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``, and
        ``se_test_score`` (``std_test_score / sqrt(n_folds)``).
    best_index_ : int
        The chosen candidate's index in ``cv_results_``.
    rule_indices_ : dict
        The index each rule would pick, ``{"min": ..., "1se": ...}`` (glmnet's
        ``lambda.min`` and ``lambda.1se``); ``best_index_`` is ``rule``'s.
    best_score_ : float
        Its mean score.
    n_splits_ : int
    scorer_ : callable
    coef_path_ : ndarray of shape (n_l1_ratios, n_Cs, n_classes, n_features)
        With ``refit``: the coefficients along each path fitted on all the
        data, in the original feature units (``coef_path_[i, j]`` is the
        model of ``Cs_[i, j]``, ``l1_ratios_[i]``).
    intercept_path_ : ndarray of shape (n_l1_ratios, n_Cs, n_classes)
    best_estimator_ : SoftmaxRegression
        With ``refit``: the final model, fitted on all the data at ``C_`` and
        ``l1_ratio_``; predictions go through it.
    classes_, coef_, intercept_, n_iter_, converged_, objective_history_, solver_
        With ``refit``: the final model's, as for :class:`~softmax.SoftmaxRegression`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Present when ``X`` had string column names.

    See Also
    --------
    softmax.plotting.plot_cv_curve, softmax.plotting.plot_coef_path : pictures of the fit.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegressionCV(Cs=5, cv=3, standardize=True, random_state=0).fit(X, y)
    >>> model.cv_results_["mean_test_score"].shape
    (5,)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "rule": [StrOptions(set(RULES))],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        **{name: PARAMETER_CONSTRAINTS[name] for name in _FIT_OPTIONS if name != "solver"},
        "solver": [StrOptions({"auto"} | {name for name in SOLVERS if name != "sgd"})],
    }

    def __init__(
        self,
        Cs: int | ArrayLike = 20,
        *,
        l1_ratios: ArrayLike | None = None,
        grouped: bool = False,
        cv=5,
        scoring=None,
        rule: str = "min",
        refit: bool = True,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        fit_intercept: bool = True,
        standardize: bool = False,
        label_smoothing: float = 0.0,
        solver: str = "auto",
        max_iter: int = 1000,
        tol: float = 1e-6,
        class_weight: dict | str | None = None,
        penalty_factor: ArrayLike | None = None,
        lower_bounds: float | ArrayLike | None = None,
        upper_bounds: float | ArrayLike | None = None,
    ) -> None:
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.grouped = grouped
        self.cv = cv
        self.scoring = scoring
        self.rule = rule
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.label_smoothing = label_smoothing
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
        offset: ArrayLike | None = None,
    ):  # fmt: skip
        """Cross-validate the grid, pick a candidate and (with ``refit``) fit it on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample in the fits.
        offset : array-like of shape (n_samples, n_classes), optional
            A known part of the scores (``SoftmaxRegression.fit``'s), split
            with the rows: each fold's model is scored with its test rows'
            offset, and the final model needs one at prediction.

        Returns
        -------
        self : SoftmaxRegressionCV

        Raises
        ------
        ValueError
            For fewer than two classes, an invalid ``Cs`` or ``l1_ratios``, an
            L1 part with a solver that has no proximal steps, or a default
            L1 grid on data whose features do not change the loss.
        """
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]
        )
        check_classification_targets(y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        for stale in ("coef_path_", "intercept_path_", "best_estimator_"):  # of an earlier refit
            self.__dict__.pop(stale, None)
        template = SoftmaxRegression(**{name: getattr(self, name) for name in _FIT_OPTIONS})
        classes = np.unique(y)
        if offset is not None:
            offset = offsets.check(offset, X.shape[0], len(classes), X.dtype)
        everything = prepare(template, X, y, sample_weight, classes, offset)  # checks classes
        l1_ratios = self._l1_ratios()
        Cs = self._grid(everything, l1_ratios)
        scorer = self._scorer(template, classes)
        folds = list(self._splitter().split(X, y))
        tasks = [(train, test) for train, test in folds] + ([None] if self.refit else [])
        task = delayed(_fit_paths)
        paths = Parallel(n_jobs=self.n_jobs)(
            task(template, X, y, sample_weight, offset, classes, Cs, l1_ratios, split, scorer)
            for split in tasks
        )
        scores = np.array([[path.scores for path in fold] for fold in paths[: len(folds)]])
        self.Cs_, self.l1_ratios_, self.n_splits_, self.scorer_ = Cs, l1_ratios, len(folds), scorer
        self.cv_results_ = cv_results(Cs, l1_ratios, scores)
        self.rule_indices_ = {rule: select(self.cv_results_, rule) for rule in RULES}
        self.best_index_ = self.rule_indices_[self.rule]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        i, j = divmod(self.best_index_, Cs.shape[1])
        self.C_, self.l1_ratio_ = float(Cs[i, j]), float(l1_ratios[i])
        if self.refit:
            self._set_final_model(template, paths[-1], i, j)
        _warn_unconverged([path for fold in paths for path in fold], self)
        return self

    def _l1_ratios(self) -> NDArray:
        if self.l1_ratios is None:
            return np.zeros(1)
        ratios = np.asarray(self.l1_ratios, dtype=np.float64).ravel()
        if len(ratios) == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
            raise ValueError(
                f"l1_ratios must be a non-empty list of numbers in [0, 1], got {self.l1_ratios!r}"
            )
        return ratios

    def _grid(self, everything, l1_ratios: NDArray) -> NDArray:
        """``Cs_``: one increasing grid per l1_ratio (see ``Cs``)."""
        if not isinstance(self.Cs, Integral):
            Cs = np.sort(np.asarray(self.Cs, dtype=np.float64).ravel())
            if len(Cs) == 0 or not (np.all(np.isfinite(Cs)) and np.all(Cs > 0)):
                raise ValueError(f"Cs must be positive finite numbers, got {self.Cs!r}")
            return np.tile(Cs, (len(l1_ratios), 1))
        return np.array([
            np.logspace(*L2_CS, self.Cs) if ratio == 0
            else smallest_c(everything, ratio, self.grouped) * np.logspace(0, L1_DECADES, self.Cs)
            for ratio in l1_ratios
        ])  # fmt: skip

    def _scorer(self, template, classes: NDArray):
        if self.scoring is not None:
            return check_scoring(template, scoring=self.scoring)
        # "neg_log_loss", told every class: a small validation fold may hold only one.
        return make_scorer(
            log_loss, greater_is_better=False, response_method="predict_proba", labels=classes
        )

    def _splitter(self):
        if self.cv is None or isinstance(self.cv, Integral):
            n_splits = 5 if self.cv is None else self.cv
            return StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        return check_cv(self.cv, classifier=True)

    def _set_final_model(self, template, full: list[RegularizationPath], i: int, j: int) -> None:
        """``coef_path_``, ``best_estimator_`` and the final model's fitted attributes."""
        self.coef_path_ = np.stack([path.coef for path in full])
        self.intercept_path_ = np.stack([path.intercept for path in full])
        best = full[i].estimator(
            template.set_params(l1_ratio=self.l1_ratio_), j, self.n_features_in_,
            getattr(self, "feature_names_in_", None),
        )  # fmt: skip
        if not (np.all(np.isfinite(best.coef_)) and np.all(np.isfinite(best.intercept_))):
            raise FloatingPointError(
                f"the fit on all the data at C={self.C_:g} produced non-finite coefficients; "
                "check the data for extreme values and set standardize=True"
            )
        self.best_estimator_ = best
        # validate_data has set n_features_in_ and feature_names_in_ on self.
        set_fitted(
            self, classes=best.classes_, coef=best.coef_, intercept=best.intercept_,
            n_iter=best.n_iter_, converged=best.converged_,
            objective_history=best.objective_history_, solver=best.solver_,
            offset_used=best.offset_used_,
        )  # fmt: skip

    # -- predictions: the final model's -------------------------------------------------

    @available_if(_has_final_model)
    def decision_function(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """The final model's :meth:`SoftmaxRegression.decision_function`."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X, offset)

    @available_if(_has_final_model)
    def predict_proba(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """The final model's :meth:`SoftmaxRegression.predict_proba`."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X, offset)

    @available_if(_has_final_model)
    def predict_log_proba(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """The final model's :meth:`SoftmaxRegression.predict_log_proba`."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X, offset)

    @available_if(_has_final_model)
    def predict(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """The final model's :meth:`SoftmaxRegression.predict`."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X, offset)


def _fit_paths(
    template, X, y, sample_weight, offset, classes, Cs, l1_ratios, split, scorer
) -> list[RegularizationPath]:
    """One task: every l1_ratio's path on one fold (scored on its test rows), or on all rows.

    The fold's rows are prepared once and shared by its paths; with every
    class of ``y`` (``classes``), so that a fold missing one still predicts it.
    """
    validation = None
    if split is not None:
        train, test = split
        X_test, y_test = _safe_indexing(X, test), y[test]
        X, y, sample_weight = _safe_indexing(X, train), y[train], sample_weight[train]
        if offset is not None:  # scored with the test rows' offset, fitted with the train rows'
            scorer = with_offset(scorer, offset[test])
            offset = offset[train]
        validation = (X_test, y_test, scorer)
    data = prepare(template, X, y, sample_weight, classes, offset)
    return [
        fit_path(clone(template).set_params(l1_ratio=float(r)), data, grid, validation=validation)
        for r, grid in zip(l1_ratios, Cs)
    ]


def _warn_unconverged(paths: list[RegularizationPath], model: SoftmaxRegressionCV) -> None:
    """One ``ConvergenceWarning`` for all the points, of all the paths, that did not converge."""
    failed = [(path.Cs[k], path.gradient_max[k]) for path in paths
              for k in np.flatnonzero(~path.converged)]  # fmt: skip
    if not failed:
        return
    total = sum(len(path.Cs) for path in paths)
    worst = max(gradient for _, gradient in failed)
    Cs = sorted({float(C) for C, _ in failed})
    advice = [f"increase max_iter (now {model.max_iter})"]
    if not model.standardize:
        advice.append("set standardize=True (features on very different scales are the most "
                      "common cause)")
    advice.append(f"drop the largest Cs ({Cs[-1]:.3g} and near it) from the grid")
    advice.append(f"or loosen tol (now {model.tol:g})")
    warnings.warn(
        f"SoftmaxRegressionCV: {len(failed)} of {total} fits along the paths did not converge "
        f"(largest gradient entry {worst:.2e}, above tol={model.tol:g}), at C in "
        f"[{Cs[0]:.3g}, {Cs[-1]:.3g}]. To fix it: " + "; ".join(advice) + ".",
        ConvergenceWarning,
        stacklevel=3,
    )
