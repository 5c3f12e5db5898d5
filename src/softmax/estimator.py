"""SoftmaxRegression: the scikit-learn estimator. It validates and wires the layers."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils.metaestimators import available_if

from .model import device, predictions, stochastic, training
from .model import offset as offsets
from .model.calibration import CalibrationMixin
from .model.design import FormulaMixin
from .model.export import ExportMixin
from .model.fitted import HostArray, register
from .model.parameters import PARAMETER_CONSTRAINTS
from .solvers import IterationInfo

__all__ = ["SoftmaxRegression"]

#: ``__init__``'s parameter names per class (subclasses included).
_PARAM_NAMES: dict[type, list[str]] = {}


@register
class SoftmaxRegression(
    FormulaMixin, ExportMixin, CalibrationMixin, ClassifierMixin, BaseEstimator
):
    """Softmax regression (multinomial logistic regression).

    A linear model gives each class a score ``z_k = x . coef_[k] + intercept_[k]``;
    softmax turns the scores into probabilities, and the class with the largest
    probability is predicted. Training minimises the weighted cross-entropy
    plus a ridge penalty::

        sum_i s_i * CE(y_i, softmax(z_i)) + ||coef_||^2 / (2 * C)

    which is exactly scikit-learn ``LogisticRegression``'s multinomial
    objective for the same ``C`` (the intercept is not penalised).
    The coefficient layout is documented once, in
    :class:`softmax.loss.linear.LinearModelLoss`.

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
        classes must not be separable for a finite optimum to exist; separated
        classes are named in a warning). Ignored when ``alpha`` is set.
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
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing on scikit-learn's scale: the penalty is
        ``((1 - l1_ratio) / 2 * ||coef_||^2 + l1_ratio * ||coef_||_1) / C``.
        Any ``l1_ratio > 0`` needs ``solver="prox-newton"`` (or ``"auto"``).
        With an L1 part, ``coef_`` is the optimum itself (rows are not
        re-centred, which would destroy its zeros).
    grouped : bool, default=False
        Replace the L1 norm by the sum over features of each feature's norm
        across classes (glmnet's grouped multinomial lasso): a feature is in
        or out for all classes at once.
    label_smoothing : float in [0, 1), default=0.0
        Train on ``(1 - label_smoothing) * onehot + label_smoothing / n_classes``
        instead of the one-hot labels (PyTorch's ``CrossEntropyLoss``
        convention), which keeps probabilities away from 0 and 1.
    solver : {"auto", "lbfgs", "gd", "newton-cg", "newton-cholesky", "prox-newton", "sgd"}, \
default="auto"
        ``"auto"`` (the default) picks the solver measured fastest for the
        problem (:mod:`softmax.solvers._auto`): ``"prox-newton"`` for
        ``l1_ratio > 0``; for dense input, ``"newton-cholesky"`` up to 100
        parameters ``n_classes * (n_features + 1)`` (with or without a
        penalty), then ``"lbfgs"`` for at most 3 classes with a penalty;
        ``"newton-cg"`` otherwise (sparse input too). ``solver_`` names it.
        ``"lbfgs"``: limited-memory BFGS.
        ``"newton-cg"``: truncated Newton with Hessian-vector products.
        ``"newton-cholesky"``: Newton with the full Hessian, for few parameters.
        ``"prox-newton"``: proximal Newton with coordinate descent on working
        sets, for L1 and grouped penalties.
        ``"gd"``: plain gradient descent, as in the founding article; with a
        backtracking line search unless ``learning_rate`` is given.
        ``"sgd"``: mini-batch stochastic optimisation (``optimizer``,
        ``schedule``, ``batch_size``), for large data and streams; it also
        enables :meth:`partial_fit`. ``max_iter`` then counts epochs.
    max_iter : int, default=1000
        Maximum number of solver iterations; 0 returns the starting point.
    tol : float, default=1e-6
        Stop when the largest absolute entry of the gradient of the mean
        objective (the objective above divided by the total sample weight)
        is at most ``tol``.
    learning_rate : float or None, default=None
        Fixed step size for ``solver="gd"``; ``None`` uses a line search.
        For ``solver="sgd"``, the initial step ``eta0`` of the schedule;
        ``None`` means ``1 / L``, with ``L`` a bound on the curvature of the
        mean loss estimated from the data (times ``1 - 0.9`` for
        ``"momentum"``; ``0.01`` for ``"adam"``), which is stable whatever
        the scale of the features. Other solvers do not take it.
    class_weight : dict, "balanced" or None, default=None
        Weights multiplying ``sample_weight`` by class. ``"balanced"`` uses
        ``n_samples / (n_classes * np.bincount(y))``, with the counts weighted
        by ``sample_weight`` when given (as scikit-learn does).
    warm_start : bool, default=False
        Start from the previous solution when refitting on the same classes
        and features.
    verbose : int, default=0
        When positive, print the solver and why, then one line per iteration.
    callback : callable or None, default=None
        Called after each iteration with a
        :class:`softmax.solvers.IterationInfo` (iteration, objective,
        gradient_max); used for progress bars.
    alpha : float or None, default=None
        Penalty per sample: the objective becomes
        ``mean CE + alpha / 2 * ||coef_||^2`` (scikit-learn ``SGDClassifier``'s
        convention). On ``n`` samples of unit weight this is the optimum of
        ``C = 1 / (alpha * n)`` (``1 / (alpha * S)`` for total weight ``S``).
        When set, ``alpha`` wins and ``C`` is ignored, for every solver.
        A stream has no known size, so :meth:`partial_fit` needs ``alpha``.
    batch_size : int, default=256
        Rows per stochastic step (``solver="sgd"``).
    optimizer : {"sgd", "momentum", "adam", "asgd"}, default="asgd"
        Stochastic optimiser (``solver="sgd"``): plain SGD, heavy-ball
        momentum, Adam, or averaged SGD. The default, averaged SGD, answers
        with a (recent-weighted) average of the iterates, which cancels much
        of the gradient noise: it gets closest to the optimum for a given
        number of steps. See :mod:`softmax.solvers.optimizers`.
    schedule : {"constant", "invscaling", "optimal"}, default="optimal"
        Step sizes ``eta_t`` for ``solver="sgd"``: ``eta0``,
        ``eta0 / (1 + t) ** 0.5``, or ``eta0 / (1 + alpha * eta0 * t)``
        (Bottou's schedule for an ``alpha``-strongly convex objective: it
        decays once ``t`` is of the order of ``1 / (alpha * eta0)``; without a
        penalty it is constant). ``t`` counts steps.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the shuffling of ``solver="sgd"`` and ``partial_fit``: the same
        seed gives the same model, and a saved model resumes its stream of
        random numbers exactly.
    early_stopping : bool, default=False
        ``solver="sgd"``: hold out ``validation_fraction`` of the rows and
        stop when their log-loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, keeping the best coefficients: a stop
        asked for, so converged (as in scikit-learn's ``SGDClassifier``).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
        ``solver="sgd"`` stops when the objective, or the validation loss
        with ``early_stopping``, has not improved by more than ``tol`` for
        this many epochs. Without ``early_stopping`` that is a stall: not
        converged, with a warning (streams of chunks count it as converged).
    formula : str or None, default=None
        A formulaic formula such as ``"species ~ bill_length_mm + C(island)"``;
        see :meth:`from_formula` and :mod:`softmax.model.formula`.
    handle_unknown : {"warn", "error"}, default="warn"
        A category not seen in training: all-zero indicators and an
        ``UnknownCategoryWarning``, or an ``UnknownCategoryError``.
    penalty_factor : array-like of shape (n_features,) or None, default=None
        glmnet's ``penalty.factor``: the penalty (L2, L1, elastic net,
        grouped) of feature ``j`` is multiplied by ``penalty_factor[j] >= 0``;
        0 leaves it unpenalised. Used as given, so all ones is no factor
        (glmnet rescales the factors to sum to ``n_features``, which changes
        the meaning of ``C``). With ``standardize=True`` it weighs the
        standardised coefficients, as in glmnet. Arrays in memory only.
    lower_bounds, upper_bounds : float, array-like or None, default=None
        glmnet's ``lower.limits`` and ``upper.limits``: box constraints on
        ``coef_`` (not ``intercept_``) in the original units, a number or an
        array broadcasting to ``(n_classes, n_features)``. They need
        ``solver="lbfgs"`` (L-BFGS-B; ``"auto"`` picks it) and ``l1_ratio=0``;
        only columns of ``coef_`` without bounds are then re-centred. Arrays
        in memory only (:mod:`softmax.model.glmnet`).

    Tables: ``X`` may be a pandas DataFrame with text, categorical and boolean
    columns, one-hot encoded as :mod:`softmax.model.columns` says. Large data:
    ``fit`` also takes Dask arrays and DataFrames (:mod:`softmax.backends.dask`)
    and streams of chunks (:class:`softmax.backends.stream.ChunkStream`);
    :meth:`partial_fit` trains on one chunk at a time. GPU: under scikit-learn's
    ``array_api_dispatch``, PyTorch or CuPy arrays are fitted and predicted on
    their device, and ``coef_``, ``intercept_`` and ``n_iter_`` live there too
    (:mod:`softmax.model.device` lists what is supported).

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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Present when ``X`` had string column names (the input columns).
    feature_encoding_ : ColumnEncoding, FormulaDesign or None
        How the columns of ``X`` become the columns of ``coef_``; None for numbers.
    feature_names_out_ : ndarray of shape (n_features,)
        Names of the columns of ``coef_``: ``island[Dream]``, ``C(island)[T.Dream]``.
    n_iter_ : ndarray of shape (1,), dtype int32
        Iterations (epochs for ``"sgd"``, :meth:`partial_fit` calls), as
        scikit-learn's ``n_iter_``.
    converged_ : bool
        Whether the last ``fit`` met ``tol``, or stopped at the rounding
        level of the data's dtype.
    objective_history_ : ndarray of shape (n_iter_[0] + 1,)
        Mean objective (see ``tol``) at the start and after each iteration.
    solver_ : str
        The solver that ran (what ``"auto"`` chose; ``verbose`` says why).
    sgd_state_ : softmax.backends.stream.StochasticRun
        The stochastic training state (optimiser state and settings, random
        generator) after :meth:`partial_fit` or a stochastic fit on chunks or
        Dask blocks, so that training can continue; saved with the model
        (:meth:`StochasticRun.to_file`). Absent after other fits.
    offset_used_ : bool
        Whether ``fit`` had an ``offset``; then predictions need one.
    beta_ : float
        Inverse temperature fitted by :meth:`calibrate` on held-out data;
        probabilities are ``softmax(beta_ * scores)``. Absent until
        ``calibrate`` is called (then 1 is used); ``fit`` removes it.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression().fit(X, y)
    >>> model.predict_proba(X[:1]).round(3)
    array([[0.982, 0.018, 0.   ]])
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS
    objective_history_ = HostArray(np.float64)
    feature_names_out_ = HostArray(object)

    def __init__(
        self,
        C: float = 1.0,
        *,
        fit_intercept: bool = True,
        standardize: bool = False,
        l1_ratio: float = 0.0,
        grouped: bool = False,
        label_smoothing: float = 0.0,
        solver: str = "auto",
        max_iter: int = 1000,
        tol: float = 1e-6,
        learning_rate: float | None = None,
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        callback: Callable[[IterationInfo], None] | None = None,
        alpha: float | None = None,
        batch_size: int = 256,
        optimizer: str = "asgd",
        schedule: str = "optimal",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        formula: str | None = None,
        handle_unknown: str = "warn",
        penalty_factor: ArrayLike | None = None,
        lower_bounds: float | ArrayLike | None = None,
        upper_bounds: float | ArrayLike | None = None,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.l1_ratio = l1_ratio
        self.grouped = grouped
        self.label_smoothing = label_smoothing
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.callback = callback
        self.alpha = alpha
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.schedule = schedule
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.formula = formula
        self.handle_unknown = handle_unknown
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # scikit-learn reads __init__'s signature on every get_params (0.13 ms,
        # and every fit's parameter validation calls it); a class's never changes.
        if cls not in _PARAM_NAMES:
            _PARAM_NAMES[cls] = super()._get_param_names()
        return list(_PARAM_NAMES[cls])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = not device.unsupported(self)
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
        offset: ArrayLike | None = None,
    ):  # fmt: skip
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is computed in float32. A Dask array
            or DataFrame stays on its workers; a
            :class:`softmax.backends.stream.ChunkStream` is read chunk by
            chunk each epoch (``solver="sgd"``, ``y=None``).
        y : array-like of shape (n_samples,), or (n_samples, n_classes)
            Class labels (strings or numbers; at least two classes), or soft
            targets: one probability vector per row (a DataFrame's column
            names become ``classes_``, otherwise ``0 .. n_classes - 1``); None
            when the ``formula`` names the label column.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample.
        offset : array-like of shape (n_samples, n_classes), optional
            glmnet's ``offset``, a known part of the scores: they become
            ``X @ coef_.T + intercept_ + offset`` (columns in ``classes_``
            order). Predictions then need the new rows' offset (``offset_used_``).
            Arrays in memory and full-batch solvers only (:mod:`softmax.model.offset`).

        Returns
        -------
        self : SoftmaxRegression
        """
        return training.fit(self, X, y, sample_weight, offset)

    def _sgd_solver(self) -> bool:
        if self.solver != "sgd":
            raise AttributeError(
                f"partial_fit needs solver='sgd', not solver={self.solver!r}"
            )
        return True

    @available_if(_sgd_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Train on one chunk of a stream: mini-batch steps over it, in a random order.

        Only with ``solver="sgd"``. Each call cuts the chunk into batches of
        ``batch_size`` rows, visits them in an order drawn from the model's
        generator (seeded by ``random_state``) and takes one ``optimizer`` step
        per batch on ``mean CE + alpha / 2 * ||coef_||^2``: ``alpha`` is
        required, since a stream has no known size to turn ``C`` into a
        per-sample penalty (``alpha = 1 / (C * n)`` matches ``C`` on ``n``
        samples). The optimiser state and the generator are kept, and saved
        by :meth:`save`, so a loaded model continues exactly where it stopped.
        After :meth:`fit`, the first call continues from ``coef_`` with a
        fresh optimiser.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), optional
            Every label the stream will contain. Needed in the first call
            unless that chunk has them all; a later label not in ``classes_``
            is an error. Later calls may repeat it unchanged.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : SoftmaxRegression
            ``n_iter_`` counts the calls, ``objective_history_`` has one
            progressive mean objective per call (each batch's, before its
            step), and ``converged_`` is False (a stream has no end).
        """
        return stochastic.partial_fit(self, X, y, classes, sample_weight)

    def decision_function(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """Class scores ``X @ coef_.T + intercept_`` (``+ offset``, given iff ``offset_used_``).

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the log-odds ``z_1 - z_0`` of ``classes_[1]``.
        """
        return predictions.predict(self, "decision_function", X, offset)

    def predict_proba(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order.

        ``softmax(beta_ * scores)``, with ``beta_`` set by :meth:`calibrate` (1 before).
        """
        return predictions.predict(self, "predict_proba", X, offset)

    def predict_log_proba(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """Log of :meth:`predict_proba`, computed stably, shape (n_samples, n_classes)."""
        return predictions.predict(self, "predict_log_proba", X, offset)

    def predict(self, X: ArrayLike, offset: ArrayLike | None = None) -> NDArray:
        """Most probable class for each sample, shape (n_samples,)."""
        return predictions.predict(self, "predict", X, offset)

    def save(
        self, path: str | os.PathLike, *, extra: dict | None = None, key: bytes | str | None = None
    ):
        """Write the fitted model to one safe file (no pickle); see :func:`softmax.load`.

        Parameters
        ----------
        path : str or path-like
            Any file name; the write is atomic.
        extra : dict, optional
            JSON-able training summary stored with the model.
        key : bytes or str, optional
            Sign the file (HMAC-SHA256) with this secret; ``softmax.load(path,
            key=...)`` then refuses files not signed with it.

        Returns
        -------
        path : pathlib.Path
        """
        from .io.model_file import save

        device.refuse(self, "save")

        return save(self, path, extra=extra, key=key)

    def inference(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
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
        ``y`` may be None when the ``formula`` names the label column of ``X``.
        """
        from .inference.results import inference

        device.refuse(self, "inference", X)
        offsets.refuse_fitted(self, "inference")

        return inference(
            self, X, y, sample_weight, cov_type, reference, groups,
            weights_kind=weights_kind, separation=separation,
        )
