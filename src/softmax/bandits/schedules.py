"""Schedules for a policy parameter, such as the inverse temperature ``beta``.

A schedule is any callable ``schedule(t) -> float`` of the step number ``t``
(1 for the first action). The classes here cover the usual annealing shapes;
a plain number means a constant, and any function of ``t`` works as well::

    SoftmaxPolicy(beta=4.0)                        # constant
    SoftmaxPolicy(beta=Linear(0.5, 8.0, steps=500))
    SoftmaxPolicy(beta=Exponential(0.5, 8.0, steps=500))
    SoftmaxPolicy(beta=Logarithmic(2.0))           # beta_t = 2 log(1 + t)
    SoftmaxPolicy(beta=lambda t: min(8.0, 0.01 * t))

Annealing ``beta`` upwards moves from exploring to exploiting. Note that no
monotone schedule of Boltzmann exploration is good on every problem
(Cesa-Bianchi et al., 2017); see :class:`~softmax.bandits.BoltzmannGumbel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Constant", "Exponential", "Linear", "Logarithmic", "Schedule", "as_schedule"]

#: What a policy accepts for a scheduled parameter.
Schedule = Callable[[int], float]


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _positive_steps(steps: int) -> int:
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    return int(steps)


@dataclass(frozen=True)
class Constant:
    """The same value at every step.

    Examples
    --------
    >>> Constant(4.0)(1), Constant(4.0)(1000)
    (4.0, 4.0)
    """

    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _finite("value", self.value))

    def __call__(self, t: int) -> float:
        return self.value


@dataclass(frozen=True)
class Linear:
    """Straight line from `start` (step 1) to `stop` (step `steps`), then constant.

    Examples
    --------
    >>> s = Linear(0.0, 10.0, steps=11)
    >>> s(1), s(6), s(11), s(500)
    (0.0, 5.0, 10.0, 10.0)
    """

    start: float
    stop: float
    steps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _finite("start", self.start))
        object.__setattr__(self, "stop", _finite("stop", self.stop))
        object.__setattr__(self, "steps", _positive_steps(self.steps))

    def __call__(self, t: int) -> float:
        if self.steps == 1:
            return self.stop
        fraction = min(max(t - 1, 0) / (self.steps - 1), 1.0)
        return self.start + fraction * (self.stop - self.start)


@dataclass(frozen=True)
class Exponential:
    """Geometric path from `start` (step 1) to `stop` (step `steps`), then constant.

    Each step multiplies the value by the same factor
    ``(stop / start) ** (1 / (steps - 1))``; both ends must be positive.

    Examples
    --------
    >>> s = Exponential(1.0, 100.0, steps=3)
    >>> s(1), round(s(2), 12), s(3), s(9)
    (1.0, 10.0, 100.0, 100.0)
    """

    start: float
    stop: float
    steps: int

    def __post_init__(self) -> None:
        for name in ("start", "stop"):
            value = _finite(name, getattr(self, name))
            if value <= 0:
                raise ValueError(f"{name} must be positive for an exponential schedule")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "steps", _positive_steps(self.steps))

    def __call__(self, t: int) -> float:
        if self.steps == 1 or t >= self.steps:
            return self.stop
        fraction = max(t - 1, 0) / (self.steps - 1)
        if fraction == 0.0:
            return self.start  # exactly, not exp(log(start))
        # Interpolate the logarithms: no overflow however far apart the ends are.
        return math.exp((1 - fraction) * math.log(self.start) + fraction * math.log(self.stop))


@dataclass(frozen=True)
class Logarithmic:
    """``scale * log(1 + t)``: the classic slowly cooling schedule.

    Examples
    --------
    >>> round(Logarithmic(2.0)(1), 4)
    1.3863
    """

    scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _finite("scale", self.scale))

    def __call__(self, t: int) -> float:
        return self.scale * math.log1p(max(t, 0))


def as_schedule(value: float | Schedule) -> Schedule:
    """A schedule for `value`: numbers become :class:`Constant`, callables pass through."""
    if callable(value):
        return value
    return Constant(value)
