"""glmnet's per-feature options: penalty factors and coefficient bounds.

``penalty_factor`` multiplies the penalty of each feature (glmnet's
``penalty.factor``); ``lower_bounds`` and ``upper_bounds`` box the
coefficients (glmnet's ``lower.limits`` and ``upper.limits``). Both are
given in the estimator's parameters and turned here, once per fit, into what
the lower layers take: a factor array for :mod:`softmax.penalties` and flat
bounds in the solver's coordinates for :class:`softmax.loss.objective.Objective`.
Only fits of arrays in memory take them; the other paths refuse them here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["coefficient_bounds", "check_solver", "penalty_factor", "refuse"]

#: The estimator parameters this module gives a meaning to.
OPTIONS = ("penalty_factor", "lower_bounds", "upper_bounds")


def penalty_factor(model, n_features: int) -> NDArray | None:
    """``model.penalty_factor`` checked against the data: float64 of shape (n_features,), or None.

    Raises
    ------
    ValueError
        For a wrong shape, or entries negative, infinite or NaN.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> penalty_factor(SoftmaxRegression(penalty_factor=[0, 1, 2]), 3)
    array([0., 1., 2.])
    """
    factor = model.penalty_factor
    if factor is None:
        return None
    factor = np.asarray(factor, dtype=np.float64)
    if factor.shape != (n_features,):
        raise ValueError(
            f"penalty_factor must have one entry per feature, shape ({n_features},), "
            f"got shape {factor.shape}"
        )
    if not (np.all(np.isfinite(factor)) and np.all(factor >= 0)):
        raise ValueError("penalty_factor must be finite and >= 0 (0 leaves a feature unpenalised)")
    return factor


def coefficient_bounds(model, linear_loss) -> tuple[NDArray, NDArray] | None:
    """Flat lower and upper bounds of the solver's vector, or None without bounds.

    ``lower_bounds`` and ``upper_bounds`` (scalars or arrays broadcasting to
    ``coef_``'s shape ``(n_classes, n_features)``, in the original units)
    bound the coefficients, never the intercepts. With ``standardize=True``
    the solver works on ``theta_j = coef_j * scale_j`` (scale > 0), so the
    bounds are scaled alike (:meth:`from_original_coef` of the layout).

    Raises
    ------
    ValueError
        For shapes that do not broadcast, NaN, or a lower bound above an upper one.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> from softmax.loss.linear import LinearModelLoss
    >>> lower, upper = coefficient_bounds(
    ...     SoftmaxRegression(lower_bounds=0.0), LinearModelLoss(2, 1, fit_intercept=True)
    ... )
    >>> lower, upper
    (array([  0., -inf,   0., -inf]), array([inf, inf, inf, inf]))
    """
    if model.lower_bounds is None and model.upper_bounds is None:
        return None
    shape = (linear_loss.n_classes, linear_loss.n_features)
    flat = []
    for name, default in (("lower_bounds", -np.inf), ("upper_bounds", np.inf)):
        given = getattr(model, name)
        value = np.asarray(default if given is None else given, dtype=np.float64)
        try:
            value = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                f"{name} must be a number or broadcast to coef_'s shape {shape} "
                f"(n_classes, n_features), got shape {value.shape}"
            ) from None
        if np.any(np.isnan(value)):
            raise ValueError(f"{name} must not contain NaN")
        theta = linear_loss.from_original_coef(value, np.zeros(shape[0]))[0]
        out = np.full(linear_loss.n_params, default)
        linear_loss.coef_view(out)[...] = theta
        flat.append(out)
    if np.any(flat[0] > flat[1]):
        raise ValueError("lower_bounds must not exceed upper_bounds")
    return flat[0], flat[1]


def check_solver(model, name: str, solver_cls, problem) -> None:
    """Refuse bounds with a solver that cannot keep them, or with an L1 part.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> from softmax.solvers import SOLVERS
    >>> from softmax.model.problem import Problem
    >>> model = SoftmaxRegression(solver="newton-cg", lower_bounds=0.0)
    >>> problem = Problem.build(model, np.array([0, 1]), 2, 10.0)
    >>> check_solver(model, "newton-cg", SOLVERS["newton-cg"], problem)
    Traceback (most recent call last):
    ...
    ValueError: lower_bounds and upper_bounds need solver='lbfgs' (or 'auto'), ...
    """
    if problem.bounds is None:
        return
    if problem.nonsmooth is not None:
        raise ValueError(
            "lower_bounds and upper_bounds work with the L2 penalty only (solver='lbfgs', "
            f"L-BFGS-B); set l1_ratio=0, not {model.l1_ratio}"
        )
    if not solver_cls.supports_bounds:
        raise ValueError(
            "lower_bounds and upper_bounds need solver='lbfgs' (or 'auto'), which keeps "
            f"them with L-BFGS-B; solver={name!r} cannot"
        )


def refuse(model, where: str) -> None:
    """Raise ValueError when ``model`` sets a per-feature option that ``where`` cannot take.

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> refuse(SoftmaxRegression(), "a stream of chunks")  # nothing set: nothing to refuse
    >>> refuse(SoftmaxRegression(upper_bounds=1.0), "a stream of chunks")
    Traceback (most recent call last):
    ...
    ValueError: upper_bounds is not supported for a stream of chunks; ...
    """
    used = [name for name in OPTIONS if getattr(model, name, None) is not None]
    if used:
        raise ValueError(
            f"{' and '.join(used)} {'is' if len(used) == 1 else 'are'} not supported for "
            f"{where}; fit arrays in memory (NumPy or SciPy sparse) to use "
            f"{'it' if len(used) == 1 else 'them'}"
        )
