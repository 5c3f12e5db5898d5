"""Action-selection policies for the k-armed bandit, batched over runs.

Every policy is a small frozen dataclass holding only hyper-parameters; the
learning state lives in a separate object whose arrays have shape
``(runs, k)``, so one policy object drives thousands of independent runs at
once. The interface, shared by all policies:

``init(runs, k, rng) -> state``
    Fresh state for `runs` independent runs of a `k`-armed bandit.
``select(state, t, rng) -> actions``
    One action per run, shape ``(runs,)``, at step ``t`` (1 for the first).
``update(state, actions, rewards, t) -> state``
    Learn from the rewards, shape ``(runs,)``, of the actions just taken. The
    state's arrays are updated in place (a copy per step would dominate the
    cost); the state is returned so callers can write ``state = update(...)``.

All randomness comes from the ``rng`` argument (a :class:`numpy.random.Generator`),
so a seeded experiment is reproducible. Greedy choices break ties at random.

Value-based policies (:class:`EpsilonGreedy`, :class:`UCB`,
:class:`SoftmaxPolicy`, :class:`BoltzmannGumbel`) estimate action values
with sample averages (``alpha=None``) or a constant step size ``alpha``
(better when the problem drifts), starting from ``initial`` (a large
``initial`` gives optimistic initial values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from ..functions import softmax
from ._sampling import argmax_random, categorical
from .schedules import Constant, Schedule, as_schedule

__all__ = [
    "BoltzmannGumbel",
    "EpsilonGreedy",
    "GradientBandit",
    "Policy",
    "PreferenceState",
    "SoftmaxPolicy",
    "UCB",
    "ValueState",
]

State = TypeVar("State")


class Policy(Protocol[State]):
    """What :func:`~softmax.bandits.simulate` needs from a policy.

    Examples
    --------
    >>> from softmax.bandits import Testbed, simulate
    >>> class AlwaysFirst:  # any object with these four methods is a Policy
    ...     def init(self, runs, k, rng): return np.zeros((runs, k))
    ...     def select(self, state, t, rng): return np.zeros(len(state), dtype=np.intp)
    ...     def update(self, state, actions, rewards, t): return state
    ...     def describe(self): return "always arm 0"
    >>> result = simulate(AlwaysFirst(), Testbed(k=10), runs=100, steps=10, seed=0)
    >>> result.label, float(result.optimal_fraction.mean())  # arm 0 is best in 1 run of 10
    ('always arm 0', 0.1)
    """

    def init(self, runs: int, k: int, rng: np.random.Generator) -> State: ...

    def select(self, state: State, t: int, rng: np.random.Generator) -> NDArray[np.intp]: ...

    def update(
        self, state: State, actions: NDArray[np.intp], rewards: NDArray[np.float64], t: int
    ) -> State: ...

    def describe(self) -> str: ...


@dataclass
class ValueState:
    """Action-value estimates of a batch of runs.

    Attributes
    ----------
    q : ndarray of shape (runs, k)
        Estimated value of each arm.
    n : ndarray of shape (runs, k)
        How often each arm was pulled.

    Examples
    --------
    >>> state = EpsilonGreedy().init(runs=2, k=3, rng=np.random.default_rng(0))
    >>> state.q.shape, float(state.n.sum())
    ((2, 3), 0.0)
    """

    q: NDArray[np.float64]
    n: NDArray[np.float64]


@dataclass
class PreferenceState:
    """Action preferences of the gradient bandit for a batch of runs.

    Attributes
    ----------
    h : ndarray of shape (runs, k)
        Preferences; the policy is ``softmax(h, axis=1)``.
    baseline : ndarray of shape (runs,)
        Average reward so far (the baseline), zeros without a baseline.
    count : int
        Number of updates so far.
    pi : ndarray of shape (runs, k) or None
        ``softmax(h)`` as of the last ``select``, until the next ``update``.

    Examples
    --------
    >>> state = GradientBandit().init(runs=2, k=3, rng=np.random.default_rng(0))
    >>> state.h.shape, state.baseline.shape, state.count
    ((2, 3), (2,), 0)
    """

    h: NDArray[np.float64]
    baseline: NDArray[np.float64]
    count: int = 0
    # The policy of the last select, reused by update: one softmax per step, not two.
    pi: NDArray[np.float64] | None = field(default=None, repr=False)


def _rows(actions: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    return np.arange(actions.shape[0]), actions


def _check_number(name: str, value: float, *, low: float = 0.0, high: float = math.inf) -> None:
    if not (isinstance(value, (int, float, np.number)) and low <= value <= high):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")


def _schedule_text(value: Any) -> str:
    return f"{value.value:g}" if isinstance(value, Constant) else repr(value)


@dataclass(frozen=True, kw_only=True)
class _ValuePolicy:
    """Shared value estimation: sample averages or a constant step size."""

    initial: float = 0.0
    alpha: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.initial):
            raise ValueError(f"initial must be finite, got {self.initial!r}")
        if self.alpha is not None:
            _check_number("alpha", self.alpha, high=1.0)
            if self.alpha == 0:
                raise ValueError("alpha must be positive (or None for sample averages)")

    def init(self, runs: int, k: int, rng: np.random.Generator) -> ValueState:
        """Estimates all equal to ``initial``, no pulls; shapes ``(runs, k)``."""
        # Column-major, like Testbed.reset: fast reductions over the arms of a run.
        q = np.full((runs, k), float(self.initial), order="F")
        return ValueState(q=q, n=np.zeros((runs, k), order="F"))

    def update(
        self, state: ValueState, actions: NDArray[np.intp], rewards: NDArray[np.float64], t: int
    ) -> ValueState:
        """Move the estimate of each pulled arm towards its reward (in place)."""
        idx = _rows(actions)
        state.n[idx] += 1
        step = 1.0 / state.n[idx] if self.alpha is None else self.alpha
        state.q[idx] += step * (rewards - state.q[idx])
        return state

    def _value_text(self) -> str:
        parts = []
        if self.initial:
            parts.append(f"Q1={self.initial:g}")
        if self.alpha is not None:
            parts.append(f"alpha={self.alpha:g}")
        return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class EpsilonGreedy(_ValuePolicy):
    """Greedy with probability ``1 - epsilon``, a uniformly random arm otherwise.

    ``EpsilonGreedy(0.0)`` is the greedy method; with ``initial=5.0,
    alpha=0.1`` it is the optimistic greedy method of the textbook.

    Parameters
    ----------
    epsilon : float or schedule, default=0.1
        Exploration probability in [0, 1], or a function of the step ``t``.
    initial : float, default=0.0
        Initial value estimate of every arm.
    alpha : float or None, default=None
        Constant step size in (0, 1]; ``None`` uses sample averages.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> greedy = EpsilonGreedy(epsilon=0.0)
    >>> state = greedy.init(runs=1, k=3, rng=rng)
    >>> state = greedy.update(state, np.array([2]), np.array([1.0]), t=1)  # arm 2 paid 1
    >>> state.q, greedy.select(state, t=2, rng=rng)  # so greedy picks it again
    (array([[0., 0., 1.]]), array([2]))
    >>> EpsilonGreedy(0.1, initial=5.0, alpha=0.1).describe()
    'epsilon-greedy 0.1 (Q1=5, alpha=0.1)'
    """

    epsilon: float | Schedule = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.epsilon):
            _check_number("epsilon", self.epsilon, high=1.0)
        object.__setattr__(self, "epsilon", as_schedule(self.epsilon))

    def select(self, state: ValueState, t: int, rng: np.random.Generator) -> NDArray[np.intp]:
        """Greedy actions, each replaced by a random arm with probability epsilon."""
        actions = argmax_random(state.q, rng)
        epsilon = self.epsilon(t)
        if epsilon > 0:  # the greedy method draws nothing more
            runs, k = state.q.shape
            explore = rng.random(runs) < epsilon
            actions = np.where(explore, rng.integers(k, size=runs), actions)
        return actions

    def describe(self) -> str:
        epsilon = _schedule_text(self.epsilon)
        name = "greedy" if epsilon == "0" else f"epsilon-greedy {epsilon}"
        return name + self._value_text()


@dataclass(frozen=True)
class UCB(_ValuePolicy):
    """Upper-confidence-bound selection: ``argmax Q(a) + c sqrt(ln t / N(a))``.

    Arms never pulled count as maximising and are tried first (in random order).

    Parameters
    ----------
    c : float, default=2.0
        Degree of exploration, >= 0.
    initial, alpha :
        As for :class:`EpsilonGreedy`.

    Examples
    --------
    >>> from softmax.bandits import Testbed, simulate
    >>> result = simulate(UCB(c=2), Testbed(k=10), runs=200, steps=200, seed=0)
    >>> bool(result.optimal_fraction[-50:].mean() > 0.5)
    True
    """

    c: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number("c", self.c)

    def select(self, state: ValueState, t: int, rng: np.random.Generator) -> NDArray[np.intp]:
        """The arm with the highest upper confidence bound in each run."""
        # max(n, 1) keeps 0/0 away; untried arms are set to +inf right after.
        bound = state.q + self.c * np.sqrt(math.log(max(t, 1)) / np.maximum(state.n, 1))
        return argmax_random(np.where(state.n > 0, bound, np.inf), rng)

    def describe(self) -> str:
        return f"UCB c={self.c:g}" + self._value_text()


@dataclass(frozen=True)
class SoftmaxPolicy(_ValuePolicy):
    """Boltzmann (softmax) action selection over value estimates.

    Arm ``a`` is chosen with probability ``softmax(beta * Q)[a]``: ``beta = 0``
    is uniformly random, large ``beta`` approaches greedy.

    Parameters
    ----------
    beta : float or schedule, default=4.0
        Inverse temperature, a number or a function of the step ``t`` such as
        :class:`~softmax.bandits.schedules.Linear`.
    initial, alpha :
        As for :class:`EpsilonGreedy`.

    Examples
    --------
    >>> state = ValueState(q=np.array([[0.0, 1.0]]), n=np.ones((1, 2)))
    >>> SoftmaxPolicy(beta=2.0).probabilities(state, t=1).round(3)
    array([[0.119, 0.881]])
    >>> SoftmaxPolicy(beta=0.0).probabilities(state, t=1)  # beta = 0: uniformly random
    array([[0.5, 0.5]])
    """

    beta: float | Schedule = 4.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.beta):
            _check_number("beta", self.beta)
        object.__setattr__(self, "beta", as_schedule(self.beta))

    def probabilities(self, state: ValueState, t: int) -> NDArray[np.float64]:
        """Selection probabilities at step `t`, shape ``(runs, k)``."""
        return softmax(state.q, axis=1, beta=self.beta(t))

    def select(self, state: ValueState, t: int, rng: np.random.Generator) -> NDArray[np.intp]:
        """Draw one arm per run from the Boltzmann distribution."""
        return categorical(self.probabilities(state, t), rng)

    def describe(self) -> str:
        return f"softmax beta={_schedule_text(self.beta)}" + self._value_text()


@dataclass(frozen=True)
class BoltzmannGumbel(_ValuePolicy):
    """Boltzmann-Gumbel exploration (Cesa-Bianchi, Gentile, Lugosi and Neu, 2017).

    Chooses ``argmax_a Q(a) + sqrt(C**2 / N(a)) * G(a)`` with independent
    standard Gumbel noise ``G``. Adding Gumbel noise to scores samples from
    their softmax, so this is Boltzmann exploration with a separate learning
    rate per arm that shrinks as the arm is pulled; unlike any single
    temperature schedule it has near-optimal regret guarantees. Arms never
    pulled are tried first.

    Parameters
    ----------
    c : float, default=0.5
        The paper's ``C``: the scale of the exploration noise, > 0.
    initial, alpha :
        As for :class:`EpsilonGreedy`.

    Examples
    --------
    >>> from softmax.bandits import Testbed, simulate
    >>> result = simulate(BoltzmannGumbel(c=0.5), Testbed(k=10), runs=200, steps=200, seed=0)
    >>> bool(result.optimal_fraction[-50:].mean() > 0.7)
    True
    """

    c: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number("c", self.c)

    def select(self, state: ValueState, t: int, rng: np.random.Generator) -> NDArray[np.intp]:
        """Perturb every estimate with scaled Gumbel noise and take the argmax."""
        scale = self.c / np.sqrt(np.maximum(state.n, 1))
        # -log(E) with E ~ Exp(1) is standard Gumbel: one log instead of rng.gumbel's two.
        with np.errstate(divide="ignore"):  # E == 0 (vanishingly rare) is a valid +inf draw
            gumbel = -np.log(rng.standard_exponential(state.q.shape))
        scores = state.q + scale * gumbel
        return argmax_random(np.where(state.n > 0, scores, np.inf), rng)

    def describe(self) -> str:
        return f"Boltzmann-Gumbel C={self.c:g}" + self._value_text()


@dataclass(frozen=True)
class GradientBandit:
    """The gradient bandit: softmax over learned preferences (textbook section 2.8).

    Acts with ``pi = softmax(H)`` and after reward ``R`` for action ``A``
    takes a stochastic-gradient step on the expected reward::

        H(a) += alpha * (R - baseline) * (1{a == A} - pi(a))

    The baseline is the average of all rewards so far (including ``R``), or
    zero with ``baseline=False``; without it learning depends on where the
    rewards lie (the textbook's ``q* ~ N(4, 1)`` testbed shows this).

    Parameters
    ----------
    alpha : float, default=0.1
        Step size, > 0.
    baseline : bool, default=True
        Whether to subtract the average reward.

    Examples
    --------
    >>> bandit = GradientBandit(alpha=0.5, baseline=False)
    >>> state = bandit.init(runs=1, k=2, rng=np.random.default_rng(0))
    >>> state = bandit.update(state, np.array([1]), np.array([1.0]), t=1)  # arm 1 paid 1
    >>> state.h, bandit.probabilities(state).round(3)
    (array([[-0.25,  0.25]]), array([[0.378, 0.622]]))
    """

    alpha: float = 0.1
    baseline: bool = True

    def __post_init__(self) -> None:
        _check_number("alpha", self.alpha)
        if self.alpha == 0:
            raise ValueError("alpha must be positive")

    def init(self, runs: int, k: int, rng: np.random.Generator) -> PreferenceState:
        """All preferences zero (a uniform policy); shapes ``(runs, k)`` and ``(runs,)``."""
        return PreferenceState(h=np.zeros((runs, k), order="F"), baseline=np.zeros(runs))

    def probabilities(self, state: PreferenceState, t: int | None = None) -> NDArray[np.float64]:
        """The policy ``softmax(H)``, shape ``(runs, k)``."""
        return softmax(state.h, axis=1)

    def select(
        self, state: PreferenceState, t: int, rng: np.random.Generator
    ) -> NDArray[np.intp]:
        """Draw one arm per run from ``softmax(H)``."""
        state.pi = self.probabilities(state)
        return categorical(state.pi, rng)

    def update(
        self,
        state: PreferenceState,
        actions: NDArray[np.intp],
        rewards: NDArray[np.float64],
        t: int,
    ) -> PreferenceState:
        """One gradient step on the preferences (in place)."""
        # The policy the actions were drawn from (H has not changed since select).
        pi = self.probabilities(state) if state.pi is None else state.pi
        state.pi = None
        state.count += 1
        if self.baseline:
            state.baseline += (rewards - state.baseline) / state.count
        step = self.alpha * (rewards - state.baseline)
        state.h -= step[:, None] * pi
        state.h[_rows(actions)] += step
        return state

    def describe(self) -> str:
        return f"gradient alpha={self.alpha:g} " + (
            "with baseline" if self.baseline else "without baseline"
        )
