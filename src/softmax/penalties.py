"""Penalties on the coefficient matrix (never on the intercept).

A penalty is a small class with ``value``, ``gradient`` and ``hessp`` on the
``coef`` block of shape ``(n_classes, n_features)``; the objective adds them
to the data term. ``strength`` is on the scale of the objective the solver
sees (see :class:`softmax._objective.Objective`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["L2"]


class L2:
    """Ridge penalty ``strength / 2 * ||coef||_F^2``.

    With ``strength = 1 / C`` on the summed loss this is scikit-learn
    ``LogisticRegression``'s ``||W||^2 / (2C)``; ``strength = 0`` is no penalty.
    """

    def __init__(self, strength: float) -> None:
        if not strength >= 0:
            raise ValueError(f"penalty strength must be >= 0, got {strength}")
        self.strength = float(strength)

    def value(self, coef: NDArray) -> float:
        return 0.5 * self.strength * float(np.vdot(coef, coef))

    def gradient(self, coef: NDArray) -> NDArray:
        return self.strength * coef

    def hessp(self, v_coef: NDArray) -> NDArray:
        return self.strength * v_coef
