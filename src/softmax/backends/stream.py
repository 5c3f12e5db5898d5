"""Stochastic training on rows that arrive in pieces: chunks of a stream, blocks of Dask.

:class:`StochasticRun` is where stochastic training of one model stands
(optimiser state, settings, random generator); it cuts each chunk into
mini-batches in a random order and steps the optimisers of
:mod:`softmax.solvers.optimizers` on an :class:`~softmax.loss.objective.Objective`
over the chunk. :func:`run_epochs` runs epochs over chunks read again and
again (an out-of-core file, the blocks of a Dask array);
``SoftmaxRegression.partial_fit`` steps a run over one chunk per call. A
fitted model keeps its run as ``sgd_state_``, which
:mod:`softmax.io.model_file` saves (:meth:`StochasticRun.to_file`) so that a
loaded model continues exactly where it stopped. ``fit`` on in-memory data
uses the ``SGD`` solver instead, which sees the whole objective.

**The penalty of a stream.** A stream has no known size, so its penalty is
given per sample: with ``alpha`` set, the objective is
``mean CE + alpha / 2 * ||coef||^2`` (scikit-learn ``SGDClassifier``'s
convention), which has the same optimum as ``C = 1 / (alpha * n)`` on ``n``
samples of unit weight (``1 / (alpha * S)`` for total weight ``S``).
``alpha`` wins when both are given: ``C`` is then ignored. ``partial_fit``
needs ``alpha``; ``fit`` on a stream falls back on ``C`` and the total
weight when ``alpha`` is None (see :func:`softmax.model.problem.penalties`).
With ``l1_ratio`` (elastic net) the strength splits into
``alpha * (1 - l1_ratio)`` for L2 and ``alpha * l1_ratio`` for L1, the latter
taken by proximal steps (exact zeros need ``optimizer="sgd"``: an average of
sparse iterates is not sparse).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective
from ..loss.rows import MemoryRows
from ..penalties import L1, L2, GroupL1
from ..solvers import IterationInfo
from ..solvers import optimizers as optim

__all__ = ["ChunkStream", "StochasticRun", "fit_chunks", "run_epochs"]


@dataclass
class StochasticRun:
    """Where stochastic training of one model stands: a fitted model's ``sgd_state_``.

    Attributes
    ----------
    config : SGDConfig
        Optimiser settings, fixed when the run starts; ``config.alpha`` is the
        per-sample L2 strength.
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

    #: Arrays of the optimiser state, stored as ``sgd_<name>`` by :meth:`to_file`.
    ARRAYS = ("w", "m", "v", "w_avg")

    @classmethod
    def start(
        cls, *, optimizer: str, schedule: str, learning_rate: float | None, l2: float,
        l1: float, grouped: bool, random_state, w0: NDArray, first_chunk, fit_intercept: bool,
    ) -> StochasticRun:  # fmt: skip
        """A fresh run from ``w0``.

        ``first_chunk`` (an ``X`` of shape (rows, n_features)) sets the default
        step ``1 / L`` (:func:`softmax.solvers.optimizers.curvature_bound`)
        when ``learning_rate`` is None; ``l2`` and ``l1`` are per-sample strengths.
        """
        eta0 = learning_rate
        if eta0 is None:
            eta0 = optim.default_step(optimizer, optim.curvature_bound(first_chunk, fit_intercept), l2)
        config = optim.SGDConfig(optimizer, schedule, float(eta0), l2)
        return cls(config, optim.init(w0, config), optim.make_rng(random_state), l1, grouped)

    def objective(self, linear_loss, rows: MemoryRows) -> Objective:
        """The chunk's objective: weights as they are, the run's per-sample penalties."""
        nonsmooth = (GroupL1 if self.grouped else L1)(self.l1) if self.l1 > 0 else None
        return Objective.over(linear_loss, L2(self.config.alpha), rows, 1.0, nonsmooth)

    def steps(
        self, linear_loss, rows: MemoryRows, batch_size: int, progress=None
    ) -> tuple[float, float]:
        """Mini-batch steps over one chunk, in a random order.

        Returns the weighted sum of the batches' mean objectives (each taken
        before its step: a progressive estimate) and the weight summed.
        """
        objective = self.objective(linear_loss, rows)
        prox = objective.prox if objective.nonsmooth is not None else None
        order = self.rng.permutation(rows.n_rows)
        loss_sum = weight_sum = 0.0
        for batch in optim.batches(order, batch_size):
            weight = objective.weight_sum(batch)
            if not weight > 0:
                continue
            value, grad = objective.batch_value_grad(self.state.w, batch, weight)
            self.state = optim.update(self.state, grad, self.config, prox)
            loss_sum += weight * value
            weight_sum += weight
            if progress is not None:
                progress.advance(len(batch), value)
        return loss_sum, weight_sum

    def solution(self) -> NDArray:
        """The flat parameter vector the run answers with (the average, for ``"asgd"``)."""
        return optim.solution(self.state, self.config)

    def to_file(self) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Arrays (float64, the non-empty ones, named ``sgd_<name>``) and JSON fields.

        Everything :meth:`from_file` needs to continue exactly where the run stands.
        """
        arrays = {
            f"sgd_{name}": getattr(self.state, name)
            for name in self.ARRAYS
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
        """Inverse of :meth:`to_file`; raises ValueError on anything inconsistent.

        Parameters
        ----------
        fields : dict
            The JSON fields.
        arrays : dict
            The ``sgd_*`` arrays read; any other name is an error.
        n_params : int
            Length of the model's flat parameter vector.
        """
        if set(fields) != {"config", "t", "l1", "grouped", "rng"}:
            raise ValueError("unexpected fields")
        if not set(arrays) <= {f"sgd_{name}" for name in cls.ARRAYS}:
            raise ValueError("unexpected optimiser arrays")
        settings = fields["config"]
        if isinstance(settings, dict) and "asgd_momentum" not in settings:
            # Written before "asgd" took heavy-ball steps: continue with plain ones.
            settings = {**settings, "asgd_momentum": 0.0}
        config = optim.SGDConfig(**settings)
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
        for name in cls.ARRAYS:
            expected = getattr(template, name).shape
            array = arrays.get(f"sgd_{name}", np.zeros(0))
            if array.shape != expected or array.dtype != np.float64:
                raise ValueError(f"optimiser array {name} has the wrong shape")
            parts[name] = np.array(array)
        state = optim.SGDState(parts["w"], t, parts["m"], parts["v"], parts["w_avg"])
        return cls(config, state, np.random.Generator(bit_generator), l1, grouped)


@dataclass
class ChunkStream:
    """Training data read in chunks, afresh each epoch: what ``SoftmaxRegression.fit`` takes as X.

    Attributes
    ----------
    make_chunks : callable
        ``make_chunks(rng)`` returns an iterable of ``(X, y, sample_weight)``
        with ``X`` of shape (rows, n_features), ``y`` labels (values of
        ``classes``) and weights of shape (rows,) or None; ``rng`` may shuffle
        the order of the chunks.
    classes : ndarray of shape (n_classes,)
        Every label (sorted).
    n_features : int
    total_weight : float or None
        Needed when ``alpha`` is None, to turn ``C`` into a per-sample strength.
    total_rows : int or None
        For the progress bar.
    feature_names : list of str or None
    dtype : float32 or float64
        Of the reported coefficients.
    progress : bool
        Show rows, rows/s and loss on stderr.
    """

    make_chunks: Callable[[np.random.Generator], Iterable[tuple[Any, NDArray, NDArray | None]]]
    classes: NDArray
    n_features: int
    total_weight: float | None = None
    total_rows: int | None = None
    feature_names: list[str] | None = None
    dtype: Any = np.float64
    progress: bool = False


@dataclass
class Epochs:
    """Outcome of :func:`run_epochs`."""

    run: StochasticRun
    history: list[float]
    n_epochs: int
    converged: bool


def run_epochs(
    chunks: Callable[[np.random.Generator], Iterable[MemoryRows]],
    start: Callable[[MemoryRows], StochasticRun],
    linear_loss,
    *,
    rng: np.random.Generator,
    batch_size: int,
    max_iter: int,
    tol: float,
    n_iter_no_change: int,
    callback: Callable[[IterationInfo], None] | None = None,
    total_rows: int | None = None,
    progress: bool = False,
) -> Epochs:
    """Epochs of mini-batch steps over chunks, until the objective stops improving.

    Parameters
    ----------
    chunks : callable
        ``chunks(rng)``: the chunks of one epoch (codes and final weights).
    start : callable
        ``start(first_chunk)``: the run, created when the first chunk arrives.
    linear_loss : LinearModelLoss
    rng : numpy.random.Generator
        Passed to ``chunks`` (the order of the chunks).
    batch_size, max_iter, tol, n_iter_no_change
        As the estimator's; ``max_iter`` counts epochs. Converged when the
        progressive mean objective has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. With ``max_iter=0`` the run starts (on
        the first chunk, which sets the default step) and takes no step.
    callback : callable, optional
        Called after each epoch (``gradient_max`` is NaN: not computed).
    total_rows : int, optional
        Rows per epoch, for the progress bar.
    progress : bool

    Raises
    ------
    ValueError
        If the chunks are empty.
    FloatingPointError
        If training diverges.
    """
    from .._progress import RowProgress  # deferred: rich is only needed with progress

    run = None
    history: list[float] = []
    best, stale, converged, epoch = math.inf, 0, False, 0
    if max_iter == 0:
        run = next((start(rows) for rows in chunks(rng)), None)
    total = None if total_rows is None else total_rows * max_iter
    with RowProgress(total, "sgd", enabled=progress) as bar:
        for epoch in range(1, max_iter + 1):
            loss_sum = weight_sum = 0.0
            for rows in chunks(rng):
                if run is None:  # the first chunk sets the default step
                    run = start(rows)
                ls, ws = run.steps(linear_loss, rows, batch_size, bar)
                loss_sum, weight_sum = loss_sum + ls, weight_sum + ws
            if run is None:
                break
            value = loss_sum / weight_sum if weight_sum > 0 else math.nan
            history.append(value)
            if callback is not None:
                callback(IterationInfo(epoch, value, math.nan))
            if not math.isfinite(value) or not np.all(np.isfinite(run.state.w)):
                raise FloatingPointError(
                    "stochastic training diverged: lower learning_rate or standardise the features"
                )
            stale = 0 if value < best - tol else stale + 1
            best = min(best, value)
            if stale >= n_iter_no_change:
                converged = True
                break
    if run is None:
        raise ValueError("there is no data to fit: the chunks are empty")
    return Epochs(run, history, epoch, converged)


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

    The same as ``model.fit(ChunkStream(make_chunks, classes, ...))``: the
    parameters are the fields of :class:`ChunkStream`. The model's
    ``optimizer``, ``schedule``, ``learning_rate``, ``batch_size``, ``alpha``
    (or ``C``), ``l1_ratio``, ``max_iter`` (epochs), ``tol``,
    ``n_iter_no_change``, ``random_state``, ``class_weight`` (a dict) and
    ``callback`` are used.

    Returns
    -------
    model
        With ``coef_``, ``intercept_``, ``classes_``, ``n_iter_`` (epochs),
        ``converged_``, ``objective_history_`` (progressive mean objective of
        each epoch) and the run in ``sgd_state_`` (so ``partial_fit`` may continue).
    """
    stream = ChunkStream(
        make_chunks, np.asarray(classes), n_features, total_weight, total_rows,
        feature_names, dtype, progress,
    )  # fmt: skip
    return model.fit(stream, None)
