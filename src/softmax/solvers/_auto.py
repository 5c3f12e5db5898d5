"""``solver="auto"``: pick a solver from the problem's shape and sparsity.

The rule follows the measurements in ``benchmarks/`` (see the README's
benchmark table): a non-smooth penalty needs the proximal Newton solver;
sparse input favours truncated Newton, whose Hessian-vector products reuse
the probabilities and never densify ``X``; a small parameter vector makes
the full Hessian cheap enough that Newton-Cholesky converges in a handful of
iterations; everything else goes to L-BFGS.
"""

from __future__ import annotations

from scipy import sparse

__all__ = ["choose_solver"]

#: Largest ``n_classes * (n_features + 1)`` for which building and factorising
#: the full Hessian pays off.
CHOLESKY_MAX_PARAMS = 400


def choose_solver(solver: str, X, n_classes: int, l1_ratio: float) -> str:
    """The solver name to use: ``solver`` itself unless it is ``"auto"``."""
    if solver != "auto":
        return solver
    if l1_ratio > 0:
        return "prox-newton"
    if sparse.issparse(X):
        return "newton-cg"
    if n_classes * (X.shape[1] + 1) <= CHOLESKY_MAX_PARAMS:
        return "newton-cholesky"
    return "lbfgs"
