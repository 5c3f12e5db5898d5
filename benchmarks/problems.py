"""The benchmark problems and the one objective function every result is judged by.

Every problem is ``(X, y)`` with ``y`` integer class codes ``0..K-1`` and ``C = 1``.
All objective values in the benchmark come from :func:`mean_objective`,
computed in float64 from a fitted ``coef_`` / ``intercept_``, whichever
library produced them, so the gaps of different solvers are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

__all__ = [
    "PROBLEM_NAMES",
    "Problem",
    "build_problems",
    "make_planted_dense",
    "make_planted_sparse",
    "mean_objective",
]

#: Problems in the order they are run; ``--problems`` picks a subset.
PROBLEM_NAMES = ("iris", "digits", "dense", "dense32", "sparse", "manyclass")
#: Problems run only when named in ``--problems`` (a large one: half an hour here).
EXTRA_PROBLEM_NAMES = ("probe1000",)

#: Relative objective gap a solver must reach, by dtype: float64 can resolve
#: 1e-8; a float32 objective and gradient are only accurate to ~1e-7, so
#: float32 fits are judged at 1e-6.
TARGET_RTOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-6}

# Full and --quick sizes.
DENSE_SIZES = {False: 200_000, True: 5_000}
SPARSE_SIZES = {False: (100_000, 20_000), True: (5_000, 2_000)}
SPARSE_NNZ_PER_ROW = 20
SPARSE_CLASSES = 20
#: Many classes (a linear probe on embeddings): (n_samples, n_features, n_classes).
MANYCLASS_SIZES = {False: (30_000, 256, 200), True: (3_000, 32, 20)}
#: The largest linear probe of issue 12: 100,000 x 512 float32, 1000 classes.
PROBE_SIZES = {False: (100_000, 512, 1000), True: (2_000, 16, 50)}


@dataclass
class Problem:
    """One benchmark problem.

    Attributes
    ----------
    name : str
        Short name used on the command line and in the table.
    X : ndarray or CSR matrix
        The data the timed solvers get (float64 or float32).
    y : ndarray of int
        Class codes ``0..n_classes-1``.
    description : str
        One line for the report.
    big : bool
        Large problem: slow solvers (``"gd"``) are skipped.
    C : float
        Inverse regularisation strength.
    reference_tol : float or None
        ``tol`` of the reference fits (None: the suite's, 1e-12).
    reference_ours_only : bool
        Only our Newton-CG gives the reference (a tight scikit-learn fit would
        take longer than the rest of the problem).
    first_tol : float or None
        The loosest ``tol`` every timed fit starts its search at (None: 1e-3,
        the first of ``timing.TOLS``).
    """

    name: str
    X: object
    y: np.ndarray
    description: str
    big: bool = False
    C: float = 1.0
    reference_tol: float | None = None
    reference_ours_only: bool = False
    first_tol: float | None = None
    _X64: object = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_classes(self) -> int:
        return int(self.y.max()) + 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.X.dtype)

    @property
    def sparse(self) -> bool:
        return sp.issparse(self.X)

    @property
    def target_rtol(self) -> float:
        """Relative objective gap counted as "reached the reference"."""
        return TARGET_RTOL[self.dtype]

    @property
    def X64(self):
        """``X`` in float64 (the same values): used for the reference and for objectives."""
        if self._X64 is None:
            self._X64 = self.X if self.dtype == np.float64 else self.X.astype(np.float64)
        return self._X64

    def objective(self, coef, intercept) -> float:
        """:func:`mean_objective` of a fitted model on this problem."""
        return mean_objective(self.X64, self.y, coef, intercept, self.C)


def mean_objective(X, y, coef, intercept, C: float) -> float:
    """Mean L2-penalised multinomial cross-entropy, in float64.

    ``(sum_i CE_i + ||coef||^2 / (2 C)) / n``, with ``CE_i = logsumexp(z_i) - z_{i, y_i}``
    and ``z_i = x_i . coef.T + intercept``; the intercept is not penalised.
    This is the objective of ``SoftmaxRegression`` (``objective_history_``) and of
    scikit-learn's multinomial ``LogisticRegression``, evaluated the same way for
    both so that their gaps compare.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of int, shape (n_samples,)
    coef : array of shape (n_classes, n_features)
    intercept : array of shape (n_classes,) or None
    C : float
    """
    coef = np.asarray(coef, dtype=np.float64)
    n = X.shape[0]
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    scores = np.asarray(X @ coef.T)
    if intercept is not None:
        scores += np.asarray(intercept, dtype=np.float64)
    data = np.mean(logsumexp(scores, axis=1) - scores[np.arange(n), y])
    penalty = 0.0 if np.isinf(C) else float(np.sum(coef * coef)) / (2.0 * C * n)
    return float(data + penalty)


def _standardised(X: np.ndarray) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(X)


def make_planted_sparse(
    n_samples: int,
    n_features: int,
    n_classes: int = SPARSE_CLASSES,
    nnz_per_row: int = SPARSE_NNZ_PER_ROW,
    *,
    score_scale: float = 2.0,
    random_state: int = 0,
    dtype=np.float64,
):
    """Sparse CSR data whose labels follow a planted softmax model.

    Each row has exactly ``nnz_per_row`` non-zeros at distinct random columns,
    with standard normal values. ``W_true`` has standard normal entries scaled
    so that the planted scores ``X @ W_true`` have standard deviation
    ``score_scale``; each label is drawn from ``softmax(x_i @ W_true)`` (by the
    Gumbel-max trick). Everything is seeded by ``random_state``.

    Returns
    -------
    X : csr_matrix of shape (n_samples, n_features)
    y : ndarray of int64, shape (n_samples,)
    """
    rng = np.random.default_rng(random_state)
    if nnz_per_row > n_features:
        raise ValueError("nnz_per_row cannot exceed n_features")
    cols = rng.integers(0, n_features, size=(n_samples, nnz_per_row))
    cols.sort(axis=1)
    # Redraw the (rare) repeated columns in a row until every row has distinct ones.
    while True:
        dup = np.zeros_like(cols, dtype=bool)
        dup[:, 1:] = cols[:, 1:] == cols[:, :-1]
        if not dup.any():
            break
        cols[dup] = rng.integers(0, n_features, size=int(dup.sum()))
        cols.sort(axis=1)
    data = rng.standard_normal(size=cols.shape)
    indptr = np.arange(0, n_samples * nnz_per_row + 1, nnz_per_row, dtype=np.int64)
    X = sp.csr_matrix(
        (data.ravel().astype(dtype), cols.ravel().astype(np.int32), indptr),
        shape=(n_samples, n_features),
    )
    w_true = rng.standard_normal(size=(n_features, n_classes)) * (score_scale / np.sqrt(nnz_per_row))
    scores = np.asarray(X.astype(np.float64) @ w_true)
    gumbel = -np.log(-np.log(rng.uniform(size=scores.shape)))
    y = np.argmax(scores + gumbel, axis=1).astype(np.int64)
    return X, y


def make_planted_dense(
    n_samples: int,
    n_features: int,
    n_classes: int,
    *,
    score_scale: float = 3.0,
    random_state: int = 0,
    dtype=np.float32,
):
    """Standard normal features whose labels follow a planted softmax model.

    ``W_true`` has standard normal entries scaled so that the planted scores
    ``X @ W_true`` have standard deviation ``score_scale``; each label is
    drawn from ``softmax(x_i @ W_true)`` (Gumbel-max trick), seeded by
    ``random_state``. Labels are re-coded to ``0..K-1`` (a class may go unseen).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), ``dtype``
    y : ndarray of int64, shape (n_samples,)
    """
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    w_true = rng.standard_normal((n_features, n_classes)) * (score_scale / np.sqrt(n_features))
    gumbel = -np.log(-np.log(rng.uniform(size=(n_samples, n_classes))))
    y = np.argmax(X @ w_true + gumbel, axis=1)
    return X.astype(dtype), _encode(y)


def _encode(y) -> np.ndarray:
    return np.unique(y, return_inverse=True)[1].astype(np.int64)


def build_problems(names=PROBLEM_NAMES, *, quick: bool = False) -> list[Problem]:
    """Build the named problems (in :data:`PROBLEM_NAMES` order), ``--quick`` sizes if asked."""
    from sklearn.datasets import load_digits, load_iris, make_classification

    known = PROBLEM_NAMES + EXTRA_PROBLEM_NAMES
    unknown = set(names) - set(known)
    if unknown:
        raise ValueError(f"unknown problem(s) {sorted(unknown)}; choose from {known}")
    problems = []
    dense_cache = {}

    def dense_data():
        if "data" not in dense_cache:
            n = DENSE_SIZES[quick]
            X, y = make_classification(
                n_samples=n, n_features=100, n_informative=50, n_classes=10, random_state=0
            )
            dense_cache["data"] = (X, _encode(y))
        return dense_cache["data"]

    for name in known:
        if name not in names:
            continue
        if name == "iris":
            X, y = load_iris(return_X_y=True)
            problems.append(Problem("iris", X, _encode(y), "iris, raw features (150 x 4, 3 classes)"))
        elif name == "digits":
            X, y = load_digits(return_X_y=True)
            problems.append(
                Problem("digits", _standardised(X), _encode(y),
                        "digits, standardised (1797 x 64, 10 classes)")
            )
        elif name in ("dense", "dense32"):
            X, y = dense_data()
            n = X.shape[0]
            spec = f"make_classification({n:,} x 100, 50 informative, 10 classes, random_state=0)"
            if name == "dense":
                problems.append(Problem("dense", X, y, f"{spec}, float64", big=not quick))
            else:
                problems.append(
                    Problem("dense32", X.astype(np.float32), y, f"{spec}, float32", big=not quick)
                )
        elif name == "sparse":
            n, p = SPARSE_SIZES[quick]
            X, y = make_planted_sparse(n, p)
            problems.append(
                Problem(
                    "sparse", X, y,
                    f"planted-softmax sparse CSR ({n:,} x {p:,}, {X.nnz:,} non-zeros, "
                    f"{SPARSE_NNZ_PER_ROW} per row, {SPARSE_CLASSES} classes, seed 0), float64",
                    big=not quick,
                )
            )
        elif name == "manyclass":
            problems.append(_planted_probe(name, *MANYCLASS_SIZES[quick], big=not quick))
        elif name == "probe1000":
            # A fit takes minutes: the reference is our Newton-CG at 1e-9 (the float32
            # target is 1e-6), and every search starts at tol=1e-5, where both
            # libraries reached it with 200 classes.
            problems.append(_planted_probe(
                name, *PROBE_SIZES[quick], big=not quick,
                reference_tol=1e-9, reference_ours_only=True, first_tol=1e-5,
            ))  # fmt: skip
    return problems


def _planted_probe(name: str, n: int, p: int, k: int, **options) -> Problem:
    """A linear probe: :func:`make_planted_dense` data in float32, as a :class:`Problem`."""
    X, y = make_planted_dense(n, p, k)
    description = (
        f"planted-softmax dense ({n:,} x {p}, {k} classes, scores sd 3, seed 0), float32"
    )
    return Problem(name, X, y, description, **options)
