"""Run a policy on a testbed for many independent runs at once."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .policies import Policy
from .testbed import Testbed

__all__ = ["BanditResult", "memory_bytes", "simulate"]

#: Steps averaged for the "at step 1000" numbers (the textbook reads its curves there).
FINAL_STEPS = 50

# float64 values alive at the peak of a step, measured with tracemalloc on every
# textbook policy: per run and arm, 10 for the hungriest policy (Boltzmann-Gumbel:
# values, counts and its scores' temporaries) and 2 more for a drifting testbed's
# draws; per run, the actions, chosen and best values, rewards and row indices;
# per step, the two curves that are returned.
_PER_ARM, _PER_RUN, _PER_STEP = 12, 8, 2
_GIB = 1 << 30


def memory_bytes(runs: int, steps: int, k: int = 10) -> int:
    """About how many bytes :func:`simulate` needs at its peak, for any policy.

    Parameters
    ----------
    runs, steps : int
    k : int, default=10
        Arms of the testbed.

    Examples
    --------
    >>> round(memory_bytes(2000, 1000) / 2**20, 1)  # the textbook's experiment, in MiB
    2.0
    """
    return 8 * (runs * (k * _PER_ARM + _PER_RUN) + steps * _PER_STEP)


def _check_memory(runs: int, steps: int, k: int) -> None:
    """Refuse, before allocating anything, a simulation larger than the machine's memory."""
    try:
        have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): cannot tell
        return
    need = memory_bytes(runs, steps, k)
    if need > have:
        raise SoftmaxInputError(
            f"Simulating {runs:,} runs x {steps:,} steps needs about {need / _GIB:,.0f} GiB of "
            f"memory; this machine has {have / _GIB:,.0f} GiB. Use fewer runs or steps."
        )


@dataclass(frozen=True, eq=False)
class BanditResult:
    """Learning curves of one policy, averaged over runs.

    Attributes
    ----------
    mean_reward : ndarray of shape (steps,)
        Reward at each step, averaged over runs.
    optimal_fraction : ndarray of shape (steps,)
        Fraction of runs that chose an optimal arm (one with the largest true
        value at that step), between 0 and 1.
    policy : Policy
    testbed : Testbed
    runs : int
    steps : int
    seed : int or None
        The seed given to :func:`simulate` (``None`` for a Generator or no seed).
    seconds : float
        Wall time of the simulation.

    Examples
    --------
    >>> from softmax.bandits import SoftmaxPolicy, Testbed
    >>> result = simulate(SoftmaxPolicy(beta=4.0), Testbed(k=10), runs=100, steps=50, seed=0)
    >>> result.mean_reward.shape, result.runs, result.label
    ((50,), 100, 'softmax beta=4')
    """

    mean_reward: NDArray[np.float64]
    optimal_fraction: NDArray[np.float64]
    policy: Policy
    testbed: Testbed
    runs: int
    steps: int
    seed: int | None
    seconds: float

    @property
    def label(self) -> str:
        """The policy's description, e.g. ``"UCB c=2"``."""
        return self.policy.describe()

    def final_reward(self, last: int = FINAL_STEPS) -> float:
        """Mean reward over the `last` steps (steps 951-1000 of a 1000-step run)."""
        return float(self.mean_reward[-last:].mean())

    def final_optimal(self, last: int = FINAL_STEPS) -> float:
        """Fraction of optimal actions over the `last` steps."""
        return float(self.optimal_fraction[-last:].mean())

    @property
    def average_reward(self) -> float:
        """Mean reward over all steps (the textbook's parameter-study measure)."""
        return float(self.mean_reward.mean())


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def simulate(
    policy: Policy,
    testbed: Testbed | None = None,
    runs: int = 2000,
    steps: int = 1000,
    seed: int | np.random.Generator | None = 0,
) -> BanditResult:
    """Run `policy` on `runs` independent problems from `testbed` for `steps` steps.

    All runs advance together: each step is a handful of array operations on
    arrays of shape ``(runs, k)``, with no Python loop over runs. Every random
    draw comes from one Generator: first the true values of all runs, then
    the policy's initial state, then each step's action and reward draws. So
    two policies simulated with the same seed face the same problems.

    Parameters
    ----------
    policy : Policy
        For instance ``EpsilonGreedy(0.1)`` or ``SoftmaxPolicy(beta=4.0)``.
    testbed : Testbed, optional
        The bandit problems; ``Testbed()`` (10 arms, ``q* ~ N(0, 1)``) if omitted.
    runs : int, default=2000
    steps : int, default=1000
    seed : int, Generator or None, default=0
        Seed of :func:`numpy.random.default_rng`, or a Generator to draw from.

    Returns
    -------
    BanditResult
        ``mean_reward`` and ``optimal_fraction`` of shape ``(steps,)``.

    Raises
    ------
    SoftmaxInputError
        If the simulation needs more memory than the machine has
        (:func:`memory_bytes`); checked before anything is allocated.

    Examples
    --------
    >>> from softmax.bandits import EpsilonGreedy, Testbed, simulate
    >>> result = simulate(EpsilonGreedy(0.1), Testbed(k=10), runs=200, steps=100)
    >>> result.mean_reward.shape, result.optimal_fraction.shape
    ((100,), (100,))
    """
    testbed = Testbed() if testbed is None else testbed
    runs = _positive_int("runs", runs)
    steps = _positive_int("steps", steps)
    _check_memory(runs, steps, testbed.k)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()

    q = testbed.reset(runs, rng)
    state = policy.init(runs, testbed.k, rng)
    rows = np.arange(runs)
    best = q.max(axis=1)
    mean_reward = np.empty(steps)
    optimal = np.empty(steps)
    for t in range(1, steps + 1):
        actions = np.asarray(policy.select(state, t, rng))
        if t == 1:  # checked once: a bad policy fails here, not with an IndexError later
            _check_actions(actions, runs, testbed.k)
        chosen = q[rows, actions]
        rewards = testbed.reward(chosen, rng)
        mean_reward[t - 1] = rewards.mean()
        # Compare values, not indices, so tied best arms (equal fixed means) all count.
        optimal[t - 1] = np.count_nonzero(chosen >= best) / runs
        state = policy.update(state, actions, rewards, t)
        if not testbed.stationary:
            q = testbed.drift(q, rng)
            best = q.max(axis=1)

    return BanditResult(
        mean_reward=mean_reward,
        optimal_fraction=optimal,
        policy=policy,
        testbed=testbed,
        runs=runs,
        steps=steps,
        seed=seed if isinstance(seed, (int, np.integer)) else None,
        seconds=time.perf_counter() - start,
    )


def _check_actions(actions: NDArray, runs: int, k: int) -> None:
    if actions.shape != (runs,) or actions.dtype.kind not in "iu":
        raise ValueError(
            f"policy.select must return integer actions of shape ({runs},), "
            f"got dtype {actions.dtype} and shape {actions.shape}"
        )
    if actions.min() < 0 or actions.max() >= k:
        raise ValueError(f"policy.select returned actions outside 0..{k - 1}")
