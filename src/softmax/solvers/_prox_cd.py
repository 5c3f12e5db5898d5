"""Inner solver of :class:`softmax.solvers.ProxNewton`: the penalised quadratic model.

The model over a working set is ``g.(u - u0) + (u - u0).A(u - u0) / 2 + h(u)``
with an explicit matrix ``A``. ``u`` is stored in blocks of ``k`` entries, one
block per feature (its ``n_classes`` coefficients); the first ``n_penalised``
blocks carry the non-smooth penalty ``h`` (a column of ``coef`` each) and the
rest are unpenalised intercepts.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

__all__ = ["block_cd"]


def block_cd(objective, A, g, u0, k, n_penalised, tol, max_sweeps, features=None):
    """Minimise ``g.(u - u0) + (u - u0).A(u - u0) / 2 + h(u)`` by block coordinate descent.

    Each block step minimises a majoriser of the model in that block: for a
    separable ``h`` (``L1``) the diagonal of the block's absolute row sums
    (``A_bb - diag(sum_c |A_bc|)`` is negative semi-definite), so every entry
    gets its own step and soft-thresholding is exact; for a grouped ``h`` the
    block's largest eigenvalue, one step per group. The unpenalised intercept
    block is minimised exactly. Once a sweep leaves the support (the non-zero
    entries) unchanged, a Newton step on the support is tried: the model is
    smooth there (quadratic for ``L1``, so with the right support one step
    solves it) while coordinate descent converges only linearly.

    Parameters
    ----------
    objective : Objective
        Supplies ``nonsmooth`` (``h``, or None) and ``scale``.
    A : ndarray of shape (n, n)
        Positive semi-definite, ``n = n_blocks * k``.
    g, u0 : ndarray of shape (n,)
        Gradient and point the model is built at.
    k : int
        Block size (``n_classes``).
    n_penalised : int
        Leading blocks that carry ``h``.
    tol : float
        Stop when the model's minimum-norm subgradient has max-abs ``<= tol``.
    max_sweeps : int
    features : ndarray of int, optional
        The features of the penalised blocks (all of them when None), whose
        penalty factors ``h`` applies.

    Returns
    -------
    u : ndarray of shape (n,)
    sweeps : int
    """
    h = objective.nonsmooth
    if h is not None and features is not None:
        h = h.restrict(features)
    scale = objective.scale
    # Each step proxes one column, so a feature's penalty factor goes into its step.
    prox = None if h is None else type(h)(h.strength).prox
    weight = np.ones(n_penalised) if h is None or h.factor is None else h.factor
    n_blocks = len(u0) // k
    blocks = A.reshape(n_blocks, k, n_blocks, k)
    diagonal = blocks[np.arange(n_blocks), :, np.arange(n_blocks), :]  # (n_blocks, k, k)
    grouped = h is not None and getattr(h, "grouped", False)
    if grouped:
        # One step per group: the block's largest eigenvalue majorises it.
        steps = 1.0 / np.maximum(np.linalg.eigvalsh(diagonal)[:, -1], 1e-300)
    else:
        # A - diag(row sums of |A|) is negative semi-definite: a per-coefficient majoriser.
        steps = 1.0 / np.maximum(np.abs(diagonal).sum(axis=2), 1e-300)
    # The intercepts: exact minimisation (their block is singular along "all equal").
    exact = [np.linalg.pinv(diagonal[b], hermitian=True) for b in range(n_penalised, n_blocks)]
    rows = [A[b * k : (b + 1) * k] for b in range(n_blocks)]

    u = u0.copy()
    r = g.copy()  # the model's gradient at u
    support = u != 0
    wait, next_newton = 1, 1
    for sweep in range(1, max_sweeps + 1):
        for b in range(n_blocks):
            sl = slice(b * k, (b + 1) * k)
            ub = u[sl]
            if b < n_penalised:
                z = ub - steps[b] * r[sl]
                new = z if h is None else prox(z, steps[b] * scale * weight[b])
            else:
                new = ub - exact[b - n_penalised] @ r[sl]
            change = new - ub
            if change.any():
                r += change @ rows[b]
                u[sl] = new
        if _model_optimality(h, scale, u, r, k, n_penalised) <= tol:
            return u, sweep
        previous, support = support, u != 0
        if sweep >= next_newton and np.array_equal(previous, support):
            found = _support_newton(h, scale, A, g, u0, u, r, k, n_penalised)
            if found is not None:
                u, r = found
                if _model_optimality(h, scale, u, r, k, n_penalised) <= tol:
                    return u, sweep
            else:
                wait *= 2  # rejected: wait longer before the next try
            next_newton = sweep + wait
    return u, max_sweeps


def _penalised(u, k, n_penalised):
    """The penalised part of ``u`` as a ``(k, n_penalised)`` coefficient matrix."""
    return u[: n_penalised * k].reshape(n_penalised, k).T


def _model_value(h, scale, g, u0, u, r, k, n_penalised) -> float:
    """Model value ``g.d + d.A d / 2 + h(u)``, ``d = u - u0``, from ``r = g + A d``."""
    value = 0.5 * float((u - u0) @ (g + r))
    if h is not None:
        value += scale * h.value(_penalised(u, k, n_penalised))
    return value


def _support_newton(h, scale, A, g, u0, u, r, k, n_penalised, max_halvings=10):
    """One Newton step on the model restricted to where ``h`` is smooth; ``(u, r)`` or None.

    Entries (for ``L1``) or columns (grouped) that the step would carry through
    zero are set to zero instead, as OWL-QN projects on the orthant: beyond
    zero the model is another quadratic. The step is halved until the model
    decreases; None if it never does.
    """
    n_pen = n_penalised * k
    hess = np.zeros_like(A)
    grad_h = np.zeros_like(u)
    free = np.ones(len(u), dtype=bool)
    grouped = False
    if h is not None:
        mask, grad, blocks = h.smooth_derivatives(_penalised(u, k, n_penalised))
        free[:n_pen] = mask.T.ravel()
        grad_h[:n_pen] = scale * grad.T.ravel()
        grouped = blocks is not None
        if grouped:
            n_blocks = len(u) // k
            view = hess.reshape(n_blocks, k, n_blocks, k)
            idx = np.arange(n_penalised)
            view[idx, :, idx, :] = scale * blocks
    S = np.flatnonzero(free)
    if len(S) == 0:
        return None
    step = _flat_aware_solve(A[np.ix_(S, S)] + hess[np.ix_(S, S)], -(r[S] + grad_h[S]), free, k)
    if step is None:
        return None
    before = _model_value(h, scale, g, u0, u, r, k, n_penalised)
    steps = [0.5**i for i in range(max_halvings)]
    for t in steps:
        u_new = u.copy()
        u_new[S] += t * step
        if h is not None:
            # Crossing zero: the product with the old value turns non-positive.
            same_side = u_new[:n_pen] * u[:n_pen]
            if grouped:
                same_side = np.repeat(same_side.reshape(n_penalised, k).sum(axis=1), k)
            u_new[:n_pen][free[:n_pen] & (same_side <= 0)] = 0.0
        r_new = r + (u_new[S] - u[S]) @ A[S]
        if _model_value(h, scale, g, u0, u_new, r_new, k, n_penalised) < before:
            return u_new, r_new
    return None


def _flat_aware_solve(M, rhs, free, k):
    """Newton step ``M x = rhs`` that does not move along the model's flat directions.

    The data term does not change when one value is added to every class of a
    feature (the symmetric parametrisation), so for each block that is free
    in all its ``k`` entries ``M`` may be singular along ``ones(k)``, while the
    penalty's slope there (``L1``: the sum of the signs) is not zero: the
    Newton step would be infinite. Those flat directions are projected out;
    coordinate descent moves along them.
    """
    blocks = free.reshape(-1, k).all(axis=1)
    position = np.cumsum(free) - 1  # index within the free entries
    whole = np.flatnonzero(blocks)
    rows = position[(whole[:, None] * k + np.arange(k)).ravel()]
    Z = np.zeros((len(rhs), len(whole)))
    Z[rows, np.repeat(np.arange(len(whole)), k)] = 1.0 / np.sqrt(k)
    top = max(float(np.max(np.diag(M))), 1e-300)
    Z = Z[:, np.linalg.norm(M @ Z, axis=0) <= 1e-9 * top]
    if Z.shape[1]:
        rhs = rhs - Z @ (Z.T @ rhs)
        M = M + top * (Z @ Z.T)
    return _solve_psd(M, rhs)


def _solve_psd(M, rhs):
    """Solve ``M x = rhs`` for a PSD, possibly singular ``M`` (a tiny ridge); None if it fails."""
    ridge = 1e-12 * max(float(np.max(np.diag(M))), 1e-300)
    M = M + ridge * np.eye(len(M))
    try:
        factor = cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
    except LinAlgError:
        return None
    x = cho_solve(factor, rhs, check_finite=False)
    return x if np.all(np.isfinite(x)) else None


def _model_optimality(h, scale, u, r, k, n_penalised) -> float:
    """Max-abs minimum-norm subgradient of the model at ``u`` (``r``: its smooth gradient)."""
    cut = n_penalised * k
    s = r[:cut].reshape(n_penalised, k).T
    if h is not None:
        s = h.min_norm_subgradient(_penalised(u, k, n_penalised), s, scale)
    rest = np.abs(r[cut:]).max(initial=0.0)
    return max(float(np.abs(s).max(initial=0.0)), float(rest))
