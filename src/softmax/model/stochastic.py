"""Stochastic training through the estimator: epochs over chunks, and ``partial_fit``.

The optimiser's run (:class:`softmax.backends.stream.StochasticRun`) is
created from the problem's per-sample penalties
(:func:`softmax.model.problem.penalties`) and kept on the model as
``sgd_state_`` so that ``partial_fit`` (or a loaded model) can continue it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..backends.stream import StochasticRun, run_epochs
from ..loss.linear import LinearModelLoss
from ..loss.rows import MemoryRows
from ..solvers import optimizers as optim
from . import device, glmnet
from . import offset as offsets
from .design import require_numeric
from .fitted import set_fitted
from .problem import class_weights, initial_point, label_codes, penalties, report
from .report import iteration_hook

__all__ = ["chunk_rows", "fit_stochastic", "partial_fit"]


def chunk_rows(X, y: NDArray, sample_weight, classes: NDArray, per_class: NDArray | None):
    """A chunk as rows: class codes, and weights with the class weights applied."""
    codes = label_codes(classes, y)
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    if per_class is not None:
        sw = sw * per_class[codes].astype(X.dtype)
    return MemoryRows(X, codes, sw)


def _linear_loss(model, n_classes: int, n_features: int) -> LinearModelLoss:
    # One thread: a mini-batch is too small to share, and threads would only add overhead.
    return LinearModelLoss(n_classes, n_features, model.fit_intercept, n_threads=1)


def _start(model, linear_loss, classes: NDArray, total_weight: float | None, *, warm: bool):
    """``start(first_chunk)``: a fresh run with the model's settings."""
    smooth, nonsmooth = penalties(model, total_weight, per_sample=True)
    w0 = initial_point(model, linear_loss, classes, warm=warm)

    def start(rows: MemoryRows) -> StochasticRun:
        return StochasticRun.start(
            optimizer=model.optimizer, schedule=model.schedule,
            learning_rate=model.learning_rate, l2=smooth.strength,
            l1=0.0 if nonsmooth is None else nonsmooth.strength, grouped=bool(model.grouped),
            random_state=model.random_state, w0=w0, first_chunk=rows.X,
            fit_intercept=model.fit_intercept,
        )  # fmt: skip

    return start


def fit_stochastic(
    model,
    chunks: Callable[[np.random.Generator], Iterable[MemoryRows]],
    classes: NDArray,
    n_features: int,
    *,
    total_weight: float | None,
    total_rows: int | None,
    feature_names,
    dtype,
    progress: bool,
):
    """Epochs of mini-batch steps over ``chunks(rng)``; see :func:`softmax.backends.stream.fit_chunks`."""
    linear_loss = _linear_loss(model, len(classes), n_features)
    start = _start(model, linear_loss, classes, total_weight, warm=model.warm_start)
    # The run's generator shuffles rows; one seeded alongside orders the chunks.
    rng = optim.make_rng(model.random_state).spawn(1)[0]
    epochs = run_epochs(
        chunks, start, linear_loss, rng=rng, batch_size=model.batch_size,
        max_iter=model.max_iter, tol=model.tol, n_iter_no_change=model.n_iter_no_change,
        callback=iteration_hook(model), total_rows=total_rows, progress=progress,
    )  # fmt: skip
    # With an L1 part, centring would destroy the exact zeros.
    coef, intercept = report(linear_loss, epochs.run.solution(), dtype, centre=epochs.run.l1 == 0)
    set_fitted(
        model, classes=classes, coef=coef, intercept=intercept, n_iter=epochs.n_epochs,
        converged=epochs.converged, objective_history=epochs.history, n_features=n_features,
        feature_names=feature_names, sgd_state=epochs.run, solver="sgd",
    )  # fmt: skip
    return model


def partial_fit(model, X, y, classes=None, sample_weight=None):
    """One chunk of a stream; see :meth:`SoftmaxRegression.partial_fit`."""
    device.refuse(model, "partial_fit", X)
    glmnet.refuse(model, "partial_fit")
    offsets.refuse_fitted(model, "partial_fit")  # it would continue without the offset
    require_numeric(model, X, "partial_fit")
    run: StochasticRun | None = getattr(model, "sgd_state_", None)
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
        linear_loss = _linear_loss(model, len(classes), X.shape[1])
        # After fit: continue from its coefficients (warm start), with fresh optimiser state.
        start = _start(model, linear_loss, classes, None, warm=True)
        n_iter, history, beta = 0, np.zeros(0), None
    else:
        if classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), model.classes_
        ):
            raise ValueError(
                f"classes={np.unique(np.asarray(classes)).tolist()} is not the same as in the "
                f"first call to partial_fit: {model.classes_.tolist()}."
            )
        if run.config.optimizer != model.optimizer:
            raise ValueError(
                f"optimizer changed from {run.config.optimizer!r} to {model.optimizer!r} since "
                "the first call to partial_fit; call fit to start again."
            )
        classes = model.classes_
        linear_loss = _linear_loss(model, len(classes), X.shape[1])
        n_iter, history = int(model.n_iter_[0]), model.objective_history_
        beta = getattr(model, "beta_", None)
    rows = chunk_rows(X, y, sample_weight, classes, class_weights(model.class_weight, classes, None))
    if first:
        run = start(rows)
    loss_sum, weight_sum = run.steps(linear_loss, rows, model.batch_size)
    if not np.all(np.isfinite(run.state.w)):
        raise FloatingPointError(
            "stochastic training diverged (non-finite coefficients): lower learning_rate "
            "or standardise the features"
        )
    coef, intercept = report(linear_loss, run.solution(), X.dtype, centre=run.l1 == 0)
    mean = loss_sum / weight_sum if weight_sum > 0 else math.nan
    set_fitted(
        model, classes=classes, coef=coef, intercept=intercept, n_iter=n_iter + 1,
        converged=False,  # a stream has no end to converge at
        objective_history=np.append(history, mean), sgd_state=run, beta=beta, solver="sgd",
    )  # fmt: skip
    return model
