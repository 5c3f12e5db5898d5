"""``solver="sgd"``: epochs of mini-batch stochastic steps on an in-memory objective.

The optimisers themselves are pure functions in
:mod:`softmax.solvers.optimizers`, re-exported here; this module runs them
over shuffled mini-batches of an :class:`Objective`, with optional early
stopping on a held-out fraction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..loss.objective import Objective
from ._base import Solver, SolverResult, Stop
from .optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    SGDConfig,
    SGDState,
    batches,
    curvature_bound,
    default_step,
    init,
    make_rng,
    solution,
    step_size,
    update,
)

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "SGDConfig",
    "SGDState",
    "batches",
    "curvature_bound",
    "default_step",
    "init",
    "make_rng",
    "solution",
    "step_size",
    "update",
]


class SGD(Solver):
    """Epochs of mini-batch stochastic gradient steps on an in-memory objective.

    Each epoch visits the (training) rows once in a new random order, in
    batches of ``batch_size``; each batch gives an unbiased estimate of the
    gradient of the mean objective. After each epoch the full objective and
    its gradient are evaluated (one vectorised pass, cheap next to the
    epoch) for the history and the stopping rule: stop when
    ``max|gradient| <= tol`` (converged), or when the objective (the
    validation loss with ``early_stopping``) has not improved by more than
    ``tol`` for ``n_iter_no_change`` epochs. Without ``early_stopping`` that
    is a stall, often well short of the optimum (the gradient noise of the
    steps hides the remaining progress), so it does not count as converged,
    unlike scikit-learn's ``SGDClassifier``: the estimator warns. With
    ``early_stopping`` it is the stop the user asked for (the best point on
    held-out rows, a regulariser), and counts as converged, as in
    ``SGDClassifier``. ``max_iter`` counts epochs.

    Parameters
    ----------
    learning_rate : float or None
        Initial step ``eta0``; None uses :func:`default_eta0`.
    batch_size : int
    optimizer : {"sgd", "momentum", "adam", "asgd"}
    schedule : {"constant", "invscaling", "optimal"}
    random_state : int, RandomState, Generator or None
        Seeds the shuffling (and the validation split).
    early_stopping : bool
        Hold out ``validation_fraction`` of the rows; stop on their loss and
        return the parameters with the lowest one.
    validation_fraction : float
    n_iter_no_change : int
    verbose : int
        Show a progress bar (rows, rows/s, loss) on stderr when positive.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = StandardScaler().fit_transform(X)
    >>> model = SoftmaxRegression(solver="sgd", alpha=1e-2, random_state=0)
    >>> for epoch in range(20):  # one chunk at a time: here the whole data each time
    ...     model = model.partial_fit(X, y, classes=[0, 1, 2])
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    options = (
        "learning_rate", "batch_size", "optimizer", "schedule", "random_state",
        "early_stopping", "validation_fraction", "n_iter_no_change", "verbose",
    )  # fmt: skip
    #: Takes an L1 part by proximal steps (proximal SGD).
    supports_nonsmooth = True
    needs = ("take", "weight_sum", "sample")

    def __init__(
        self,
        learning_rate: float | None = None,
        batch_size: int = 256,
        optimizer: str = "asgd",
        schedule: str = "optimal",
        random_state=None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        verbose: int = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.schedule = schedule
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose

    def config(self, objective: Objective, alpha: float) -> SGDConfig:
        """The optimiser settings, for an objective with per-sample L2 strength ``alpha``."""
        eta0 = self.learning_rate
        if eta0 is None:
            # With standardize=True the sample is standardised: what the coordinates see.
            curvature = curvature_bound(
                objective.feature_sample(), objective.linear_loss.fit_intercept
            )
            eta0 = default_step(self.optimizer, curvature, alpha)
        # Plain averaged steps in memory: heavy-ball momentum makes the objective
        # non-monotone from epoch to epoch, which the stall rule would take for the end.
        return SGDConfig(
            self.optimizer, self.schedule, float(eta0), float(alpha), asgd_momentum=0.0
        )

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        from .._progress import RowProgress  # deferred: rich is only needed when verbose

        rng = make_rng(self.random_state)
        train, valid = _split(objective.n_rows, self.validation_fraction, self.early_stopping, rng)
        mean_weight = objective.weight_sum(train) / len(train)
        alpha = objective.scale * float(getattr(objective.penalty, "strength", 0.0))
        prox = objective.prox if objective.nonsmooth is not None else None
        config = self.config(objective, alpha)
        state = init(w0, config)

        def evaluate(w: NDArray) -> tuple[float, float, float]:
            """Objective, optimality and the stopping score at ``w``."""
            value, grad = objective.value_grad(w)
            value += objective.nonsmooth_value(w)
            optimality = objective.optimality(w, grad)
            if valid is None:
                return value, optimality, value
            total = objective.weight_sum(valid)
            return value, optimality, objective.data_loss(w, valid) / max(total, 1e-300)

        value, gmax, best = evaluate(state.w)
        history, best_w, best_score, stale = [value], solution(state, config), best, 0
        stop.report_value(0, value, gmax)
        converged, message, epoch = False, "", 0
        with RowProgress(len(train) * stop.max_iter, "sgd", enabled=bool(self.verbose)) as bar:
            for epoch in range(1, stop.max_iter + 1):
                for rows in batches(rng.permutation(train), self.batch_size):
                    loss, grad = objective.batch_value_grad(state.w, rows, len(rows) * mean_weight)
                    state = update(state, grad, config, prox)
                    bar.advance(len(rows), loss)
                w = solution(state, config)
                value, gmax, score = evaluate(w)
                history.append(value)
                stop.report_value(epoch, value, gmax)
                if not np.isfinite(value):
                    message = "diverged: lower learning_rate"
                    break
                if gmax <= stop.tol:
                    converged, message = True, "gradient below tol"
                    break
                # Patience counts epochs without a gain of tol; the best point is kept anyway.
                stale = 0 if score < best - stop.tol else stale + 1
                if score < best_score:
                    best_score, best_w = score, w
                best = min(best, score)
                if stale >= self.n_iter_no_change:
                    converged = valid is not None
                    message = (
                        f"early stopping: the validation loss improved by less than tol for "
                        f"{self.n_iter_no_change} epochs"
                        if converged
                        else f"stalled: the objective stopped improving (by more than tol) for "
                        f"{self.n_iter_no_change} epochs, short of the optimum"
                    )
                    break
        if not message:
            # Whether more epochs would help: the objective was still improving, or not.
            window = history[-1 - min(self.n_iter_no_change, epoch):]
            message = (
                f"reached max_iter ({stop.max_iter} epochs) with the objective still "
                f"improving, by {window[0] - window[-1]:.2e} over the last {len(window) - 1} "
                "epochs"
            )
        w = best_w if valid is not None else solution(state, config)
        return SolverResult(
            w=np.asarray(w, dtype=np.float64),
            n_iter=epoch,
            converged=converged,
            message=f"SGD ({self.optimizer}): {message}",
            gradient_max=gmax,
            objective_history=history,
        )


def _split(n: int, fraction: float, early_stopping: bool, rng: np.random.Generator):
    """Training rows (all of them, or a random ``1 - fraction``) and validation rows or None."""
    if not early_stopping:
        return np.arange(n), None
    n_valid = int(np.clip(round(fraction * n), 1, n - 1)) if n > 1 else 0
    if n_valid == 0:
        return np.arange(n), None
    order = rng.permutation(n)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])
