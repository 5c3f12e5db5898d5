"""A contextual softmax policy: action preferences from a SoftmaxRegression model.

In a contextual bandit each round shows features ``x`` and the agent picks
one of ``k`` actions, seeing only that action's reward. Here the policy is

    pi(a | x) = (1 - epsilon) * softmax(beta * s(x))[a] + epsilon / k

where the preferences ``s(x)`` are the class log-probabilities of a
:class:`~softmax.SoftmaxRegression` whose classes are the actions. It learns
from its own log of ``(x, action, reward, propensity)`` by importance-weighted
maximum likelihood: the model is refitted with ``y = action`` and sample
weights ``reward / propensity``. In expectation over the logging policy that
maximises ``sum_a r(x, a) log pi(a | x)``, whose optimum is
``pi(a | x) ∝ r(x, a)``; ``beta > 1`` then sharpens it towards the best action
(the same inverse temperature as in :func:`softmax.softmax`). The ``epsilon``
floor keeps every action explorable and the weights bounded by ``k / epsilon``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from ..estimator import SoftmaxRegression
from ..functions import softmax
from ._sampling import categorical

__all__ = ["ContextualSoftmaxPolicy"]


class ContextualSoftmaxPolicy:
    """Softmax action selection given features, learned from bandit feedback.

    Parameters
    ----------
    n_actions : int
        Number of actions ``k``; actions are the integers ``0 .. k-1``.
    model : SoftmaxRegression, optional
        Template for the preference model (``SoftmaxRegression(standardize=True)``
        by default). If it is already fitted, with action numbers as classes,
        it is the policy until the first :meth:`update`; every update fits a
        clone of it.
    beta : float, default=1.0
        Inverse temperature applied to the model's log-probabilities:
        ``1`` follows the model, larger values exploit, ``0`` is uniform.
    epsilon : float, default=0.05
        Probability mass spread uniformly over all actions, in [0, 1].

    Attributes
    ----------
    model_ : SoftmaxRegression or None
        The fitted preference model; ``None`` while the policy is uniform.
    n_logged_ : int
        Number of rounds in the log.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 2))
    >>> best = (X[:, 0] > 0).astype(int)            # action 1 pays when x0 > 0
    >>> policy = ContextualSoftmaxPolicy(n_actions=2, beta=2.0)
    >>> actions, p = policy.select(X, rng)           # uniform before any update
    >>> rewards = (actions == best).astype(float)
    >>> policy = policy.update(X, actions, rewards, p)
    >>> float((policy.probabilities(X).argmax(axis=1) == best).mean()) > 0.9
    True
    """

    def __init__(
        self,
        n_actions: int,
        model: SoftmaxRegression | None = None,
        *,
        beta: float = 1.0,
        epsilon: float = 0.05,
    ) -> None:
        if int(n_actions) != n_actions or n_actions < 2:
            raise ValueError(f"n_actions must be an integer >= 2, got {n_actions!r}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        if not np.isfinite(beta) or beta < 0:
            raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
        self.n_actions = int(n_actions)
        self.model = SoftmaxRegression(standardize=True) if model is None else model
        self.beta = float(beta)
        self.epsilon = float(epsilon)
        self.model_ = self.model if hasattr(self.model, "classes_") else None
        self._log: list[tuple[NDArray, NDArray, NDArray, NDArray]] = []
        self.n_logged_ = 0

    def preferences(self, X: ArrayLike) -> NDArray[np.float64]:
        """Action preferences: the model's class log-probabilities.

        Returns
        -------
        s : ndarray of shape (n_samples, n_actions)
            Zeros before the model is fitted; ``-inf`` for actions the model
            has never seen rewarded (only the epsilon floor reaches them).
        """
        X = np.asarray(X, dtype=float)
        if self.model_ is None:
            return np.zeros((X.shape[0], self.n_actions))
        s = np.full((X.shape[0], self.n_actions), -np.inf)
        s[:, self.model_.classes_.astype(int)] = self.model_.predict_log_proba(X)
        return s

    def probabilities(self, X: ArrayLike) -> NDArray[np.float64]:
        """Action probabilities ``pi(a | x)``, shape (n_samples, n_actions)."""
        p = softmax(self.preferences(X), axis=1, beta=self.beta)
        return (1.0 - self.epsilon) * p + self.epsilon / self.n_actions

    def select(
        self, X: ArrayLike, rng: np.random.Generator
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Draw one action per row of `X`.

        Returns
        -------
        actions : ndarray of int, shape (n_samples,)
        propensities : ndarray of shape (n_samples,)
            The probability with which each action was chosen; pass it back to
            :meth:`update` (and keep it for off-policy evaluation).
        """
        p = self.probabilities(X)
        actions = categorical(p, rng)
        return actions, p[np.arange(len(actions)), actions]

    def update(
        self,
        X: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        propensities: ArrayLike,
    ) -> ContextualSoftmaxPolicy:
        """Add a batch of rounds to the log and refit the preference model on all of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        actions : array-like of int, shape (n_samples,)
        rewards : array-like of shape (n_samples,)
            Non-negative rewards (shift them if needed: weights must be >= 0).
        propensities : array-like of shape (n_samples,)
            Probabilities of the actions under the policy that chose them.

        Returns
        -------
        self
        """
        X = np.asarray(X, dtype=float)
        actions = np.asarray(actions)
        rewards = np.asarray(rewards, dtype=float)
        propensities = np.asarray(propensities, dtype=float)
        n = X.shape[0]
        if not (actions.shape == rewards.shape == propensities.shape == (n,)):
            raise ValueError("actions, rewards and propensities need one entry per row of X")
        if actions.size and (actions.min() < 0 or actions.max() >= self.n_actions):
            raise ValueError(f"actions must be integers in 0..{self.n_actions - 1}")
        if np.any(rewards < 0) or not np.all(np.isfinite(rewards)):
            raise ValueError("rewards must be finite and >= 0 (they become sample weights)")
        if np.any(propensities <= 0) or np.any(propensities > 1):
            raise ValueError("propensities must be probabilities in (0, 1]")
        self._log.append((X, actions.astype(int), rewards, propensities))
        self.n_logged_ += n
        self._refit()
        return self

    def _refit(self) -> None:
        X, actions, rewards, propensities = (np.concatenate(c) for c in zip(*self._log))
        weights = rewards / propensities
        keep = weights > 0  # zero-weight rows add nothing but solver work
        if np.unique(actions[keep]).size < 2:
            return  # softmax regression needs two rewarded actions; stay as we are
        self.model_ = clone(self.model).fit(X[keep], actions[keep], sample_weight=weights[keep])
