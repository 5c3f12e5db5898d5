"""Separation: when classes are separated, an unpenalised fit has no finite optimum.

The maximum-likelihood estimate exists exactly when no *separating direction*
exists (Albert and Anderson, 1984): a change ``D`` of the class rows such
that every observation's own class gains score against every other class,

    (D[y_i] - D[k]) . z_i >= 0    for all rows i and classes k != y_i,

with at least one strict inequality. Moving the coefficients along ``D``
never lowers the likelihood and raises it forever, so the coefficients
diverge while the fit may still report convergence (the gradient vanishes
at infinity).

:func:`detect_separation` decides this with linear programmes (SciPy's
HiGHS): maximise the sum of the slacks over a bounded ``D``. Positive slacks
mark constraints that some direction makes strict; as the sum of two
separating directions is again one, re-solving with only the constraints not
yet strict finds *all* of them in a few rounds. Complete separation: every
constraint strict (the data are classified perfectly). Quasi-complete: some
are strict, others are ties.

The programme has ``n_samples * (n_classes - 1)`` constraints, which is
slow on large data (20,000 rows of 5 classes: 17 s), so
:func:`check_fit`, which the estimator runs after every unpenalised fit,
first tries to prove from the fit itself that no separation exists
(:func:`no_separation_certificate`, a few passes over the rows) and runs
the programme only when that fails. It then knows which constraints
matter: a direction that separates nothing is held back by the classes the
fit finds likely, so each programme starts from each row's constraint
against its likeliest other class and adds the ones its solution violates
until none is (row generation; the answer is the full programme's): 6,000
rows of 30 classes, not separated, took one programme of 6,000
constraints, 2.7 s, where all 174,000 took 66 s. :mod:`softmax.inference`
uses the same programme.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from ..functions import log_softmax
from .separation_report import SeparatedPair, SeparationReport, describe

__all__ = [
    "STRICT",
    "SeparatedPair",
    "SeparationReport",
    "check_fit",
    "detect_separation",
    "no_separation_certificate",
]

#: Slack (on columns scaled to max |z| = 1, |D| <= 1) above which a constraint is
#: strict: well above HiGHS's 1e-7 feasibility tolerance.
STRICT = 1e-6
_MAX_ROUNDS = 20
#: Corrections of the fitted probabilities tried by :func:`no_separation_certificate`.
_CERTIFICATE_ROUNDS = 3
#: Constraints per row the programmes start from, given fitted probabilities: the
#: row's most likely other classes (1 needed no more on three planted problems, and
#: took half the time of 2).
_FIRST_PER_ROW = 1
#: Slack below which a constraint counts as violated: HiGHS's feasibility tolerance.
_VIOLATED = 1e-7
#: Programmes of added constraints before one over all of them (each adds every
#: violated constraint; the problems tried needed at most 2).
_GENERATION_ROUNDS = 10
#: Most parameters ``n_classes * (n_features + 1)`` for which the certificate builds
#: its system's matrix (``n * size**2`` flops, like one Newton-Cholesky Hessian)
#: instead of running conjugate gradient on it.
_DIRECT_MAX_PARAMS = 100


def no_separation_certificate(
    X, codes: NDArray, weights: NDArray, coef: NDArray, intercept: NDArray | None
) -> bool:
    """Whether the fitted probabilities prove that no separating direction exists.

    By Stiemke's lemma no separating direction exists iff some ``y > 0``
    (one entry per row ``i`` and other class ``k``) has ``A' y = 0``, ``A``
    the constraint rows above. The fitted probabilities give ``y_ik = w_i
    p_ik`` with ``A' y`` the score vector, small but not zero at a fit
    stopped by ``tol``. The correction ``y' = y * (1 - A u)``, with ``u``
    solving ``A' diag(y) A u = A' y`` (conjugate gradient, a few passes over
    ``X``), has ``A' y' = 0`` up to the solve's residual ``r``, and stays
    positive while every ``(A u)_ik < 1``. Any direction ``|D| <= 1`` (on
    columns scaled to ``max |z| = 1``) then has slack sum at most
    ``|r|_1 / min y'``: below :data:`STRICT`, the linear programme's own
    verdict "not separated". Under separation some ``(A u)_ik`` reaches 1
    (no positive ``y'`` exists), so this never certifies separated data.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, n_features)
        Rows of positive weight only.
    codes : ndarray of shape (n,)
        Class index of each row.
    weights : ndarray of shape (n,)
        Positive weights.
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,) or None
        None without an intercept (no column of ones).

    Returns
    -------
    bool
        True: not separated. False: undecided (the linear programme decides).
    """
    is_sparse = sparse.issparse(X)
    X = X.astype(np.float64) if is_sparse else np.asarray(X, dtype=np.float64)
    n, n_classes = len(codes), coef.shape[0]
    # Separation does not depend on column scales; unit columns make one tolerance fit all.
    scale = abs(X).max(axis=0).toarray().ravel() if is_sparse else np.abs(X).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    own = np.zeros((n, n_classes), dtype=bool)
    own[np.arange(n), codes] = True
    start = int(intercept is not None)  # V: the intercept column first, as in Z

    def scores(V: NDArray) -> NDArray:  # Z V' on the scaled design
        S = np.asarray(X @ (V[:, start:] / scale).T)
        return S + V[:, 0] if start else S

    def apply_a(V: NDArray) -> NDArray:  # A v as an (n, K) array, 0 at each row's own class
        S = scores(V)
        return np.where(own, 0.0, S[np.arange(n), codes][:, None] - S)

    def apply_at(R: NDArray) -> NDArray:  # A' r for r as an (n, K) array
        R = np.where(own, R.sum(axis=1, keepdims=True), 0.0) - np.where(own, 0.0, R)
        G = np.asarray(X.T @ R).T / scale
        return np.column_stack([R.sum(axis=0), G]) if start else G

    squares = (X.multiply(X) if is_sparse else X * X) / scale**2
    Z_coef = coef * scale
    V0 = np.column_stack([intercept, Z_coef]) if start else Z_coef
    y = weights[:, None] * np.exp(log_softmax(scores(V0), axis=1))
    y[own] = 0.0
    for round_ in range(_CERTIFICATE_ROUNDS + 1):
        if not np.all(y[~own] > 0):
            return False  # probabilities that underflowed: no positive y to start from
        g = apply_at(y)
        if np.sum(np.abs(g)) <= STRICT * y[~own].min():
            return True
        if round_ == _CERTIFICATE_ROUNDS:
            return False
        # Y: each row's own class's total y at its own class, y_ik at the others.
        Y = np.where(own, y.sum(axis=1, keepdims=True), y)
        if not is_sparse and g.size <= _DIRECT_MAX_PARAMS:
            u = _direct_solve(X / scale, start, own, y, Y, g)
        else:
            # diag(A' diag(y) A): each row's squared design times Y.
            diag = np.asarray(squares.T @ Y).T
            diag = np.column_stack([Y.sum(axis=0), diag]) if start else diag
            # A tenth of the bound: the correction (below) keeps at least half of y.
            target = 0.1 * STRICT * y[~own].min()
            u = _conjugate_gradient(lambda V, y=y: apply_at(y * apply_a(V)), g, diag, target)
        t = apply_a(u)
        if t.max() >= 0.5:  # y' would lose more than half of y: leave it to the programme
            return False
        y = y * (1.0 - t)
    return False


def _direct_solve(
    Z: NDArray, start: int, own: NDArray, y: NDArray, Y: NDArray, g: NDArray
) -> NDArray:
    """Solve ``A' diag(y) A u = g`` exactly (least squares), with the matrix built once.

    Row ``i`` of own class ``c`` adds ``W_i kron z_i z_i'``, with ``W_i =
    diag(Y_i) - e_c y_i' - y_i e_c'`` (``z_i`` the scaled design row, the
    intercept's 1 first): one pass over ``Z`` where conjugate gradient took
    two per iteration, about 40 on anes96 (27 ms a fit, more than the fit).
    The minimum-norm solution has no component along the matrix's null
    space ("the same row added to every class"), as conjugate gradient's.
    """
    n, n_classes = y.shape
    if start:
        Z = np.column_stack([np.ones(n), Z])
    W = Y[:, :, None] * np.eye(n_classes) - own[:, :, None] * y[:, None, :]
    W -= np.swapaxes(own[:, :, None] * y[:, None, :], 1, 2)
    size, q = g.size, Z.shape[1]
    # sum_i W_i kron z_i z_i' as one product (an einsum took 10x longer on anes96).
    outer = (Z[:, :, None] * Z[:, None, :]).reshape(n, q * q)
    M = (W.reshape(n, -1).T @ outer).reshape(n_classes, n_classes, q, q)
    M = M.transpose(0, 2, 1, 3).reshape(size, size)
    return np.linalg.lstsq(M, g.ravel(), rcond=None)[0].reshape(g.shape)


def _conjugate_gradient(matvec, g: NDArray, diag: NDArray, target: float) -> NDArray:
    """Solve ``M u = g`` by Jacobi-preconditioned CG, ``M`` PSD with diagonal ``diag``.

    Stops once the residual's 1-norm is at most ``target``, or after
    ``2 * g.size`` iterations.

    ``M`` is singular along "the same row added to every class", where ``g``
    has no component; the iterates are kept off it.
    """

    def centre(V: NDArray) -> NDArray:
        return V - V.mean(axis=0)

    inverse = 1.0 / np.maximum(diag, 1e-300)
    u = np.zeros_like(g)
    r = centre(g)
    z = centre(r * inverse)
    p = z.copy()
    rz = float(np.sum(r * z))
    for _ in range(2 * g.size):
        if np.sum(np.abs(r)) <= target:
            break
        mp = centre(matvec(p))
        curvature = float(np.sum(p * mp))
        if not curvature > 0:
            break
        alpha = rz / curvature
        u += alpha * p
        r -= alpha * mp
        z = centre(r * inverse)
        rz, rz_old = float(np.sum(r * z)), rz
        p = z + (rz / rz_old) * p
    return u


def check_fit(
    X, codes: NDArray, weights: NDArray, classes: NDArray, coef: NDArray,
    intercept: NDArray | None, feature_names,
) -> SeparationReport | None:  # fmt: skip
    """The separation of the data of an unpenalised fit, or None when there is none.

    Tries :func:`no_separation_certificate` on the fit first; runs
    :func:`detect_separation` only when the fit does not prove the data
    non-separated (always when they are).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    codes : ndarray of shape (n_samples,)
        Class index of each row.
    weights : ndarray of shape (n_samples,)
        Sample weights (class weights included); rows of weight 0 are left out.
    classes : ndarray of shape (n_classes,)
    coef : ndarray of shape (n_classes, n_features)
        The fit, in the original units.
    intercept : ndarray of shape (n_classes,) or None
        None without an intercept.
    feature_names : sequence of str or None
        For the report; ``x0, x1, ...`` when None.
    """
    keep = np.asarray(weights) > 0
    X, codes, weights = X[keep], codes[keep], np.asarray(weights, dtype=np.float64)[keep]
    if no_separation_certificate(X, codes, weights, coef, intercept):
        return None
    Z = X.toarray() if sparse.issparse(X) else np.asarray(X)
    Z = np.asarray(Z, dtype=np.float64)
    scores = Z @ coef.T if intercept is None else Z @ coef.T + intercept
    names = [f"x{j}" for j in range(Z.shape[1])] if feature_names is None else list(feature_names)
    if intercept is not None:
        Z, names = np.column_stack([np.ones(len(Z)), Z]), ["intercept", *names]
    return detect_separation(
        Z, codes, classes, [str(n) for n in names], intercept is not None, likely=scores
    )


def _constraints(Z: NDArray, codes: NDArray, n_classes: int) -> tuple[sparse.csr_matrix, NDArray]:
    """Rows ``(e_{y_i} - e_k) ⊗ z_i`` for every row i and class k != y_i.

    Returns the sparse matrix of shape (n (K-1), K q) over the full direction
    ``D`` (K rows; the first class's row is fixed at 0 by the bounds) and the
    other class ``k`` of each constraint.
    """
    n, q = Z.shape
    K = n_classes
    k = np.tile(np.arange(K - 1), n)
    own = np.repeat(codes, K - 1)
    k = k + (k >= own)  # skip each row's own class
    rows = np.repeat(np.arange(n * (K - 1)), 2 * q)
    cols = np.concatenate(
        [own[:, None] * q + np.arange(q), k[:, None] * q + np.arange(q)], axis=1
    ).ravel()
    zrep = np.repeat(Z, K - 1, axis=0)
    vals = np.concatenate([zrep, -zrep], axis=1).ravel()
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(n * (K - 1), K * q))
    return A, k


def _likely_constraints(likely: NDArray, codes: NDArray) -> NDArray:
    """Mask over :func:`_constraints`' rows: each row's :data:`_FIRST_PER_ROW` likeliest others."""
    n, K = likely.shape
    rows = np.arange(n)
    scores = np.array(likely, dtype=np.float64)
    scores[rows, codes] = -np.inf
    m = min(_FIRST_PER_ROW, K - 1)
    top = np.argpartition(-scores, m - 1, axis=1)[:, :m]
    j = top - (top > codes[:, None])  # position among the row's other classes
    keep = np.zeros(n * (K - 1), dtype=bool)
    keep[(rows[:, None] * (K - 1) + j).ravel()] = True
    return keep


def _solve(objective: NDArray, A: sparse.csr_matrix, bounds, keep: NDArray):
    """``linprog`` of ``max -objective . d`` over ``A d >= 0``, from the rows ``keep`` on.

    Solves with the rows in ``keep`` (updated in place), adds every row the
    solution violates, and repeats: a solution that violates none is optimal
    for all of ``A``. After :data:`_GENERATION_ROUNDS` rounds it takes them all.
    """
    for round_ in range(_GENERATION_ROUNDS + 1):
        if round_ == _GENERATION_ROUNDS:
            keep[:] = True
        result = linprog(objective, A_ub=-A[keep], b_ub=np.zeros(int(keep.sum())), bounds=bounds)
        if result.status != 0 or keep.all():
            return result
        violated = (A @ result.x < -_VIOLATED) & ~keep
        if not violated.any():
            return result
        keep |= violated


def detect_separation(
    Z: NDArray,
    codes: NDArray,
    classes: NDArray,
    terms: list[str],
    fit_intercept: bool,
    likely: NDArray | None = None,
) -> SeparationReport | None:
    """Find the separated class pairs of a data set, or None when there are none.

    Parameters
    ----------
    Z : ndarray of shape (n, q)
        Design (intercept column first when ``fit_intercept``); rows of
        positive weight only.
    codes : ndarray of shape (n,)
        Class index of each row.
    classes : ndarray of shape (K,)
        Class labels.
    terms : list of str
        Names of the columns of ``Z``.
    fit_intercept : bool
    likely : ndarray of shape (n, K), optional
        Scores of a fit (or anything ordering each row's classes by how
        likely the fit finds them): the programmes then start from each row's
        most likely other classes and add violated constraints (same answer,
        a fraction of the time on many rows and classes).

    Returns
    -------
    report : SeparationReport or None
    """
    K = len(classes)
    q = Z.shape[1]
    # Separation does not depend on column scale; unit columns make one tolerance fit all.
    scale = np.max(np.abs(Z), axis=0)
    Zs = Z / np.where(scale > 0, scale, 1.0)
    A, other = _constraints(Zs, codes, K)
    bounds = [(0.0, 0.0)] * q + [(-1.0, 1.0)] * ((K - 1) * q)  # class 0's row fixed
    strict = np.zeros(A.shape[0], dtype=bool)
    direction = np.zeros(K * q)
    keep = np.ones(A.shape[0], dtype=bool) if likely is None else _likely_constraints(likely, codes)
    for _ in range(_MAX_ROUNDS):
        objective = -np.asarray(A[~strict].sum(axis=0)).ravel()
        result = _solve(objective, A, bounds, keep)
        if result.status != 0 or -result.fun <= STRICT:
            break
        slack = A @ result.x
        newly = (slack > STRICT) & ~strict
        if not newly.any():
            break
        strict |= newly
        direction += result.x
    if not strict.any():
        return None

    own = np.repeat(codes, K - 1)
    return describe(Zs, codes, own, other, strict, direction.reshape(K, q), classes, terms,
                    fit_intercept)
