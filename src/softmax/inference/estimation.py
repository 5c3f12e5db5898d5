"""Estimation behind :func:`softmax.inference.inference`: data, weights, refit, covariance.

The choices made here (reference form, Newton refinement, penalty, weights,
separation remedies) are explained in :mod:`softmax.inference`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..loss.threads import single_threaded_blas
from .._errors import SoftmaxInputError
from .firth import firth_fit
from .core import Problem, newton, solve_psd
from .separation import (
    SeparationReport,
    SeparationWarning,
    detect_separation,
    no_separation_certificate,
)
from ..loss.standardize import feature_mean_scale
from ..model import glmnet
from ..model.design import design_matrix, labels_for
from ..model.problem import class_weights

from .options import InferenceOptions

__all__ = ["RIDGE_C", "estimate"]

#: Inverse penalty strength of the ``separation="ridge"`` remedy.
RIDGE_C = 1.0


def estimate(
    model, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, options: InferenceOptions
) -> dict[str, Any]:
    """Estimate and covariance for :func:`softmax.inference.inference`.

    Parameters
    ----------
    model : SoftmaxRegression
        A fitted model.
    X, y, sample_weight
        As in :func:`softmax.inference.inference`.
    options : InferenceOptions

    Returns
    -------
    fields : dict
        Keyword arguments of :class:`softmax.inference.InferenceResults`.
    """
    check_is_fitted(model)
    # One BLAS thread: the products here are small, and NumPy's and SciPy's
    # OpenBLAS pools made a 944 x 36 Gram matrix 1000x slower on 2 cores.
    with single_threaded_blas():
        return _estimate(model, X, y, sample_weight, options)


def _rows(model, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, groups):
    """The data as arrays, rows of weight 0 dropped.

    Returns ``X`` (n, p) float64, class ``codes`` (n,), weights ``raw`` (n,)
    (``sample_weight`` times ``class_weight``) and cluster ``group_codes``
    (n,) or None.
    """
    X = design_matrix(model, X, dtype=np.float64)  # a table's columns encoded as in fit
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != X.shape[0]:
        raise SoftmaxInputError(f"y must be 1-d with {X.shape[0]} labels, got shape {y.shape}.")
    classes = model.classes_
    codes = _class_codes(classes, y)
    raw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if model.class_weight is not None:
        totals = np.bincount(codes, weights=raw, minlength=len(classes))
        raw = raw * class_weights(model.class_weight, classes, totals)[codes]  # as fit weighs
    keep = raw > 0
    X, codes, raw = X[keep], codes[keep], raw[keep]
    group_codes = None
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != keep.shape:
            raise SoftmaxInputError(f"groups must have one entry per row ({len(keep)}).")
        group_codes = pd.factorize(groups[keep], use_na_sentinel=True)[0]
        if (group_codes < 0).any():
            raise SoftmaxInputError("groups has missing values.")
    missing = classes[np.bincount(codes, minlength=len(classes)) == 0]
    if len(missing):
        raise SoftmaxInputError(
            f"Class(es) {missing.tolist()} of the model have no rows of positive weight in "
            "the data; inference needs every class."
        )
    return X, codes, raw, group_codes


def _estimate(
    model, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, options: InferenceOptions
) -> dict[str, Any]:
    y = labels_for(model, X, y)
    dependent = str(getattr(y, "name", None) or "y")
    X, codes, raw, group_codes = _rows(model, X, y, sample_weight, options.groups)
    classes = model.classes_
    n_rows = len(codes)
    if options.weights_kind == "frequency":
        weights, meat_factor, nobs, pen_scale = raw, 1.0 / raw, float(raw.sum()), 1.0
    else:
        pen_scale = n_rows / float(raw.sum())
        weights, meat_factor, nobs = raw * pen_scale, np.ones(n_rows), float(n_rows)

    fit_intercept = bool(model.fit_intercept)
    features = _feature_names(model)
    terms = (["intercept"] if fit_intercept else []) + features
    Z = np.column_stack([np.ones(n_rows), X]) if fit_intercept else X
    ref = _reference_index(classes, options.reference)
    others = np.delete(np.arange(len(classes)), ref)
    scale = (
        feature_mean_scale(X, raw, center=fit_intercept)[1]
        if model.standardize
        else np.ones(X.shape[1])
    )

    if model.lower_bounds is not None or model.upper_bounds is not None:
        raise SoftmaxInputError(
            "inference does not support lower_bounds/upper_bounds: at an active bound the "
            "estimate is not a stationary point, so its covariance is not the sandwich's"
        )
    factor = glmnet.penalty_factor(model, X.shape[1])
    factor = np.ones(X.shape[1]) if factor is None else factor

    def penalty_for(C: float) -> NDArray:
        per_feature = np.zeros(X.shape[1]) if np.isinf(C) else pen_scale * factor * scale**2 / C
        return np.concatenate([[0.0], per_feature]) if fit_intercept else per_feature

    problem = Problem(Z, codes, len(classes), ref, weights, meat_factor, penalty_for(model.C))
    if not problem.penalised:
        _check_rank(Z, weights, terms)
    W = np.column_stack([model.intercept_, model.coef_]) if fit_intercept else model.coef_
    W = np.asarray(W, dtype=np.float64)
    theta0 = W[others] - W[ref]
    # MLE first: at a finite MLE the fitted probabilities certify that no
    # separation exists, which spares the linear programme in the usual case.
    theta_mle, n_iter, converged = _newton(
        dataclasses.replace(problem, penalty=np.zeros_like(problem.penalty)), theta0, quiet=True
    )
    report = None
    if not (converged and no_separation_certificate(problem, theta_mle)):
        likely = problem.log_proba(theta_mle)  # where the programmes start (any order is sound)
        report = detect_separation(Z, codes, classes, terms, fit_intercept, likely=likely)

    C = float(model.C)
    if problem.penalised:
        method = "penalised"
    elif report is not None:
        method = options.separation
        if method == "error":
            raise SoftmaxInputError(
                f"{report.message} The maximum-likelihood estimate does not exist; use "
                "separation='firth' or 'ridge', a finite C, or remove the separating features."
            )
        warnings.warn(_separation_warning(report, method), SeparationWarning, stacklevel=5)
        theta0 = _null_start(problem)
    else:
        method = "mle"
    if method == "ridge":
        C = RIDGE_C
        problem = dataclasses.replace(problem, penalty=penalty_for(RIDGE_C))
    if method == "firth":
        theta, n_iter, converged = firth_fit(problem, theta0)
    elif method == "mle" and converged:
        theta = theta_mle
    else:
        theta, n_iter, converged = _newton(problem, theta_mle if method == "mle" else theta0)
    cov, edf = _covariance(problem, theta, options.cov_type, group_codes, nobs)
    weighted = sample_weight is not None or model.class_weight is not None
    return dict(
        model=model,
        problem=problem,
        theta=theta,
        cov=cov,
        classes=classes,
        terms=terms,
        features=features,
        cov_type=options.cov_type,
        weights_kind=options.weights_kind if weighted else None,
        method=method,
        C=C,
        nobs=nobs,
        n_iter=n_iter,
        converged=converged,
        separation=report,
        n_groups=None if group_codes is None else int(group_codes.max()) + 1,
        edf=edf,
        dependent=dependent,
    )


def _newton(problem: Problem, theta0: NDArray, quiet: bool = False):
    """Newton's method on ``problem.objective`` (penalty included), from ``theta0``."""
    P = problem.penalty_matrix()

    def gradient_hessian(theta: NDArray) -> tuple[NDArray, NDArray]:
        grad = -problem.score(theta).ravel() + P @ theta.ravel()
        return grad, problem.information(theta) + P

    with warnings.catch_warnings():
        if quiet:  # a first try: failing only means "look closer"
            warnings.simplefilter("ignore", ConvergenceWarning)
        theta, n_iter, converged = newton(
            problem.objective,
            gradient_hessian,
            theta0,
            max_iter=50 if quiet else 100,
            # Scores beyond +-50 mean probabilities below 1e-21: coefficients running
            # off to infinity, as under separation. The separation check decides.
            give_up=(lambda theta: np.abs(problem.Z @ theta.T).max() > 50) if quiet else None,
        )
    return theta, n_iter, converged and bool(np.all(np.isfinite(theta)))


def _covariance(
    problem: Problem, theta: NDArray, cov_type: str, group_codes: NDArray | None, nobs: float
) -> tuple[NDArray, float]:
    """Covariance of ``theta`` (see ``cov_type`` in :func:`softmax.inference.inference`).

    Returns the covariance (Jq, Jq) and the effective number of parameters.
    """
    info = problem.information(theta)
    A = info + problem.penalty_matrix()
    A_inv = solve_psd(A, np.eye(len(A)))
    k = theta.size
    if cov_type == "nonrobust":
        # Penalised: the variance of the score is still the information.
        cov = A_inv @ info @ A_inv if problem.penalised else A_inv
    elif cov_type in ("HC0", "HC1"):
        cov = A_inv @ problem.meat(theta) @ A_inv
        if cov_type == "HC1":
            cov *= nobs / (nobs - k)
    else:
        n_groups = int(group_codes.max()) + 1
        if n_groups < 2:
            raise SoftmaxInputError("cov_type='cluster' needs at least 2 groups.")
        cov = A_inv @ problem.meat(theta, group_codes) @ A_inv
        cov *= n_groups / (n_groups - 1) * (nobs - 1) / (nobs - k)
    edf = float(np.trace(A_inv @ info)) if problem.penalised else float(k)
    return (cov + cov.T) / 2, edf


def _class_codes(classes: NDArray, y: NDArray) -> NDArray:
    """Index of each label in ``classes``; unknown labels are an error."""
    index = np.searchsorted(classes, y)
    index = np.clip(index, 0, len(classes) - 1)
    unknown = classes[index] != y
    if unknown.any():
        labels = sorted({str(v) for v in y[unknown]})
        raise SoftmaxInputError(
            f"y has label(s) {labels[:8]} that the model does not know; its classes are "
            f"{classes.tolist()}."
        )
    return index


def _reference_index(classes: NDArray, reference) -> int:
    """Index of the reference class; text such as ``"3"`` also matches the label 3.0."""
    if reference is None:
        return 0
    labels = classes.tolist()
    found = [i for i, c in enumerate(labels) if type(c) is type(reference) and c == reference]
    if not found and isinstance(reference, str):  # from a command line
        found = [i for i, c in enumerate(labels) if str(c) == reference]
        if not found and classes.dtype.kind in "biuf":
            try:
                number = float(reference)
            except ValueError:
                number = None
            found = [i for i, c in enumerate(labels) if c == number]
    if not found and not isinstance(reference, str):
        found = [i for i, c in enumerate(labels) if c == reference]
    if not found:
        raise SoftmaxInputError(
            f"reference {reference!r} is not a class of the model; its classes are {labels}."
        )
    return found[0]


def _feature_names(model) -> list[str]:
    """The names of the columns of ``coef_`` (encoded columns, formula terms)."""
    return [str(n) for n in model.feature_names_out_]


def _check_rank(Z: NDArray, weights: NDArray, terms: list[str]) -> None:
    """Unpenalised coefficients of collinear terms are not identified: say which."""
    Zs = Z * np.sqrt(weights)[:, None]
    Zs = Zs / np.maximum(np.linalg.norm(Zs, axis=0), 1e-300)
    _, R, pivots = linalg.qr(Zs, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > 1e-10 * diag[0])) if len(diag) else 0
    if rank < Z.shape[1]:
        dropped = [terms[j] for j in pivots[rank:]]
        raise SoftmaxInputError(
            f"The terms {dropped} are linear combinations of the other terms (collinear), so "
            "their unpenalised coefficients are not identified; drop them or use a finite C "
            "(one-hot encoded columns always are: a formula such as 'y ~ C(island)' codes "
            "each against a reference level)."
        )


def _null_start(problem: Problem) -> NDArray:
    """Intercept-only fit as a starting point when the model's coefficients diverge."""
    J, q = problem.shape
    theta = np.zeros((J, q))
    counts = np.bincount(problem.codes, weights=problem.weights, minlength=problem.n_classes)
    if q and np.allclose(problem.Z[:, 0], 1.0):
        theta[:, 0] = np.log(counts[problem.others] / counts[problem.reference])
    return theta


def _separation_warning(report: SeparationReport, method: str) -> str:
    remedy = (
        "Firth's bias-reduced estimates are reported instead (finite; "
        "separation='ridge' or a finite C are alternatives)"
        if method == "firth"
        else f"ridge-penalised estimates (C={RIDGE_C:g}) are reported instead"
    )
    return (
        f"{report.message} The maximum-likelihood estimate does not exist (those "
        f"coefficients diverge); {remedy}. Wald p-values for these classes are unreliable: "
        "prefer likelihood-ratio comparisons."
    )

