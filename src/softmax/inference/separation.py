"""Detecting (quasi-)complete separation in multinomial logit data.

The maximum-likelihood estimate exists exactly when no *separating direction*
exists (Albert and Anderson, 1984): a change ``D`` of the class rows such
that every observation's own class gains score against every other class,

    (D[y_i] - D[k]) . z_i >= 0    for all rows i and classes k != y_i,

with at least one strict inequality. Moving the coefficients along ``D``
never lowers the likelihood and raises it forever, so the coefficients
diverge while the fit may still report convergence.

We decide this with linear programmes (SciPy's HiGHS): maximise the sum of
the slacks over a bounded ``D``. Positive slacks mark constraints that some
direction makes strict; as the sum of two separating directions is again
one, re-solving with only the constraints not yet strict finds *all* of them
in a few rounds. Complete separation: every constraint strict (the data are
classified perfectly). Quasi-complete: some are strict, others are ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

__all__ = [
    "SeparatedPair",
    "SeparationReport",
    "SeparationWarning",
    "detect_separation",
    "no_separation_certificate",
]

#: Slack (on columns scaled to max |z| = 1, |D| <= 1) above which a constraint is
#: strict: well above HiGHS's 1e-7 feasibility tolerance.
_STRICT = 1e-6
_MAX_ROUNDS = 20


class SeparationWarning(UserWarning):
    """The data separate some classes, so their maximum-likelihood estimate does not exist."""


@dataclass(frozen=True)
class SeparatedPair:
    """Two classes that a linear score separates.

    Attributes
    ----------
    classes : tuple of two labels
    complete : bool
        True when every observation of the two classes is on its own side
        (strictly); False when some lie on the boundary (quasi-complete).
    features : tuple of str
        The features that separate them: each one alone when ``alone``,
        otherwise those a separating direction uses together.
    alone : bool
    """

    classes: tuple
    complete: bool
    features: tuple[str, ...]
    alone: bool


@dataclass(frozen=True)
class SeparationReport:
    """Result of :func:`detect_separation` when the data are separated.

    Attributes
    ----------
    kind : {"complete", "quasi-complete"}
        For the data as a whole.
    pairs : tuple of SeparatedPair
    message : str
        The explanation in words, naming classes and features.
    """

    kind: str
    pairs: tuple[SeparatedPair, ...]
    message: str

    @property
    def classes(self) -> list:
        """Labels of the classes involved in any separated pair."""
        seen = dict.fromkeys(c for pair in self.pairs for c in pair.classes)
        return list(seen)


def no_separation_certificate(problem, theta: NDArray) -> bool:
    """Whether a fit proves that the data are not separated, sparing the LP.

    By Stiemke's lemma, no separating direction exists iff some ``y > 0``
    has ``A' y = 0`` (``A``: the constraint rows above). The fitted
    probabilities give one: the full score ``sum_i w_i (e_{y_i} - p_i) ⊗ z_i``
    is ``A' y`` with ``y_ik = w_i p_ik``. With a residual score ``g``, any
    direction ``|D| <= 1`` has slack sum at most ``|g|_1 / min y``; below
    the LP's threshold it is the LP's own verdict "not separated".

    Parameters
    ----------
    problem : softmax.inference.core.Problem
    theta : ndarray of shape (J, q)
        A converged unpenalised estimate.
    """
    Z, codes, w = problem.Z, problem.codes, problem.weights
    scale = np.max(np.abs(Z), axis=0)
    p = np.exp(problem.log_proba(theta))
    onehot = codes[:, None] == np.arange(problem.n_classes)
    score = (w[:, None] * (onehot - p)).T @ (Z / np.where(scale > 0, scale, 1.0))
    y_min = np.min(np.where(onehot, np.inf, w[:, None] * p))
    return bool(np.sum(np.abs(score)) <= _STRICT * y_min)


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


def detect_separation(
    Z: NDArray,
    codes: NDArray,
    classes: NDArray,
    terms: list[str],
    fit_intercept: bool,
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
    for _ in range(_MAX_ROUNDS):
        objective = -np.asarray(A[~strict].sum(axis=0)).ravel()
        result = linprog(objective, A_ub=-A, b_ub=np.zeros(A.shape[0]), bounds=bounds)
        if result.status != 0 or -result.fun <= _STRICT:
            break
        slack = A @ result.x
        newly = (slack > _STRICT) & ~strict
        if not newly.any():
            break
        strict |= newly
        direction += result.x
    if not strict.any():
        return None

    own = np.repeat(codes, K - 1)
    pairs = _pairs(Zs, codes, own, other, strict, direction.reshape(K, q), classes, terms,
                   fit_intercept)
    kind = "complete" if strict.all() else "quasi-complete"
    return SeparationReport(kind=kind, pairs=pairs, message=_message(kind, pairs))


def _pairs(Zs, codes, own, other, strict, D, classes, terms, fit_intercept):
    """One :class:`SeparatedPair` per unordered pair with a strict constraint."""
    K = len(classes)
    start = int(fit_intercept)
    features = np.asarray(terms[start:], dtype=object)
    X = Zs[:, start:]
    # Per-class ranges of each feature, for "this feature alone separates them".
    lo = np.full((K, X.shape[1]), np.inf)
    hi = np.full((K, X.shape[1]), -np.inf)
    for c in range(K):  # classes, not samples
        mask = codes == c
        if mask.any():
            lo[c], hi[c] = X[mask].min(axis=0), X[mask].max(axis=0)
    a_idx = np.minimum(own, other)
    b_idx = np.maximum(own, other)
    found = []
    for a in range(K):
        for b in range(a + 1, K):
            mine = (a_idx == a) & (b_idx == b)
            if not strict[mine].any():
                continue
            alone = (hi[a] <= lo[b]) | (hi[b] <= lo[a])
            if alone.any():
                names = features[alone]
            else:
                diff = np.abs(D[a, start:] - D[b, start:])
                names = features[diff > 1e-6 * max(diff.max(), 1e-300)]
            found.append(
                SeparatedPair(
                    classes=(classes[a], classes[b]),
                    complete=bool(strict[mine].all()),
                    features=tuple(str(f) for f in names),
                    alone=bool(alone.any()),
                )
            )
    return tuple(found)


def _quote(values) -> str:
    items = [repr(v.item() if hasattr(v, "item") else v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _message(kind: str, pairs: tuple[SeparatedPair, ...]) -> str:
    """Sentences grouped by the class with most separated partners."""
    remaining = list(pairs)
    sentences = []
    while remaining:
        counts: dict = {}
        for pair in remaining:
            for c in pair.classes:
                counts[c] = counts.get(c, 0) + 1
        hub = max(counts, key=counts.get)
        mine = [p for p in remaining if hub in p.classes]
        remaining = [p for p in remaining if hub not in p.classes]
        partners = [p.classes[1] if p.classes[0] == hub else p.classes[0] for p in mine]
        how = "completely" if all(p.complete for p in mine) else "quasi-completely"
        alone = sorted({f for p in mine if p.alone for f in p.features})
        joint = sorted({f for p in mine if not p.alone for f in p.features})
        by = []
        if alone:
            by.append(f"{_quote(alone)} {'alone' if len(alone) == 1 else '(each alone)'}")
        if joint:
            by.append(f"a combination of {_quote(joint)}")
        by_text = f" by {' and by '.join(by)}" if by else ""
        sentences.append(
            f"class {_quote([hub])} is {how} separated from {_quote(partners)}{by_text}"
        )
    return f"{kind.capitalize()} separation: " + "; ".join(sentences) + "."
