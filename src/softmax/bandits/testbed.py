"""The k-armed testbed: Gaussian rewards around per-run true action values.

One :class:`Testbed` describes a family of bandit problems; it draws the true
values of many independent runs at once as an array of shape ``(runs, k)``,
so a whole experiment advances with a few array operations per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Testbed"]


@dataclass(frozen=True)
class Testbed:
    """A k-armed bandit with Gaussian rewards (Sutton and Barto, section 2.3).

    Each run draws true action values ``q*(a) ~ N(mean, sd**2)`` (or uses the
    fixed ``means``); pulling arm ``a`` pays ``N(q*(a), noise**2)``. With
    ``walk > 0`` the problem is non-stationary: after every step each
    ``q*(a)`` takes an independent random-walk step ``N(0, walk**2)``.

    Parameters
    ----------
    k : int, default=10
        Number of arms.
    mean : float, default=0.0
        Mean of the distribution the true values are drawn from. The
        gradient-bandit experiments of the textbook use ``mean=4.0``.
    sd : float, default=1.0
        Standard deviation of that distribution; ``0`` starts every arm at
        ``mean`` (the non-stationary exercise 2.5).
    means : sequence of float of length k, optional
        Fixed true values, the same in every run; overrides ``mean`` and ``sd``.
    noise : float, default=1.0
        Standard deviation of a reward around the true value.
    walk : float, default=0.0
        Standard deviation of the per-step random walk of every true value
        (``0.01`` in exercise 2.5); ``0`` is stationary.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Testbed(k=3, means=[0.0, 1.0, 2.0]).reset(runs=2, rng=rng)
    array([[0., 1., 2.],
           [0., 1., 2.]])
    """

    __test__ = False  # not a pytest test class, despite the name

    k: int = 10
    mean: float = 0.0
    sd: float = 1.0
    means: tuple[float, ...] | None = None
    noise: float = 1.0
    walk: float = 0.0

    def __post_init__(self) -> None:
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        for name in ("sd", "noise", "walk"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not np.isfinite(self.mean):
            raise ValueError(f"mean must be finite, got {self.mean!r}")
        if self.means is not None:
            means = tuple(float(m) for m in np.asarray(self.means, dtype=float).ravel())
            if len(means) != self.k:
                raise ValueError(f"means has {len(means)} values but k is {self.k}")
            # Frozen: a tuple keeps the testbed hashable and immutable.
            object.__setattr__(self, "means", means)

    @classmethod
    def nonstationary(cls, k: int = 10, walk: float = 0.01, start: float = 0.0) -> Testbed:
        """Exercise 2.5: all true values start equal and take random walks.

        Parameters
        ----------
        k : int, default=10
        walk : float, default=0.01
            Standard deviation of each per-step random-walk increment.
        start : float, default=0.0
            The common starting value of every arm.
        """
        return cls(k=k, mean=start, sd=0.0, walk=walk)

    @property
    def stationary(self) -> bool:
        """Whether the true values stay fixed during a run."""
        return self.walk == 0

    def describe(self) -> str:
        """A short description for tables, e.g. ``"q* ~ N(0, 1)"``."""
        if self.means is not None:
            text = "q* = (" + ", ".join(f"{m:g}" for m in self.means) + ")"
        else:
            text = f"q* ~ N({self.mean:g}, {self.sd:g})" if self.sd else f"q* = {self.mean:g}"
        return text + (f", walk {self.walk:g}" if self.walk else "")

    def reset(self, runs: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """True action values of `runs` independent problems.

        Returns
        -------
        q : ndarray of shape (runs, k)
        """
        if self.means is not None:
            q = np.tile(np.asarray(self.means), (runs, 1))
        else:
            q = self.mean + self.sd * rng.standard_normal((runs, self.k))
        # Column-major: reductions over the k arms of each run are then ~10x faster.
        return np.asfortranarray(q)

    def pull(
        self, q: NDArray[np.float64], actions: ArrayLike, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """Rewards for one action per run.

        Parameters
        ----------
        q : ndarray of shape (runs, k)
            True action values.
        actions : array-like of int, shape (runs,)

        Returns
        -------
        rewards : ndarray of shape (runs,)
        """
        return self.reward(q[np.arange(q.shape[0]), np.asarray(actions)], rng)

    def reward(self, values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
        """Rewards around given true values: ``N(values, noise**2)``.

        Parameters
        ----------
        values : ndarray of shape (runs,)
            True values of the chosen arms.

        Returns
        -------
        rewards : ndarray of shape (runs,)
        """
        return values + self.noise * rng.standard_normal(values.shape[0])

    def drift(self, q: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
        """Advance the true values by one random-walk step, in place.

        A stationary testbed returns `q` unchanged and draws nothing, so its
        runs do not depend on whether this is called.

        Returns
        -------
        q : ndarray of shape (runs, k)
            The same array.
        """
        if self.walk:
            q += self.walk * rng.standard_normal(q.shape)
        return q
