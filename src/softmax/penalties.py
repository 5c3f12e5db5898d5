"""Penalties on the coefficient matrix (never on the intercept).

A penalty is a small class with ``value``, ``gradient`` and ``hessp`` on the
``coef`` block of shape ``(n_classes, n_features)``; the objective adds them
to the data term. ``strength`` is on the scale of the objective the solver
sees (see :class:`softmax.loss.objective.Objective`). ``factor``, glmnet's
``penalty.factor``, multiplies the penalty of each feature (column of
``coef``): shape ``(n_features,)``, non-negative, 0 leaving a feature
unpenalised; None is 1 for every feature. It is used as given (glmnet
rescales it to sum to ``n_features``), so all ones is the same as None.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["L1", "L2", "GroupL1", "elastic_net"]


class L2:
    """Ridge penalty ``strength / 2 * ||coef||_F^2``.

    With ``strength = 1 / C`` on the summed loss this is scikit-learn
    ``LogisticRegression``'s ``||W||^2 / (2C)``; ``strength = 0`` is no penalty.

    Examples
    --------
    >>> coef = np.array([[1.0, -2.0], [-1.0, 2.0]])
    >>> L2(strength=1.0).value(coef)  # (1 + 4 + 1 + 4) / 2
    5.0
    >>> L2(strength=0.5).gradient(coef)
    array([[ 0.5, -1. ],
           [-0.5,  1. ]])
    >>> L2(strength=1.0, factor=np.array([0.0, 1.0])).value(coef)  # feature 0 unpenalised
    4.0
    """

    def __init__(self, strength: float, factor: NDArray | None = None) -> None:
        _init(self, strength, factor)

    def _weights(self):
        """``strength`` times the feature factors, broadcasting against ``coef``."""
        return self.strength if self.factor is None else self.strength * self.factor

    def value(self, coef: NDArray) -> float:
        if self.factor is None:
            return 0.5 * self.strength * float(np.vdot(coef, coef))
        return 0.5 * self.strength * float(np.square(coef).sum(axis=0) @ self.factor)

    def gradient(self, coef: NDArray) -> NDArray:
        return self._weights() * coef

    def hessp(self, v_coef: NDArray) -> NDArray:
        return self._weights() * v_coef

    def hessian_diagonal(self, coef: NDArray) -> NDArray:
        """Diagonal of the Hessian (``strength * diag(factor)``), shaped like ``coef``."""
        out = np.empty(coef.shape)  # filled by broadcasting: 2 us, a tenth of broadcast_to's copy
        out[...] = self._weights()
        return out

    def restrict(self, features: NDArray) -> L2:
        """The penalty on the columns ``features`` of ``coef`` only."""
        return _restrict(self, features)


# -- Non-smooth penalties ------------------------------------------------------------------
# They are not differentiable where coefficients are zero, so instead of a gradient they
# offer a proximal operator (what proximal solvers step with) and the minimum-norm
# subgradient (the optimality measure: it is zero exactly at the optimum). Groups are the
# columns of ``coef``: one feature across all classes.


class L1:
    """Lasso penalty ``strength * sum(|coef|)``; every coefficient can become zero.

    With ``strength = 1 / C`` on the summed loss this is scikit-learn
    ``LogisticRegression(l1_ratio=1)``'s ``||W||_1 / C``.

    Examples
    --------
    >>> coef = np.array([[1.0, -2.0], [-1.0, 2.0]])
    >>> L1(strength=1.0).value(coef)
    6.0
    >>> L1(strength=1.0).prox(coef, step=1.5)  # soft-thresholding by 1.5
    array([[ 0. , -0.5],
           [-0. ,  0.5]])
    """

    #: Whether the penalty couples the classes of a feature (it does not: separable).
    grouped = False

    def __init__(self, strength: float, factor: NDArray | None = None) -> None:
        _init(self, strength, factor)

    def _weights(self):
        return self.strength if self.factor is None else self.strength * self.factor

    def value(self, coef: NDArray) -> float:
        if self.factor is None:
            return self.strength * float(np.abs(coef).sum())
        return self.strength * float(np.abs(coef).sum(axis=0) @ self.factor)

    def restrict(self, features: NDArray) -> L1:
        """The penalty on the columns ``features`` of ``coef`` only."""
        return _restrict(self, features)

    def prox(self, coef: NDArray, step) -> NDArray:
        """Soft-thresholding: ``argmin_u ||u - coef||^2 / 2 + step * value(u)``.

        ``step`` is a float or an array broadcasting against ``coef`` (one step
        per coefficient: the penalty is separable).
        """
        return np.sign(coef) * np.maximum(np.abs(coef) - step * self._weights(), 0.0)

    def min_norm_subgradient(self, coef: NDArray, grad: NDArray, scale: float = 1.0) -> NDArray:
        """Smallest element of ``grad + scale * d value(coef)``, shaped like ``coef``.

        Where ``coef`` is zero the subdifferential is ``[-lam, lam]`` with
        ``lam = scale * strength``, so the gradient is shrunk towards zero by ``lam``.
        """
        lam = scale * self._weights()
        shrunk = np.sign(grad) * np.maximum(np.abs(grad) - lam, 0.0)
        return np.where(coef != 0, grad + lam * np.sign(coef), shrunk)

    def smooth_derivatives(self, coef: NDArray):
        """Where the penalty is smooth (non-zero coefficients): mask, gradient, Hessian blocks.

        Returns
        -------
        free : bool ndarray shaped like ``coef``
        gradient : ndarray shaped like ``coef``, zero where not ``free``
        hessian : None
            The penalty is linear there.
        """
        free = coef != 0
        return free, self._weights() * np.sign(coef), None


class GroupL1:
    """Grouped lasso ``strength * sum_j ||coef[:, j]||_2``: a feature is in or out for all classes.

    glmnet's ``type.multinomial="grouped"``. For one class per group (a
    single row) it is :class:`L1`.

    Examples
    --------
    >>> coef = np.array([[3.0, 0.5], [-4.0, 0.0]])
    >>> GroupL1(strength=1.0).value(coef)  # column norms 5 and 0.5
    5.5
    >>> GroupL1(strength=1.0).prox(coef, step=1.0)  # the small column drops out whole
    array([[ 2.4,  0. ],
           [-3.2,  0. ]])
    """

    grouped = True

    def __init__(self, strength: float, factor: NDArray | None = None) -> None:
        _init(self, strength, factor)

    def _weights(self):
        """One weight per group (column), or the strength for all."""
        return self.strength if self.factor is None else self.strength * self.factor

    def value(self, coef: NDArray) -> float:
        norms = np.linalg.norm(coef, axis=0)
        if self.factor is None:
            return self.strength * float(norms.sum())
        return self.strength * float(norms @ self.factor)

    def restrict(self, features: NDArray) -> GroupL1:
        """The penalty on the columns ``features`` of ``coef`` only."""
        return _restrict(self, features)

    def prox(self, coef: NDArray, step) -> NDArray:
        """Group soft-thresholding: each column shrinks in norm by ``step * strength``.

        ``step`` is a float or an array of shape ``(n_features,)``, one per group.
        """
        norms = np.linalg.norm(coef, axis=0)
        # max() keeps 0/0 out: a zero column stays zero.
        shrink = np.maximum(1.0 - step * self._weights() / np.maximum(norms, 1e-300), 0.0)
        return coef * shrink

    def min_norm_subgradient(self, coef: NDArray, grad: NDArray, scale: float = 1.0) -> NDArray:
        """Smallest element of ``grad + scale * d value(coef)``, shaped like ``coef``.

        A non-zero column ``j`` adds ``lam * coef_j / ||coef_j||``; at a zero
        column the subdifferential is the ball of radius ``lam``, so the
        gradient column shrinks in norm by ``lam`` (``lam = scale * strength``).
        """
        lam = np.broadcast_to(scale * self._weights(), coef.shape[1:])
        norms = np.linalg.norm(coef, axis=0)
        gnorms = np.linalg.norm(grad, axis=0)
        active = norms > 0
        out = grad * np.maximum(1.0 - lam / np.maximum(gnorms, 1e-300), 0.0)
        out[:, active] = grad[:, active] + lam[active] * coef[:, active] / norms[active]
        return out

    def smooth_derivatives(self, coef: NDArray):
        """Where the penalty is smooth (non-zero columns): mask, gradient, Hessian blocks.

        Returns
        -------
        free : bool ndarray shaped like ``coef``
            Whole columns.
        gradient : ndarray shaped like ``coef``
            ``strength * coef_j / ||coef_j||``, zero on zero columns.
        hessian : ndarray of shape (n_features, n_classes, n_classes)
            ``strength / ||coef_j|| * (I - u u^T)`` with ``u = coef_j / ||coef_j||``,
            zero on zero columns.
        """
        norms = np.linalg.norm(coef, axis=0)
        active = norms > 0
        unit = coef / np.where(active, norms, 1.0)
        k = coef.shape[0]
        hessian = np.eye(k)[None] - unit.T[:, :, None] * unit.T[:, None, :]
        inverse = np.where(active, 1.0 / np.where(active, norms, 1.0), 0.0)
        weights = np.broadcast_to(self._weights(), norms.shape)
        hessian *= (weights * inverse)[:, None, None]
        free = np.broadcast_to(active, coef.shape)
        return free, weights * unit * active, hessian


def elastic_net(
    strength: float, l1_ratio: float, grouped: bool = False, factor: NDArray | None = None
):
    """Split scikit-learn's elastic net into a smooth and a non-smooth penalty.

    ``strength * ((1 - l1_ratio) / 2 * ||coef||_F^2 + l1_ratio * ||coef||_1)``, the
    L1 norm replaced by the sum of column norms when ``grouped``. With
    ``strength = 1 / C`` this is ``LogisticRegression(C=C, l1_ratio=l1_ratio)``.
    ``factor`` (per feature) multiplies both parts of each feature's penalty.

    Returns
    -------
    smooth : L2
        For ``Objective(..., penalty=smooth)``.
    nonsmooth : L1, GroupL1 or None
        For ``Objective(..., nonsmooth=nonsmooth)``; None when ``l1_ratio == 0``.

    Examples
    --------
    >>> smooth, nonsmooth = elastic_net(strength=2.0, l1_ratio=0.25)
    >>> smooth.strength, type(nonsmooth).__name__, nonsmooth.strength
    (1.5, 'L1', 0.5)
    >>> elastic_net(1.0, 0.0)[1] is None  # pure L2
    True
    """
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    smooth = L2((1.0 - l1_ratio) * strength, factor)
    if l1_ratio == 0:
        return smooth, None
    return smooth, (GroupL1 if grouped else L1)(l1_ratio * strength, factor)


def _init(penalty, strength: float, factor: NDArray | None) -> None:
    """Check and set ``strength`` and ``factor`` (shared by every penalty's constructor)."""
    if not strength >= 0:
        raise ValueError(f"penalty strength must be >= 0, got {strength}")
    penalty.strength = float(strength)
    if factor is not None:
        factor = np.asarray(factor, dtype=np.float64)
        if factor.ndim != 1 or not np.all(factor >= 0) or not np.all(np.isfinite(factor)):
            raise ValueError("penalty factor must be a 1-d array of finite numbers >= 0")
    penalty.factor = factor


def _restrict(penalty, features: NDArray):
    """``penalty`` on the columns ``features`` only: the same strength, their factors."""
    if penalty.factor is None:
        return penalty
    return type(penalty)(penalty.strength, penalty.factor[features])
