"""Stochastic optimisers as pure functions: plain SGD, momentum, Adam, averaged SGD.

The optimisers are pure functions over a small state, as in optax::

    state = init(w0, config)
    for rows in batches(order, batch_size):
        grad = objective.batch_value_grad(state.w, rows, weight)[1]
        state = update(state, grad, config)
    w = solution(state, config)

``update`` never modifies its input, so a state can be saved (it is a few
float64 vectors and one integer) and training resumed exactly where it
stopped. Four optimisers share the interface:

- ``"sgd"``: plain stochastic gradient descent ``w -= eta_t * g``;
- ``"momentum"``: heavy-ball momentum ``m = mu * m + g; w -= eta_t * m``;
- ``"adam"``: Adam with bias correction (Kingma & Ba, 2015);
- ``"asgd"``: heavy-ball SGD steps ``m = mu * m + g; w -= eta_t * m``
  (``mu = asgd_momentum``, 0 for plain SGD steps), with a running
  (Polyak-Ruppert) average of the iterates as the solution. The average
  smooths out the gradient noise; the momentum makes the steps along flat
  directions ``1 / (1 - mu)`` times longer while a step ``eta <= 1 / L``
  stays stable along the steepest ones (``eta * L < 2 (1 + mu)``), which a
  weakly penalised, nearly separable problem needs: there the curvature
  ranges from ``L`` down to ``alpha``, and plain steps of ``1 / L`` are
  thousands of times too short along the flat directions.

``eta_t`` follows a schedule: ``"constant"`` (``eta0``), ``"invscaling"``
(``eta0 / (1 + t) ** power_t``) or ``"optimal"`` (``eta0 / (1 + alpha * eta0 * t)``,
Bottou's ``1 / (alpha * (t + t0))`` for an objective that is ``alpha``-strongly
convex through its L2 penalty; it is ``"constant"`` without one).

They serve :class:`softmax.solvers.sgd.SGD` (``fit(solver="sgd")`` in
memory) and :mod:`softmax.backends.stream` (``partial_fit``, streamed files,
Dask blocks).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGDConfig",
    "SGDState",
    "batches",
    "check_config",
    "curvature_bound",
    "default_step",
    "init",
    "make_rng",
    "solution",
    "step_size",
    "update",
]

OPTIMIZERS = ("sgd", "momentum", "adam", "asgd")
SCHEDULES = ("constant", "invscaling", "optimal")

#: Adam's steps are about ``eta`` per coordinate whatever the gradient's scale,
#: so its default step does not depend on the data (see :func:`default_step`).
_DEFAULT_ETA0 = {"adam": 0.01}


class SGDConfig(NamedTuple):
    """Settings of one optimiser (hyper-parameters, never changed by ``update``).

    Attributes
    ----------
    optimizer : {"sgd", "momentum", "adam", "asgd"}
    schedule : {"constant", "invscaling", "optimal"}
    eta0 : float
        Initial step size.
    alpha : float
        Per-sample L2 strength of the objective (its strong convexity), used
        by the ``"optimal"`` schedule only.
    power_t : float
        Exponent of ``"invscaling"``.
    momentum : float
        ``mu`` of ``"momentum"``.
    beta1, beta2, epsilon : float
        Adam's moment decay rates and denominator guard.
    asgd_momentum : float
        ``mu`` of ``"asgd"``'s heavy-ball steps; 0 gives plain averaged SGD
        (what model files written before it existed continue with).
    average_power : float
        ``"asgd"`` weighs iterate ``w_t`` by ``t ** average_power`` in its
        average (polynomial-decay averaging, Shamir & Zhang 2013): 0 is the
        plain mean, which the first, poor iterates spoil for a long time; 3
        forgets them fast yet still averages out the noise.
    """

    optimizer: str = "asgd"
    schedule: str = "optimal"
    eta0: float = 0.5
    alpha: float = 0.0
    power_t: float = 0.5
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    average_power: float = 3.0
    asgd_momentum: float = 0.95


class SGDState(NamedTuple):
    """Everything an optimiser carries from one step to the next.

    Unused moments are empty arrays of shape (0,), so the state of plain SGD
    is one vector.

    Attributes
    ----------
    w : ndarray of shape (n_params,)
        The current iterate, float64, in the flat layout of
        :class:`softmax.loss.linear.LinearModelLoss`.
    t : int
        Updates done so far.
    m : ndarray of shape (n_params,) or (0,)
        Velocity (``"momentum"``, ``"asgd"`` with ``asgd_momentum > 0``) or
        first moment (``"adam"``).
    v : ndarray of shape (n_params,) or (0,)
        Second moment (``"adam"``).
    w_avg : ndarray of shape (n_params,) or (0,)
        Weighted average of the iterates after each update (``"asgd"``).
    """

    w: NDArray
    t: int
    m: NDArray
    v: NDArray
    w_avg: NDArray


def curvature_bound(X, fit_intercept: bool, max_rows: int = 10_000) -> float:
    """An estimate of the largest curvature ``L`` of the mean cross-entropy.

    The Hessian is ``E[(diag(p) - p p^T) ⊗ xt xt^T]`` with ``xt = [x, 1]``, and
    ``||diag(p) - p p^T|| <= 1/2``, so ``L <= lambda_max(E[xt xt^T]) / 2``. The
    eigenvalue is found by power iteration on up to ``max_rows`` evenly spaced
    rows (sparse rows stay sparse). ``1 / L`` is a step that stays stable
    whatever the scale of the features.

    Parameters
    ----------
    X : array or sparse matrix of shape (n_samples, n_features)
    fit_intercept : bool

    Returns
    -------
    float
        Positive.
    """
    n = X.shape[0]
    rows = np.unique(np.linspace(0, n - 1, min(n, max_rows)).astype(np.intp))
    Xs = X[rows]
    Xs = Xs.astype(np.float64) if sp.issparse(Xs) else np.asarray(Xs, dtype=np.float64)
    m = Xs.shape[0]
    v = np.ones(Xs.shape[1] + int(fit_intercept))
    value = 0.0
    for _ in range(30):
        u = Xs @ v[: Xs.shape[1]] + (v[-1] if fit_intercept else 0.0)
        mv = np.empty_like(v)
        mv[: Xs.shape[1]] = np.asarray(Xs.T @ u).ravel() / m
        if fit_intercept:
            mv[-1] = u.sum() / m
        new = float(np.linalg.norm(mv))
        if new == 0:
            break
        v = mv / new
        if abs(new - value) <= 1e-3 * new:
            value = new
            break
        value = new
    return max(value / 2.0, 1e-12)


def default_step(optimizer: str, curvature: float, alpha: float = 0.0) -> float:
    """Initial step when none is given: ``1 / L`` for SGD and ASGD, ``(1 - mu) / L`` for momentum.

    Adam scales its steps per coordinate, so it takes ``0.01`` whatever ``L``.
    """
    if optimizer == "adam":
        return _DEFAULT_ETA0["adam"]
    step = 1.0 / (curvature + alpha)
    return (1.0 - SGDConfig().momentum) * step if optimizer == "momentum" else step


def init(w0: NDArray, config: SGDConfig) -> SGDState:
    """Fresh state at ``w0`` (shape (n_params,)); the arrays are copies."""
    check_config(config)
    w = np.array(w0, dtype=np.float64)
    empty = np.zeros(0)
    opt = config.optimizer
    return SGDState(
        w=w,
        t=0,
        m=np.zeros_like(w) if _has_velocity(config) else empty,
        v=np.zeros_like(w) if opt == "adam" else empty,
        w_avg=w.copy() if opt == "asgd" else empty,
    )


def _has_velocity(config: SGDConfig) -> bool:
    return config.optimizer in ("momentum", "adam") or (
        config.optimizer == "asgd" and config.asgd_momentum > 0
    )


def step_size(config: SGDConfig, t: int) -> float:
    """Step size of update number ``t`` (0-based) under ``config.schedule``."""
    if config.schedule == "invscaling":
        return config.eta0 / (1.0 + t) ** config.power_t
    if config.schedule == "optimal" and config.alpha > 0:
        # Heavy-ball "asgd" steps ``eta / (1 - mu)`` along flat directions, ``eta``
        # along steep ones; the decay is timed on their geometric mean: sooner
        # than plain steps (the noise of a well-conditioned problem), later than
        # the full gain (the slow progress of an ill-conditioned one).
        gain = (1.0 - config.asgd_momentum) ** -0.5 if config.optimizer == "asgd" else 1.0
        return config.eta0 / (1.0 + config.alpha * config.eta0 * gain * t)
    return config.eta0


def update(state: SGDState, grad: NDArray, config: SGDConfig, prox=None) -> SGDState:
    """One optimiser step from a stochastic gradient; returns a new state.

    Parameters
    ----------
    state : SGDState
    grad : ndarray of shape (n_params,)
        Stochastic gradient of the smooth part of the objective at ``state.w``.
    config : SGDConfig
    prox : callable ``(w, step) -> w``, optional
        Proximal operator of a non-smooth penalty (L1 part of an elastic net),
        applied after the step: proximal SGD. ``step`` is the step size; Adam
        passes ``eta_t`` (the L1 shrinkage is decoupled from its scaling, as
        AdamW decouples weight decay).

    Returns
    -------
    SGDState
        ``t`` is one more; the input arrays are not modified.
    """
    eta = step_size(config, state.t)
    m, v, w_avg = state.m, state.v, state.w_avg
    if config.optimizer == "momentum":
        m = config.momentum * m + grad
        w = state.w - eta * m
    elif config.optimizer == "adam":
        t = state.t + 1
        m = config.beta1 * m + (1.0 - config.beta1) * grad
        v = config.beta2 * v + (1.0 - config.beta2) * np.square(grad)
        m_hat = m / (1.0 - config.beta1**t)
        v_hat = v / (1.0 - config.beta2**t)
        w = state.w - eta * m_hat / (np.sqrt(v_hat) + config.epsilon)
    elif config.optimizer == "asgd" and config.asgd_momentum > 0:
        m = config.asgd_momentum * m + grad
        w = state.w - eta * m
    else:  # "sgd", and "asgd" without momentum
        w = state.w - eta * grad
    if prox is not None:
        w = prox(w, eta)
    if config.optimizer == "asgd":
        # Weighted running mean of the iterates w_1..w_{t+1}, weights ~ t ** power;
        # w_0 leaves it on the first step (the factor is then 1).
        factor = (1.0 + config.average_power) / (state.t + 1.0 + config.average_power)
        w_avg = w_avg + factor * (w - w_avg)
    return SGDState(w=w, t=state.t + 1, m=m, v=v, w_avg=w_avg)


def solution(state: SGDState, config: SGDConfig) -> NDArray:
    """The parameters the optimiser answers with: the average for ASGD, else ``w``."""
    return state.w_avg if config.optimizer == "asgd" else state.w


def batches(order: NDArray, batch_size: int) -> list[NDArray]:
    """Cut a permutation into ``round(n / batch_size)`` batches of nearly equal size.

    Equal sizes, rather than full batches and a small remainder: a batch of
    two rows would take a full step on a very noisy gradient. Each batch is
    sorted, since sorted rows gather faster (its content is what is random).
    """
    n_batches = max(1, round(len(order) / batch_size))
    return [np.sort(part) for part in np.array_split(order, n_batches)]


def make_rng(random_state) -> np.random.Generator:
    """A PCG64 Generator from an int, None, a Generator or a RandomState.

    The result is always a fresh ``np.random.Generator`` on PCG64, whose state
    is a small JSON-able dict (saved with the model for exact resumption).
    """
    if isinstance(random_state, np.random.Generator):
        seed = random_state.integers(2**63)
    elif isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(2**31 - 1)
    else:
        seed = random_state
    return np.random.Generator(np.random.PCG64(seed))


def check_config(config: SGDConfig) -> None:
    """Raise ValueError for an unknown optimiser or schedule, or a non-positive step."""
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}")
    if config.schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {config.schedule!r}")
    if not config.eta0 > 0:
        raise ValueError(f"the step size must be positive, got {config.eta0}")
    if not 0 <= config.asgd_momentum < 1:
        raise ValueError(f"asgd_momentum must be in [0, 1), got {config.asgd_momentum}")
