"""``solver="auto"`` (the default): pick a solver from the problem, and say why.

Coefficient bounds (``lower_bounds``, ``upper_bounds``) come first: only
``"lbfgs"`` (SciPy's L-BFGS-B) keeps them. Otherwise each branch of the rule
is the solver measured fastest there, time to the same objective (1e-8
relative; ``benchmarks/bench_solvers.py`` and ``benchmarks/bench_small.py``,
scikit-learn 1.9's best solver alongside):

1. ``l1_ratio > 0``: ``"prox-newton"``, the only solver taking a non-smooth
   penalty (it reached saga's optimum on standardised digits in 0.65 s, saga
   69 s).
2. Sparse ``X``: ``"newton-cg"``; its Hessian-vector products never densify
   ``X`` (sparse 100,000 x 20,000, 20 classes: 20 s, L-BFGS 31 s, on
   2026-12-01; Newton-CG 1.9 s since; the full Hessian would need 1.3 TB).
3. At most :data:`CHOLESKY_MAX_PARAMS` parameters ``p = n_classes *
   (n_features + 1)``: ``"newton-cholesky"``. Building and factorising the
   full Hessian is cheap there and converges in a handful of iterations, with
   or without a penalty: iris (15 parameters) 7 iterations, 1.5x faster than
   Newton-CG and 3x faster than L-BFGS; wine (42) as fast as L-BFGS, 1.4x
   faster than Newton-CG; statsmodels' anes96 unpenalised (42) 5
   iterations, where L-BFGS did not converge in 1,000.
4. Dense, more parameters, at most :data:`LBFGS_MAX_CLASSES` classes and a
   penalty: ``"lbfgs"``. Few classes make a well-conditioned problem on which
   its cheap iterations win (``make_classification``, 3 classes: 2,000 x 32
   29 ms against Newton-CG 61 ms; 2,000 x 50 43 ms against 52 ms;
   20,000 x 100 0.36 s against 0.90 s). Without a penalty it can stall (the
   Hessian is singular), so unpenalised fits go to Newton-CG.
5. Everything else (dense, float64 or float32): ``"newton-cg"``: standardised
   digits (650 parameters) 0.065 s against L-BFGS 0.073 s and
   Newton-Cholesky 0.21 s (Newton-CG 0.033 s since); dense 200,000 x 100,
   10 classes, 2.4 s against L-BFGS 8.4 s (float32: 1.3 s against 4.9 s;
   Newton-CG 0.86 s and 0.66 s since); ``make_classification``
   2,000 x 39, 10 classes (400 parameters), 0.12 s against 0.21 s.

The dtype changes no branch: float32 data ranked the solvers as float64 did.
Rows that cannot build the full Hessian (arrays on a device,
:mod:`softmax.backends.array_api`) skip rule 3 and go by rules 4 and 5, which
were measured on the CPU only (no GPU has timed them).
"""

from __future__ import annotations

from scipy import sparse

__all__ = ["CHOLESKY_MAX_PARAMS", "LBFGS_MAX_CLASSES", "choose_solver"]

#: Largest ``n_classes * (n_features + 1)`` given to Newton-Cholesky. Its Hessian
#: costs ``n_samples * p**2 / 2`` per iteration against Newton-CG's ``n_samples * p``
#: per Hessian-vector product. On ``make_classification`` data with 2,000 rows the
#: two tied at 99 and 110 parameters (62 ms, 72 ms); at 153, 160, 210 and 400
#: Newton-CG was 1.6x, 1.1x, 1.2x and 1.5x faster.
CHOLESKY_MAX_PARAMS = 100
#: Most classes for which a penalised dense problem above that size goes to L-BFGS
#: (measured fastest with 3 classes; Newton-CG with 10: digits, 2,000 x 39).
LBFGS_MAX_CLASSES = 3


def choose_solver(
    solver: str, X, n_classes: int, l1_ratio: float, *, penalised: bool = True,
    full_hessian: bool = True, bounded: bool = False,
) -> tuple[str, str]:  # fmt: skip
    """The solver to use and why: ``solver`` itself unless it is ``"auto"``.

    Parameters
    ----------
    solver : str
        The estimator's ``solver`` parameter.
    X : array or sparse matrix of shape (n_samples, n_features)
    n_classes : int
    l1_ratio : float
    penalised : bool, default=True
        Whether the smooth (L2) penalty is positive (``C`` finite, or ``alpha > 0``).
    full_hessian : bool, default=True
        Whether the rows can build the full Hessian (False on a device: no
        Newton-Cholesky then).
    bounded : bool, default=False
        Whether the coefficients have bounds (then ``"lbfgs"``).

    Returns
    -------
    name : str
        A key of :data:`softmax.solvers.SOLVERS`.
    reason : str
        Why, in words (the ``verbose`` line of a fit).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((150, 4))
    >>> choose_solver("auto", X, n_classes=3, l1_ratio=0.0)[0]  # 15 parameters
    'newton-cholesky'
    >>> choose_solver("auto", X, n_classes=3, l1_ratio=0.5)[0]
    'prox-newton'
    """
    if solver != "auto":
        return solver, "chosen by the user"
    n_params = n_classes * (X.shape[1] + 1)
    if bounded:
        return "lbfgs", "auto: coefficient bounds need L-BFGS-B"
    if l1_ratio > 0:
        return "prox-newton", f"auto: l1_ratio={l1_ratio:g} needs a proximal solver"
    if sparse.issparse(X):
        return "newton-cg", "auto: sparse X (Hessian-vector products keep it sparse)"
    if full_hessian and n_params <= CHOLESKY_MAX_PARAMS:
        return "newton-cholesky", (
            f"auto: {n_params} parameters <= {CHOLESKY_MAX_PARAMS}, the full Hessian is cheap"
        )
    size = f"{n_params} parameters > {CHOLESKY_MAX_PARAMS}" if full_hessian else "on a device"
    if penalised and n_classes <= LBFGS_MAX_CLASSES:
        return "lbfgs", (
            f"auto: dense X, {size}, {n_classes} classes <= {LBFGS_MAX_CLASSES}, penalised"
        )
    return "newton-cg", f"auto: dense X, {size}"
