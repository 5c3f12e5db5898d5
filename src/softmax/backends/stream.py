"""Stochastic training of :class:`SoftmaxRegression` on data that arrive in pieces.

:func:`partial_fit` takes one chunk at a time (a stream of unknown length);
:func:`fit_chunks` runs epochs over chunks read again and again (an
out-of-core file, the blocks of a Dask array). Both cut each chunk into
mini-batches in a random order and step the optimisers of
:mod:`softmax.solvers.optimizers`; ``fit`` on in-memory data uses the ``SGD``
solver instead, which sees the whole objective.

**The penalty of a stream.** A stream has no known size, so its penalty is
given per sample: with ``alpha`` set, the objective is
``mean CE + alpha / 2 * ||coef||^2`` (scikit-learn ``SGDClassifier``'s
convention), which has the same optimum as ``C = 1 / (alpha * n)`` on ``n``
samples of unit weight (``1 / (alpha * S)`` for total weight ``S``).
``alpha`` wins when both are given: ``C`` is then ignored. ``partial_fit``
needs ``alpha``; ``fit`` and :func:`fit_chunks` fall back on ``C`` and the
total weight when ``alpha`` is None. With ``l1_ratio`` (elastic net) the
strength splits into ``alpha * (1 - l1_ratio)`` for L2 and
``alpha * l1_ratio`` for L1, the latter taken by proximal steps (exact
zeros need ``optimizer="sgd"``: an average of sparse iterates is not sparse).

The training state lives in the model's ``_sgd`` attribute (a
:class:`StochasticRun`): optimiser state, settings and random generator,
which :mod:`softmax.io.model_file` saves so that a loaded model continues
exactly where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..loss.linear import LinearModelLoss
from ..penalties import L1, L2, GroupL1
from ..solvers import IterationInfo
from ..solvers import optimizers as optim

__all__ = ["StochasticRun", "fit_chunks", "partial_fit", "resolve_alpha"]

#: Arrays of the optimiser state, as stored in a model file.
STATE_ARRAYS = ("w", "m", "v", "w_avg")


@dataclass
class StochasticRun:
    """Where stochastic training of one model stands.

    Attributes
    ----------
    config : SGDConfig
        Optimiser settings, fixed when the run starts.
    state : SGDState
        Optimiser state; ``state.w`` has shape (n_classes * (n_features + fit_intercept),).
    rng : numpy.random.Generator
        PCG64; shuffles the rows of each chunk (and the chunks' order for Dask).
    l1 : float
        Per-sample L1 strength (elastic net), 0 for none.
    grouped : bool
        Whether the L1 part is the grouped lasso (one group per feature).
    """

    config: optim.SGDConfig
    state: optim.SGDState
    rng: np.random.Generator
    l1: float = 0.0
    grouped: bool = False

    def steps(
        self, linear_loss: LinearModelLoss, X, y: NDArray, sw: NDArray, batch_size: int,
        progress=None,
    ) -> tuple[float, float]:
        """Mini-batch steps over one chunk, in a random order.

        Returns the weighted sum of the batches' mean objectives (each taken
        before its step: a progressive estimate) and the weight summed.
        """
        smooth = L2(self.config.alpha)
        prox = _l1_prox(linear_loss, self.l1, self.grouped) if self.l1 > 0 else None
        order = self.rng.permutation(X.shape[0])
        loss_sum = weight_sum = 0.0
        for rows in optim.batches(order, batch_size):
            s = sw[rows]
            weight = float(s.sum(dtype=np.float64))
            if not weight > 0:
                continue
            value, grad = optim.batch_value_grad(
                linear_loss, smooth, self.state.w, X[rows], y[rows], s, weight
            )
            self.state = optim.update(self.state, grad, self.config, prox)
            loss_sum += weight * value
            weight_sum += weight
            if progress is not None:
                progress.advance(len(rows), value)
        return loss_sum, weight_sum

    def solution(self) -> NDArray:
        return optim.solution(self.state, self.config)

    # -- saving and restoring (see softmax.io.model_file) ------------------------------------

    def to_file(self) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Arrays (float64, non-empty ones) and JSON fields that describe the run."""
        arrays = {
            f"sgd_{name}": getattr(self.state, name)
            for name in STATE_ARRAYS
            if getattr(self.state, name).size
        }
        fields = {
            "config": self.config._asdict(),
            "t": int(self.state.t),
            "l1": float(self.l1),
            "grouped": bool(self.grouped),
            "rng": self.rng.bit_generator.state,
        }
        return arrays, fields

    @classmethod
    def from_file(
        cls, fields: dict[str, Any], arrays: dict[str, NDArray], n_params: int
    ) -> StochasticRun:
        """Inverse of :meth:`to_file`; raises ValueError on anything inconsistent."""
        if set(fields) != {"config", "t", "l1", "grouped", "rng"}:
            raise ValueError("unexpected fields")
        config = optim.SGDConfig(**fields["config"])
        optim.check_config(config)
        if not all(isinstance(v, float) for v in config[2:]):
            raise ValueError("non-float optimiser setting")
        t, l1, grouped = fields["t"], fields["l1"], fields["grouped"]
        if type(t) is not int or t < 0 or not isinstance(l1, float) or not l1 >= 0:
            raise ValueError("bad step count or L1 strength")
        if not isinstance(grouped, bool):
            raise ValueError("bad grouped flag")
        rng_state = fields["rng"]
        # Only PCG64 is ever written; never instantiate a class named in a file.
        if not isinstance(rng_state, dict) or rng_state.get("bit_generator") != "PCG64":
            raise ValueError("unknown random generator")
        bit_generator = np.random.PCG64()
        bit_generator.state = rng_state
        template = optim.init(np.zeros(n_params), config)
        parts = {}
        for name in STATE_ARRAYS:
            expected = getattr(template, name).shape
            array = arrays.get(f"sgd_{name}", np.zeros(0))
            if array.shape != expected or array.dtype != np.float64:
                raise ValueError(f"optimiser array {name} has the wrong shape")
            parts[name] = np.array(array)
        state = optim.SGDState(parts["w"], t, parts["m"], parts["v"], parts["w_avg"])
        return cls(config, state, np.random.Generator(bit_generator), l1, grouped)


def resolve_alpha(model, total_weight: float | None) -> float:
    """Per-sample penalty strength: ``alpha``, else ``1 / (C * total_weight)``.

    Raises
    ------
    ValueError
        If ``alpha`` is None and the total weight is unknown (a stream).
    """
    if model.alpha is not None:
        return float(model.alpha)
    if total_weight is None:
        raise ValueError(
            "partial_fit needs alpha: a stream has no known size, so its penalty is per "
            "sample, mean CE + alpha/2 * ||coef||^2. Set alpha (alpha = 1 / (C * n) matches "
            "C on n samples; alpha=0 means no penalty)."
        )
    return 0.0 if math.isinf(model.C) else 1.0 / (model.C * total_weight)


def _l1_prox(linear_loss: LinearModelLoss, strength: float, grouped: bool) -> Callable:
    l1 = GroupL1(strength) if grouped else L1(strength)

    def prox(w: NDArray, step: float) -> NDArray:
        out = w.copy()
        coef = linear_loss.coef_view(out)
        coef[...] = l1.prox(coef, step)
        return out

    return prox


def start_run(model, n_classes: int, X, total_weight: float | None, w0=None) -> StochasticRun:
    """A fresh :class:`StochasticRun` from the model's parameters.

    ``X`` (the first chunk, shape (rows, n_features)) sets the default step
    ``1 / L`` (:func:`softmax.solvers.optimizers.curvature_bound`) when
    ``learning_rate`` is None.
    """
    alpha = resolve_alpha(model, total_weight)
    l1_ratio = float(getattr(model, "l1_ratio", None) or 0.0)
    l2 = alpha * (1.0 - l1_ratio)
    optimizer = model.optimizer
    eta0 = model.learning_rate
    if eta0 is None:
        eta0 = optim.default_step(optimizer, optim.curvature_bound(X, model.fit_intercept), l2)
    config = optim.SGDConfig(optimizer, model.schedule, float(eta0), l2)
    n_features = X.shape[1]
    n_params = n_classes * (n_features + int(model.fit_intercept))
    w0 = np.zeros(n_params) if w0 is None else w0
    rng = optim.make_rng(model.random_state)
    grouped = bool(getattr(model, "grouped", False))
    return StochasticRun(config, optim.init(w0, config), rng, alpha * l1_ratio, grouped)


def _linear_loss(model, n_classes: int, n_features: int) -> LinearModelLoss:
    # One thread: a mini-batch is too small to share, and threads would only add overhead.
    return LinearModelLoss(n_classes, n_features, model.fit_intercept, n_threads=1)


def _publish(model, run: StochasticRun, linear_loss: LinearModelLoss, dtype) -> None:
    """Set ``coef_`` and ``intercept_`` from the run, centred as ``fit`` reports them."""
    coef, intercept = linear_loss.unpack(run.solution())
    if run.l1 == 0:  # with an L1 part, centring would destroy the exact zeros
        coef = coef - coef.mean(axis=0)
    model.coef_ = coef.astype(dtype)
    model.intercept_ = (intercept - intercept.mean()).astype(dtype)


def _codes(model, y: NDArray) -> NDArray:
    """Class codes of ``y`` in ``model.classes_``; a clear error for unseen labels."""
    classes = model.classes_
    codes = np.searchsorted(classes, y)
    codes = np.minimum(codes, len(classes) - 1)
    unseen = classes[codes] != y
    if np.any(unseen):
        labels = sorted(set(np.asarray(y)[unseen].tolist()), key=str)
        raise ValueError(
            f"y contains label(s) {labels[:10]} that are not in classes_ "
            f"{classes.tolist()}: pass every label with classes= in the first call to "
            "partial_fit."
        )
    return codes


def _weights(model, y_codes: NDArray, sample_weight, X) -> NDArray:
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    class_weight = model.class_weight
    if class_weight is None:
        return sw
    if class_weight == "balanced":
        raise ValueError(
            "class_weight='balanced' needs the class counts of all the data, which a stream "
            "does not have; pass a dict of class weights to partial_fit's model instead."
        )
    per_class = np.array([class_weight.get(c, 1.0) for c in model.classes_.tolist()])
    return sw * per_class[y_codes].astype(X.dtype)


def partial_fit(model, X, y, classes=None, sample_weight=None):
    """One chunk of a stream; see :meth:`SoftmaxRegression.partial_fit`."""
    run: StochasticRun | None = getattr(model, "_sgd", None)
    first = run is None
    X, y = validate_data(
        model, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], reset=first
    )
    check_classification_targets(y)
    if first:
        classes = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if len(classes) < 2:
            raise ValueError(
                f"partial_fit needs at least 2 classes, but the first chunk has only "
                f"{classes.tolist()}; pass every label with classes= in the first call."
            )
        w0 = None
        fitted = getattr(model, "classes_", None)
        same = fitted is not None and np.array_equal(fitted, classes)
        if same and model.coef_.shape[1] == X.shape[1]:
            # After fit: continue from its coefficients (warm start), with fresh optimiser state.
            w0 = LinearModelLoss(len(classes), X.shape[1], model.fit_intercept).pack(
                model.coef_.astype(np.float64), model.intercept_.astype(np.float64)
            )
        model.classes_ = classes
        run = start_run(model, len(classes), X, None, w0)
        model.n_iter_ = 0
        model.objective_history_ = np.zeros(0)
        model.__dict__.pop("beta_", None)
    elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), model.classes_):
        raise ValueError(
            f"classes={np.unique(np.asarray(classes)).tolist()} is not the same as in the first "
            f"call to partial_fit: {model.classes_.tolist()}."
        )
    elif run.config.optimizer != model.optimizer:
        raise ValueError(
            f"optimizer changed from {run.config.optimizer!r} to {model.optimizer!r} since the "
            "first call to partial_fit; call fit to start again."
        )
    codes = _codes(model, y)
    sw = _weights(model, codes, sample_weight, X)
    linear_loss = _linear_loss(model, len(model.classes_), X.shape[1])
    loss_sum, weight_sum = run.steps(linear_loss, X, codes, sw, model.batch_size)
    if not np.all(np.isfinite(run.state.w)):
        raise FloatingPointError(
            "stochastic training diverged (non-finite coefficients): lower learning_rate "
            "or standardise the features"
        )
    model._sgd = run
    _publish(model, run, linear_loss, X.dtype)
    model.n_iter_ += 1
    model.converged_ = False  # a stream has no end to converge at
    mean = loss_sum / weight_sum if weight_sum > 0 else math.nan
    model.objective_history_ = np.append(model.objective_history_, mean)
    return model


def fit_chunks(
    model,
    make_chunks: Callable[[np.random.Generator], Iterable[tuple[Any, NDArray, NDArray | None]]],
    classes: NDArray,
    n_features: int,
    *,
    total_weight: float | None = None,
    total_rows: int | None = None,
    feature_names: list[str] | None = None,
    dtype=np.float64,
    progress: bool = False,
):
    """Fit ``model`` by epochs of mini-batch steps over chunks read afresh each epoch.

    Parameters
    ----------
    model : SoftmaxRegression
        Its ``optimizer``, ``schedule``, ``learning_rate``, ``batch_size``,
        ``alpha`` (or ``C``), ``max_iter`` (epochs), ``tol``,
        ``n_iter_no_change``, ``random_state``, ``class_weight`` (a dict) and
        ``callback`` are used.
    make_chunks : callable
        ``make_chunks(rng)`` returns an iterable of ``(X, y, sample_weight)``
        with ``X`` of shape (rows, n_features), ``y`` labels (values of
        ``classes``) and weights of shape (rows,) or None; ``rng`` may shuffle
        the order of the chunks.
    classes : ndarray of shape (n_classes,)
        Every label (sorted).
    n_features : int
    total_weight : float, optional
        Needed when ``model.alpha`` is None, to turn ``C`` into a per-sample strength.
    total_rows : int, optional
        For the progress bar.
    feature_names : list of str, optional
    dtype : float32 or float64
        Of the reported coefficients.
    progress : bool
        Show rows, rows/s and loss on stderr.

    Returns
    -------
    model
        With ``coef_``, ``intercept_``, ``classes_``, ``n_iter_`` (epochs),
        ``converged_``, ``objective_history_`` (progressive mean objective of
        each epoch) and the run in ``_sgd`` (so ``partial_fit`` may continue).
    """
    from .._progress import RowProgress

    classes = np.asarray(classes)
    model.__dict__.pop("beta_", None)
    model.classes_ = classes
    model.n_features_in_ = n_features
    if feature_names is not None:
        model.feature_names_in_ = np.asarray(feature_names, dtype=object)
    else:
        model.__dict__.pop("feature_names_in_", None)
    run = None
    linear_loss = _linear_loss(model, len(classes), n_features)
    # The run's generator shuffles rows; one seeded alongside orders the chunks.
    rng = optim.make_rng(model.random_state).spawn(1)[0]
    history: list[float] = []
    best, stale, converged = math.inf, 0, False
    hook = model._iteration_hook()
    total = None if total_rows is None else total_rows * model.max_iter
    with RowProgress(total, "sgd", enabled=progress) as bar:
        for epoch in range(1, model.max_iter + 1):
            loss_sum = weight_sum = 0.0
            for X, y, sample_weight in make_chunks(rng):
                X = np.asarray(X) if not hasattr(X, "tocsr") else X.tocsr()
                codes = _codes(model, np.asarray(y))
                sw = _weights(model, codes, sample_weight, X)
                if run is None:  # the first chunk sets the default step
                    run = start_run(model, len(classes), X, total_weight)
                ls, ws = run.steps(linear_loss, X, codes, sw, model.batch_size, bar)
                loss_sum, weight_sum = loss_sum + ls, weight_sum + ws
            if run is None:
                raise ValueError("there is no data to fit: the chunks are empty")
            value = loss_sum / weight_sum if weight_sum > 0 else math.nan
            history.append(value)
            if hook is not None:
                hook(IterationInfo(epoch, value, math.nan))
            if not math.isfinite(value) or not np.all(np.isfinite(run.state.w)):
                raise FloatingPointError(
                    "stochastic training diverged: lower learning_rate or standardise the features"
                )
            stale = 0 if value < best - model.tol else stale + 1
            best = min(best, value)
            if stale >= model.n_iter_no_change:
                converged = True
                break
    model._sgd = run
    _publish(model, run, linear_loss, dtype)
    model.n_iter_ = epoch
    model.converged_ = converged
    model.objective_history_ = np.asarray(history, dtype=np.float64)
    return model
