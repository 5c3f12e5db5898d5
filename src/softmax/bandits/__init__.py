"""Softmax action selection for reinforcement learning: k-armed bandits.

The k-armed testbed of Sutton and Barto (*Reinforcement Learning*, 2nd ed.,
chapter 2), the classic action-selection policies, and a simulator that runs
thousands of independent runs at once (arrays of shape ``(runs, k)``, no
Python loop over runs: 2000 runs x 1000 steps take a second or two).

>>> from softmax.bandits import EpsilonGreedy, Testbed, simulate
>>> result = simulate(EpsilonGreedy(epsilon=0.1), Testbed(k=10, mean=0.0),
...                   runs=500, steps=300, seed=0)
>>> result.mean_reward.shape, result.optimal_fraction.shape
((300,), (300,))

Environment
    :class:`Testbed` -- Gaussian rewards around true values ``q* ~ N(mean, sd)``
    (or fixed ``means``); ``walk > 0`` (or :meth:`Testbed.nonstationary`)
    makes them drift as random walks.
Policies (one interface: ``init`` / ``select`` / ``update`` over batched state)
    :class:`EpsilonGreedy` (``epsilon=0`` is greedy; ``initial=5, alpha=0.1``
    is optimistic greedy), :class:`UCB`, :class:`SoftmaxPolicy` (Boltzmann
    selection with inverse temperature ``beta``, constant or scheduled),
    :class:`BoltzmannGumbel` (Cesa-Bianchi et al., 2017) and
    :class:`GradientBandit` (softmax preferences, with or without baseline).
    Value-based policies use sample averages (``alpha=None``) or a constant
    step size ``alpha``.
Schedules
    :class:`Constant`, :class:`Linear`, :class:`Exponential`,
    :class:`Logarithmic`, or any function of the step ``t`` (1-based), e.g.
    ``SoftmaxPolicy(beta=Linear(0.5, 8.0, steps=500))``.
Simulation
    :func:`simulate` returns a :class:`BanditResult` with ``mean_reward`` and
    ``optimal_fraction`` of shape ``(steps,)``; :func:`plot_results` draws
    them. :func:`method` builds the textbook's named methods (``"ucb=2"``)
    with their published results; ``softmax bandit`` is the command line.
Contextual bandits
    :class:`ContextualSoftmaxPolicy` -- ``pi(a | x)`` from a
    :class:`~softmax.SoftmaxRegression` model, learned from bandit feedback.
"""

from .contextual import ContextualSoftmaxPolicy
from .plotting import plot_results
from .policies import (
    UCB,
    BoltzmannGumbel,
    EpsilonGreedy,
    GradientBandit,
    Policy,
    PreferenceState,
    SoftmaxPolicy,
    ValueState,
)
from .schedules import Constant, Exponential, Linear, Logarithmic, Schedule
from .simulate import BanditResult, simulate
from .testbed import Testbed
from .textbook import TEXTBOOK, Method, method

__all__ = [
    "TEXTBOOK",
    "UCB",
    "BanditResult",
    "BoltzmannGumbel",
    "Constant",
    "ContextualSoftmaxPolicy",
    "EpsilonGreedy",
    "Exponential",
    "GradientBandit",
    "Linear",
    "Logarithmic",
    "Method",
    "Policy",
    "PreferenceState",
    "Schedule",
    "SoftmaxPolicy",
    "Testbed",
    "ValueState",
    "method",
    "plot_results",
    "simulate",
]
