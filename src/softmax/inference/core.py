"""The multinomial logit in the reference-class form, for statistical inference.

This module owns the *statistical* layout (the estimator's own layout is in
:class:`softmax.loss.linear.LinearModelLoss`):

- ``Z``: the design, a dense float64 array of shape ``(n, q)`` holding a
  column of ones *first* when the model has an intercept, then the features
  (``q = n_features + fit_intercept``). Terms are named ``intercept``, then
  the feature names.
- One class, the *reference*, has its scores fixed at 0. The other
  ``J = n_classes - 1`` classes keep their order in ``classes_``.
- ``theta``: shape ``(J, q)``, one row per non-reference class. Flat vectors
  and covariance matrices are in the C-order ravel of ``theta`` (class-major:
  index ``j * q + t``), the order statsmodels' ``MNLogit`` uses.
- Weights: ``weights`` multiply each row's log-likelihood; ``meat_factor``
  multiplies each row's outer product of scores in the robust "meat"
  (``1 / weight`` for frequency weights, so a row counts like that many
  copies; ``1`` for analytic weights). Rows of weight 0 are removed before.
- ``penalty``: the diagonal of the ridge penalty per term, shape ``(q,)``
  (0 for the intercept). In the reference form the estimator's penalty on
  centred class rows is ``sum_t penalty_t / 2 * theta[:, t] @ (I - 11'/K)
  @ theta[:, t]``: the centring of the symmetric form becomes the
  ``11'/K`` term, so the penalised optimum is the estimator's exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, sparse
from sklearn.exceptions import ConvergenceWarning

from ..functions import log_softmax

__all__ = ["Problem", "form_map", "newton", "row_blocks", "solve_psd"]

#: Elements of one row block's temporaries (32 MiB in float64): memory stays
#: bounded however many rows there are, while each block is one BLAS call.
_BLOCK_ELEMENTS = 2**22


def row_blocks(n: int, width: int):
    """Slices of at most ``_BLOCK_ELEMENTS / width`` rows covering ``range(n)``."""
    rows = max(1, _BLOCK_ELEMENTS // max(width, 1))
    return (slice(i, i + rows) for i in range(0, n, rows))


@dataclass
class Problem:
    """One inference problem in the reference-class form (see the module docstring).

    Parameters
    ----------
    Z : ndarray of shape (n, q)
    codes : ndarray of shape (n,)
        Class index of each row, in ``classes_`` order.
    n_classes : int
    reference : int
        Index of the reference class.
    weights : ndarray of shape (n,)
        Positive log-likelihood weights.
    meat_factor : ndarray of shape (n,)
        Factor of each row's score outer product in the robust meat.
    penalty : ndarray of shape (q,)
        Ridge penalty per term (zeros: no penalty).
    """

    Z: NDArray
    codes: NDArray
    n_classes: int
    reference: int
    weights: NDArray
    meat_factor: NDArray
    penalty: NDArray

    def __post_init__(self) -> None:
        #: Indices of the non-reference classes, shape (J,).
        self.others = np.delete(np.arange(self.n_classes), self.reference)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(J, q)`` of ``theta``."""
        return self.n_classes - 1, self.Z.shape[1]

    @property
    def penalised(self) -> bool:
        return bool(np.any(self.penalty > 0))

    def log_proba(self, theta: NDArray, rows: slice = slice(None)) -> NDArray:
        """Log-probabilities of all classes, shape (n_rows, n_classes)."""
        Z = self.Z[rows]
        eta = np.zeros((Z.shape[0], self.n_classes))
        eta[:, self.others] = Z @ theta.T
        return log_softmax(eta, axis=1)

    def residuals(self, theta: NDArray, rows: slice = slice(None)) -> tuple[NDArray, NDArray]:
        """Non-reference probabilities ``p`` and ``onehot(y) - p``, each (n_rows, J)."""
        p = np.exp(self.log_proba(theta, rows))[:, self.others]
        onehot = self.codes[rows, None] == self.others[None, :]
        return p, onehot - p

    def loglik(self, theta: NDArray) -> float:
        """Weighted log-likelihood ``sum_i w_i log p_{i, y_i}``."""
        logp = self.log_proba(theta)
        return float(self.weights @ np.take_along_axis(logp, self.codes[:, None], 1)[:, 0])

    def score(self, theta: NDArray) -> NDArray:
        """Gradient of :meth:`loglik`, shape (J, q)."""
        _, resid = self.residuals(theta)
        return (resid * self.weights[:, None]).T @ self.Z

    def information(self, theta: NDArray) -> NDArray:
        """Observed (= expected) information, the Hessian of ``-loglik``, (Jq, Jq).

        Entry ``[a*q + t, b*q + u]`` is ``sum_i w_i (delta_ab p_ia - p_ia p_ib)
        z_it z_iu``. Diagonal blocks are formed as ``Z' diag(w p (1 - p)) Z``,
        PSD by construction rather than a difference of two large terms.
        """
        J, q = self.shape
        info = np.zeros((J * q, J * q))
        for rows in row_blocks(len(self.codes), J * q):
            Z, w = self.Z[rows], self.weights[rows]
            p, _ = self.residuals(theta, rows)
            Q = (np.sqrt(w)[:, None, None] * p[:, :, None] * Z[:, None, :]).reshape(-1, J * q)
            block = -(Q.T @ Q)
            for a in range(J):  # classes, not samples
                Za = Z * (w * p[:, a] * (1 - p[:, a]))[:, None]
                block[a * q : (a + 1) * q, a * q : (a + 1) * q] = Za.T @ Z
            info += block
        return info

    def penalty_matrix(self) -> NDArray:
        """Hessian of the penalty in the flat layout, (Jq, Jq)."""
        J = self.n_classes - 1
        centring = np.eye(J) - 1.0 / self.n_classes
        return np.kron(centring, np.diag(self.penalty))

    def objective(self, theta: NDArray) -> float:
        """``-loglik + penalty``: what :func:`newton` minimises."""
        flat = theta.ravel()
        return -self.loglik(theta) + 0.5 * flat @ self.penalty_matrix() @ flat

    def score_rows(self, theta: NDArray, rows: slice) -> NDArray:
        """Per-row weighted scores ``w_i (onehot - p)_i ⊗ z_i``, (n_rows, Jq)."""
        _, resid = self.residuals(theta, rows)
        u = resid * self.weights[rows, None]
        return (u[:, :, None] * self.Z[rows, None, :]).reshape(u.shape[0], -1)

    def meat(self, theta: NDArray, groups: NDArray | None = None) -> NDArray:
        """Outer products of scores: per row (HC) or per cluster sums, (Jq, Jq).

        Per row: ``sum_i m_i u_i u_i'`` with ``m = meat_factor``; per cluster
        (``groups``: integer codes 0..G-1): ``sum_g U_g U_g'`` with
        ``U_g = sum_{i in g} u_i``. Frequency-weighted rows are copies of one
        observation, hence in one cluster, so no factor is needed there.
        """
        J, q = self.shape
        n = len(self.codes)
        if groups is None:
            meat = np.zeros((J * q, J * q))
            for rows in row_blocks(n, J * q):
                U = self.score_rows(theta, rows) * np.sqrt(self.meat_factor[rows])[:, None]
                meat += U.T @ U
            return meat
        n_groups = int(groups.max()) + 1
        sums = np.zeros((n_groups, J * q))
        for rows in row_blocks(n, J * q):
            g = groups[rows]
            indicator = sparse.csr_matrix(
                (np.ones(len(g)), (g, np.arange(len(g)))), shape=(n_groups, len(g))
            )
            sums += indicator @ self.score_rows(theta, rows)
        return sums.T @ sums


def form_map(n_classes: int, reference: int, n_terms: int, to: int | None) -> NDArray:
    """Matrix taking flat reference-form estimates to another form, exactly.

    Parameters
    ----------
    n_classes : int
    reference : int
        Reference class of the estimates.
    n_terms : int
        ``q``.
    to : int or None
        Another reference class (the result is ``(Jq, Jq)``), or None for the
        symmetric form centred over the classes (``(Kq, Jq)``; rows in class
        order, the representative the estimator stores).

    Returns
    -------
    T : ndarray
        ``T @ theta.ravel()`` is the estimate in the new form, ``T cov T'`` its
        covariance.
    """
    K = n_classes
    embed = np.eye(K)[:, np.delete(np.arange(K), reference)]  # (K, J): reference row 0
    if to is None:
        rows = np.eye(K) - 1.0 / K  # subtract the class average
    else:
        rows = np.delete(np.eye(K), to, axis=0) - np.eye(K)[to]  # subtract the new reference
    return np.kron(rows @ embed, np.eye(n_terms))


def solve_psd(A: NDArray, b: NDArray) -> NDArray:
    """``A^{-1} b`` for a symmetric positive (semi-)definite ``A``.

    Cholesky when it succeeds; otherwise a least-squares solution, so that a
    nearly singular Hessian gives a usable step instead of an exception.
    """
    try:
        return linalg.cho_solve(linalg.cho_factor(A), b)
    except linalg.LinAlgError:
        return linalg.lstsq(A, b)[0]


def newton(
    objective,
    gradient_hessian,
    theta0: NDArray,
    *,
    max_iter: int = 100,
    rtol: float = 1e-10,
    what: str = "estimate",
    give_up=None,
) -> tuple[NDArray, int, bool]:
    """Damped Newton's method on a smooth convex objective.

    Parameters
    ----------
    objective : callable
        ``theta (J, q) -> float``, to minimise.
    gradient_hessian : callable
        ``theta -> (gradient (Jq,), Hessian (Jq, Jq))`` of the objective, or a
        modified gradient and a positive definite matrix (Fisher scoring).
    theta0 : ndarray of shape (J, q)
    max_iter : int, default=100
    rtol : float, default=1e-10
        Convergence threshold on the step, see ``converged``.
    what : str
        Named in the warning when it does not converge.
    give_up : callable, optional
        ``theta -> bool``, checked after each step: True stops the iterations
        quietly, reporting no convergence.

    Returns
    -------
    theta : ndarray of shape (J, q)
    n_iter : int
    converged : bool
        True once a full step changed no entry by more than ``rtol`` relative
        to ``1 + max|theta|``; at the default, Newton's quadratic convergence
        has reached rounding error.
    """
    theta = np.array(theta0, dtype=np.float64)
    value = objective(theta)
    for iteration in range(1, max_iter + 1):
        grad, hess = gradient_hessian(theta)
        step = solve_psd(hess, grad).reshape(theta.shape)
        small = np.max(np.abs(step)) <= rtol * (1.0 + np.max(np.abs(theta)))
        # Newton decrement: the objective's predicted decrease, scale-free.
        decrement = float(grad @ step.ravel())
        t = 1.0
        for _ in range(40):  # backtracking: halve until the objective does not increase
            candidate = theta - t * step
            new = objective(candidate)
            # Near the optimum the change is below rounding; accept a tiny step.
            if new <= value + 1e-12 * (1.0 + abs(value)):
                break
            t /= 2
        else:
            # No decrease is possible: fine only if rounding, not the model, stops us.
            if small or decrement <= 1e-20 * (1.0 + abs(value)):
                return theta, iteration, True
            break
        theta, value = candidate, new
        if small and t == 1.0:
            return theta, iteration, True
        if give_up is not None and give_up(theta):
            return theta, iteration, False
    warnings.warn(
        f"Newton refinement of the {what} did not converge in {iteration} iterations; "
        "the standard errors may be inaccurate. Check the data for separation or "
        "collinear features, or use a finite C.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return theta, iteration, False
