"""Named methods of the textbook experiments and their published results.

A *spec* names a policy family and, optionally, its main parameter:
``"greedy"``, ``"epsilon=0.1"``, ``"optimistic=5"``, ``"ucb=2"``,
``"softmax=4"``, ``"boltzmann-gumbel=0.5"``, ``"gradient=0.1"``,
``"gradient-nobaseline=0.4"``. :func:`method` turns a spec into a policy,
the testbed the textbook runs it on, and the textbook's numbers when there
are any. The command ``softmax bandit --policies`` takes the same specs.

Reference values are read off Sutton and Barto, *Reinforcement Learning: An
Introduction*, 2nd ed., chapter 2 (figures 2.2-2.5), for 2000 runs of the
10-armed testbed, as the mean over steps 951-1000; their tolerance is about
+-0.03 reward and +-3 points of % optimal action. The Boltzmann entries come
from Cesa-Bianchi et al. (NeurIPS 2017) and a constant-beta study, and are
only approximate (``checked=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .policies import UCB, BoltzmannGumbel, EpsilonGreedy, GradientBandit, Policy, SoftmaxPolicy
from .testbed import Testbed

__all__ = ["FAMILIES", "TEXTBOOK", "Method", "method"]

#: Tolerances of the reproduction at step 1000 (reward, fraction optimal).
REWARD_TOLERANCE = 0.03
OPTIMAL_TOLERANCE = 0.03

_STANDARD = Testbed(k=10, mean=0.0)
# Gradient-bandit experiments shift every true value by +4 to show why a baseline matters.
_SHIFTED = Testbed(k=10, mean=4.0)


@dataclass(frozen=True)
class _Family:
    build: Callable[[float], Policy]
    default: float | None  # None: the family takes no parameter
    testbed: Testbed
    meaning: str


#: Policy families by spec name: how to build one, the default parameter, the testbed.
FAMILIES: dict[str, _Family] = {
    "greedy": _Family(lambda _: EpsilonGreedy(0.0), None, _STANDARD, "greedy, sample averages"),
    "epsilon": _Family(lambda e: EpsilonGreedy(e), 0.1, _STANDARD, "epsilon-greedy: epsilon"),
    "optimistic": _Family(
        lambda q1: EpsilonGreedy(0.0, initial=q1, alpha=0.1),
        5.0,
        _STANDARD,
        "greedy with alpha 0.1 from optimistic initial values Q1",
    ),
    "ucb": _Family(lambda c: UCB(c), 2.0, _STANDARD, "upper confidence bound: c"),
    "softmax": _Family(
        lambda b: SoftmaxPolicy(beta=b), 4.0, _STANDARD, "Boltzmann selection: beta"
    ),
    "boltzmann-gumbel": _Family(
        lambda c: BoltzmannGumbel(c), 0.5, _STANDARD, "Boltzmann-Gumbel exploration: C"
    ),
    "gradient": _Family(
        lambda a: GradientBandit(a, baseline=True), 0.1, _SHIFTED, "gradient bandit: alpha"
    ),
    "gradient-nobaseline": _Family(
        lambda a: GradientBandit(a, baseline=False),
        0.1,
        _SHIFTED,
        "gradient bandit without baseline: alpha",
    ),
}

# spec -> (reward at step 1000 or None, fraction optimal at step 1000, checked)
_REFERENCE: dict[str, tuple[float | None, float, bool]] = {
    "greedy": (1.01, 0.35, True),
    "epsilon=0.01": (1.29, 0.59, True),
    "epsilon=0.1": (1.37, 0.80, True),
    "optimistic=5": (1.50, 0.86, True),
    "ucb=2": (1.48, 0.86, True),
    "gradient=0.1": (None, 0.84, True),
    "gradient-nobaseline=0.1": (None, 0.50, True),
    "gradient=0.4": (None, 0.72, True),
    "gradient-nobaseline=0.4": (None, 0.27, True),
    "softmax=4": (None, 0.75, False),
    "boltzmann-gumbel=0.5": (None, 0.92, False),
}

#: The specs of the textbook comparison, in table order.
TEXTBOOK: tuple[str, ...] = tuple(_REFERENCE)


@dataclass(frozen=True)
class Method:
    """A policy on its testbed, with the textbook's numbers where known.

    Attributes
    ----------
    spec : str
        Canonical spec, e.g. ``"epsilon=0.1"``.
    policy : Policy
    testbed : Testbed
    reward : float or None
        Published mean reward over steps 951-1000.
    optimal : float or None
        Published fraction of optimal actions over steps 951-1000.
    checked : bool
        Whether the reproduction must match within the tolerances (the
        textbook's own figures); ``False`` for approximate literature values.

    Examples
    --------
    >>> m = method("ucb=2")
    >>> m.policy.describe(), m.reward, m.optimal
    ('UCB c=2', 1.48, 0.86)
    """

    spec: str
    policy: Policy
    testbed: Testbed
    reward: float | None = None
    optimal: float | None = None
    checked: bool = False

    @property
    def label(self) -> str:
        """The policy's description, e.g. ``"UCB c=2"``."""
        return self.policy.describe()


def method(spec: str) -> Method:
    """Parse a spec such as ``"ucb=2"`` or ``"greedy"`` into a :class:`Method`.

    Raises
    ------
    ValueError
        For an unknown family or a parameter that is not a valid number.

    Examples
    --------
    >>> m = method("epsilon=0.10")
    >>> m.spec, m.label, m.optimal
    ('epsilon=0.1', 'epsilon-greedy 0.1', 0.8)
    """
    name, sep, text = spec.strip().lower().partition("=")
    name = name.strip()
    family = FAMILIES.get(name)
    if family is None:
        known = ", ".join(f"{n}[=x]" if f.default is not None else n for n, f in FAMILIES.items())
        raise ValueError(f"unknown policy {spec!r}; choose from {known}")
    if family.default is None:
        if sep:
            raise ValueError(f"policy {name!r} takes no parameter, got {spec!r}")
        canonical, policy = name, family.build(0.0)
    else:
        try:
            value = float(text) if sep else family.default
        except ValueError:
            raise ValueError(f"the parameter of {spec!r} must be a number") from None
        canonical = f"{name}={value:g}"
        policy = family.build(value)
    reward, optimal, checked = _REFERENCE.get(canonical, (None, None, False))
    return Method(canonical, policy, family.testbed, reward, optimal, checked)
