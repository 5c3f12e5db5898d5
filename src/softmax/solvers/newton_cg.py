"""Line-search Newton-CG (truncated Newton) with Hessian-vector products."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import get_lapack_funcs

from ..loss.hessian import HessianProduct
from ..loss.objective import Objective
from ..loss.threads import blas_threads
from ._base import Solver, SolverResult, Stop, line_search_failed
from ._newton import backtrack, conjugate_gradient, invariance_projector, rounding_error

__all__ = ["NewtonCG"]

#: Smallest forcing term (CG's relative residual target) for which float64 data
#: get float32 Hessian-vector products: their relative error is about 1e-6, and
#: CG cannot go much below the error of its operator. The last iterations of a
#: tight fit need less than this, and get float64 products. Standardised
#: digits 60 -> 45 ms a fit (BLAS's float32 products take half the time),
#: dense 200,000 x 100 1.03 -> 0.89 s, sparse 100,000 x 20,000 2.0 -> 1.8 s;
#: the optima unchanged (relative gaps 1e-12, 8.5e-9, 8.8e-10 as before).
LOW_PRECISION_ETA = 1e-4
#: Float32 products only where they pay and stay accurate: at least this many
#: ``n_rows * n_params`` (below it the float32 copy and casts cost about what
#: they save, and fits stay reproducible to 1e-10 between equivalent
#: weightings of the rows, which scikit-learn's checks compare at 1e-7)...
LOW_PRECISION_MIN_WORK = 2**20
#: ...and feature second moments within this ratio of each other: rounding
#: in a product is relative to its largest terms, so on raw wine (moments
#: 4e6 apart) float32 products took CG from 276 to 959 steps. Standardised
#: data: 1; make_classification: 300; raw digits: 3e5.
LOW_PRECISION_MAX_SPREAD = 1e3
#: CG steps of one Newton iteration from which the next ones are preconditioned
#: by each class's block of the Hessian (:func:`_block_preconditioner`); it is
#: rebuilt whenever a solve takes this many steps again.
BLOCKS_AFTER = 8
#: Blocks of at most this many elements in all are always affordable; above
#: it, at most four per probability the fit keeps (``n_rows * n_classes``).
BLOCKS_MIN_BUDGET = 2**22
#: ...and only on problems of at least this many ``n_rows * n_params``: when to
#: build them follows the CG counts, so two equivalent small fits (rows
#: repeated or weighted) could take different paths and differ by more than
#: the 1e-7 scikit-learn's checks allow. Standardised digits (1797 x 650) is
#: above it: 43 -> 33 ms a fit.
BLOCKS_MIN_WORK = 2**20


class NewtonCG(Solver):
    """Truncated Newton: conjugate gradient on the Newton system, then a line search.

    Each outer iteration solves ``H d = -g`` inexactly by (preconditioned)
    conjugate gradient, stopping when the residual is below ``eta * ||g||``
    (the forcing term, see :func:`_forcing`: loose far from the optimum and
    while Newton steps make slow progress, tight near it: superlinear
    convergence), then searches the line from the full step
    (:func:`softmax.solvers._newton.backtrack`). Hessian-vector products come from
    :meth:`Objective.value_grad_hessp` and reuse its probabilities, so one
    costs two passes over ``X``. For float64 data they are computed in
    float32, on a float32 copy of ``X`` made once per fit (memory: half of
    ``X`` again), while the forcing term is at least
    :data:`LOW_PRECISION_ETA`; the value, gradient and stopping test stay
    float64, so the optimum is the float64 one.

    Without a penalty (``C=inf``) the Hessian is singular along "add one vector
    to every class row". The gradient has no component there, so CG stays in
    the Hessian's range; it also stops at non-positive curvature.

    Parameters
    ----------
    max_cg_iter : int, default=200
        Conjugate-gradient iterations per outer iteration at most.
    preconditioner : bool, default=True
        Precondition CG with the diagonal ``c_a * E[x_j^2] + penalty`` (class
        ``a``, feature ``j``), ``c_a`` matching the trace of class ``a``'s
        block of the data Hessian (recomputed each outer iteration from the
        probabilities the line search's evaluation kept, with no pass over
        ``X`` of its own). It undoes feature scales: on raw digits it cut CG
        iterations 3x (wine 1.7x, a 20,000 x 100 make_classification
        2x). One level per class rather than one for all cut CG iterations
        by a quarter to a third (871 -> 651 raw digits, 205 -> 141
        standardised, 301 -> 218 with 200 classes). The plain Jacobi diagonal
        was worse than none on standardised data (up to 2x more iterations):
        rare features on confidently classified samples get tiny entries.
        (A full Gram matrix ``G`` in place of ``E[x_j^2]`` was tried: fewer
        CG iterations on raw digits, none fewer with 200 classes, more on
        standardised digits, so it was left out.) Once a solve takes
        :data:`BLOCKS_AFTER` CG steps, the following ones are preconditioned
        by each class's own block of the Hessian instead
        (:func:`_block_preconditioner`, where :func:`_blocks_affordable`):
        200 classes, 30,000 x 256, 74 -> 32 CG steps, 3.9 -> 2.6 s a fit;
        1000 classes, 100,000 x 512, 429 -> 236 s; standardised digits
        43 -> 33 ms.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(solver="newton-cg").fit(X, y)
    >>> model.solver_, model.converged_
    ('newton-cg', True)
    """

    needs = ("second_moments",)

    def __init__(self, max_cg_iter: int = 200, preconditioner: bool = True) -> None:
        self.max_cg_iter = max_cg_iter
        self.preconditioner = preconditioner

    def _minimise(self, objective: Objective, w0: NDArray, stop: Stop) -> SolverResult:
        w = w0.copy()
        moments = objective.feature_second_moments()
        low = _float32_products(objective, moments)

        def evaluate(w: NDArray):
            return objective.value_grad_hessp(w, low_precision=low)

        value, grad, hessp = evaluate(w)
        history = [value]
        stop.report(0, value, grad)
        n_cg = 0
        project = invariance_projector(objective, w)
        previous = None  # (gradient norm, forcing term) of the last iteration
        blocks = None  # the class-block preconditioner, once CG gets long
        used = 0
        for it in range(1, stop.max_iter + 1):
            gmax = float(np.max(np.abs(grad)))
            if gmax <= stop.tol:
                return SolverResult(
                    w, it - 1, True, f"gradient below tol ({n_cg} CG iterations)", gmax, history
                )
            gnorm = float(np.linalg.norm(grad))
            precondition = None
            if self.preconditioner:
                if used >= BLOCKS_AFTER and _blocks_affordable(objective):
                    blocks = _block_preconditioner(objective, w, hessp) or blocks
                precondition = blocks or _preconditioner(objective, w, moments, hessp.traces())
            eta = _forcing(gnorm, previous)
            previous = (gnorm, eta)
            target = eta * gnorm
            product = hessp.low if hessp.low is not None and eta >= LOW_PRECISION_ETA else hessp
            direction, used = conjugate_gradient(
                product, project(grad), precondition, target, self.max_cg_iter
            )
            direction = project(direction)
            n_cg += used
            found = backtrack(
                evaluate, w, value, grad, direction,
                rounding=rounding_error(objective, value),
            )
            if found is None:
                return line_search_failed(
                    objective, w, it - 1, gmax, history, f"{n_cg} CG iterations"
                )
            w, (value, grad, hessp) = found
            history.append(value)
            stop.report(it, value, grad)
        gmax = float(np.max(np.abs(grad)))
        message = f"reached max_iter ({n_cg} CG iterations)"
        return SolverResult(w, stop.max_iter, gmax <= stop.tol, message, gmax, history)


def _float32_products(objective: Objective, moments: NDArray) -> bool:
    """Whether float64 data get float32 Hessian products (:data:`LOW_PRECISION_ETA`)."""
    if objective.dtype != np.float64:
        return False
    if objective.n_rows * objective.n_params < LOW_PRECISION_MIN_WORK:
        return False
    features = moments[: objective.linear_loss.n_features]
    positive = features[features > 0]
    return positive.size > 0 and positive.max() <= LOW_PRECISION_MAX_SPREAD * positive.min()


def _forcing(gnorm: float, previous: tuple[float, float] | None) -> float:
    """CG's relative residual target: the looser of two rules, at most 0.5.

    ``sqrt(||g||)`` (as scikit-learn's Newton-CG) tightens with the gradient
    alone. Eisenstat and Walker's choice 2, ``0.9 (||g|| / ||g_prev||)^2``
    (safeguarded by ``0.9 eta_prev^2`` while that is above 0.1), follows how
    well the last Newton step did: where steps make slow progress (the sparse
    benchmark, whose Newton steps overshoot twofold) there is no point in
    solving their system precisely. Both go to zero, so convergence stays
    superlinear. Measured CG steps, sqrt rule alone -> both: sparse 100,000 x
    20,000 67 -> 39 (2.9 -> 2.0 s), 200 classes 78 -> 74, dense 200,000 x 100
    20 -> 20, standardised digits 141 -> 138; choice 2 alone took more on
    all three (200 classes 116, dense 57, digits 171).
    """
    eta = min(0.5, float(np.sqrt(gnorm)))
    if previous is not None:
        previous_gnorm, previous_eta = previous
        walker = 0.9 * (gnorm / previous_gnorm) ** 2
        guard = 0.9 * previous_eta**2
        if guard > 0.1:
            walker = max(walker, guard)
        eta = max(eta, min(0.5, walker))
    return eta


def _preconditioner(
    objective: Objective, w: NDArray, moments: NDArray, traces: NDArray
) -> Callable[[NDArray], NDArray]:
    """``r -> r / M`` for the diagonal ``M = c_a E[x_j^2] + penalty`` (class ``a``, feature ``j``)."""
    penalty = objective.penalty_hessian_diagonal(w)
    n_classes = objective.linear_loss.n_classes
    # Each class's block of the data Hessian, X^T diag(h_a) X, has about the
    # diagonal c_a E[x_j^2]: its trace (``traces``, from the evaluation at w) fixes c_a.
    level = np.maximum(traces, 0.0) / float(moments.sum())
    per_class = penalty.reshape(n_classes, -1)
    diag = (level[:, None] * moments + per_class).ravel()
    # Zero entries (an all-zero feature without penalty) get a floor: the
    # residual is zero there anyway.
    inverse = 1.0 / np.maximum(diag, 1e-12 * max(float(diag.max()), 1e-300))
    return lambda r: r * inverse


def _blocks_affordable(objective: Objective) -> bool:
    """Whether the class blocks (``n_classes * q^2`` elements) are worth their memory.

    See :data:`BLOCKS_MIN_BUDGET` and :data:`BLOCKS_MIN_WORK`.
    """
    k = objective.linear_loss.n_classes
    q = objective.n_params // k
    if objective.n_rows * objective.n_params < BLOCKS_MIN_WORK:
        return False
    return k * q * q <= max(BLOCKS_MIN_BUDGET, 4 * objective.n_rows * k)


def _block_preconditioner(
    objective: Objective, w: NDArray, hessp: HessianProduct
) -> Callable[[NDArray], NDArray] | None:
    """``r -> M^-1 r`` for ``M``: each class's block of the Hessian, or None where unavailable.

    The blocks leave out the coupling between classes, and rows that matter
    little to a class (:func:`softmax.loss.class_blocks.class_blocks`). Where
    the diagonal preconditioner leaves CG slow, within-class correlations
    are why: with many classes each class's curvature sits on a few rows,
    whose features are far from isotropic. 200 classes (30,000 x 256, near
    the optimum): 35 CG steps with the diagonal, 4 with the blocks.
    """
    blocks = hessp.blocks()
    if blocks is None:
        return None
    k, q, _ = blocks.shape
    at = np.arange(q)
    diagonal = blocks[:, at, at] + objective.penalty_hessian_diagonal(w).reshape(k, q)
    # A relative floor: an unpenalised block may be singular, and float32 rounds.
    diagonal += 1e-4 * diagonal.mean(axis=1, keepdims=True) + np.finfo(blocks.dtype).tiny
    blocks[:, at, at] = diagonal
    potrf, potri = get_lapack_funcs(("potrf", "potri"), (blocks,))
    # An explicit inverse, written over the blocks class by class (no second
    # array of them: 1 GB with 1000 classes of 513): applying it is one batched
    # product per CG step (4 ms for 200 classes of 257; per-class triangular
    # solves took 15 ms).
    with blas_threads(objective.linear_loss.n_threads):
        for a in range(k):
            factor, info = potrf(blocks[a], lower=False, clean=True)
            if info == 0:
                upper, info = potri(factor, lower=False, overwrite_c=True)
            if info != 0:  # not positive definite even so: its diagonal serves
                blocks[a] = np.diag(1.0 / diagonal[a])
                continue
            upper[at, at] *= 0.5  # LAPACK leaves the inverse in the upper triangle
            blocks[a] = upper + upper.T
    inverse = blocks

    def apply(r: NDArray) -> NDArray:
        z = np.matmul(inverse, r.reshape(k, q, 1).astype(inverse.dtype))
        return z.reshape(-1).astype(np.float64)

    return apply
