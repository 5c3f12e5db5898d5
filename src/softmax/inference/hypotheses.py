"""Tests of hypotheses on a multinomial logit: Wald and likelihood ratio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, stats

if TYPE_CHECKING:
    from .results import InferenceResults

__all__ = ["HypothesisTest", "lr_test", "wald", "wald_test"]


@dataclass(frozen=True)
class HypothesisTest:
    """Outcome of a chi-squared test.

    Attributes
    ----------
    test : {"wald", "likelihood ratio"}
    statistic : float
        Chi-squared statistic.
    df : int
        Degrees of freedom.
    pvalue : float
    hypothesis : str
        The null hypothesis, in words.
    """

    test: str
    statistic: float
    df: int
    pvalue: float
    hypothesis: str

    def __str__(self) -> str:
        return (
            f"{self.test} test of {self.hypothesis}: chi2({self.df}) = {self.statistic:.4f}, "
            f"p = {self.pvalue:.4g}"
        )


def wald(theta: NDArray, cov: NDArray, R: NDArray, r: NDArray, hypothesis: str) -> HypothesisTest:
    """Wald test of ``R theta = r``.

    Parameters
    ----------
    theta : ndarray of shape (p,)
        Flat estimate.
    cov : ndarray of shape (p, p)
    R : ndarray of shape (m, p)
    r : ndarray of shape (m,)
    hypothesis : str

    Returns
    -------
    HypothesisTest
        ``(R theta - r)' (R cov R')^+ (R theta - r)`` on ``rank(R cov R')``
        degrees of freedom (a pseudo-inverse, so redundant rows are harmless).
    """
    diff = R @ theta - r
    middle = R @ cov @ R.T
    inv, rank = linalg.pinvh(middle, return_rank=True)
    statistic = float(diff @ inv @ diff)
    return HypothesisTest("Wald", statistic, int(rank), float(stats.chi2.sf(statistic, rank)),
                          hypothesis)


def wald_test(
    res: InferenceResults,
    features: Sequence[str] | None,
    classes: Sequence | None,
    R: NDArray | None,
    r: NDArray | None,
) -> HypothesisTest:
    """:meth:`InferenceResults.wald_test`: zero coefficients, or ``R theta = r``."""
    theta, cov = res.params.T.to_numpy().ravel(), res.cov_params().to_numpy()
    if R is not None:
        R = np.atleast_2d(np.asarray(R, dtype=np.float64))
        r = np.zeros(len(R)) if r is None else np.asarray(r, dtype=np.float64)
        return wald(theta, cov, R, r, f"R theta = r ({len(R)} rows)")
    features = list(res.features if features is None else features)
    unknown = [f for f in features if f not in res.terms]
    outcomes = [c.item() if hasattr(c, "item") else c for c in res.outcome_classes]
    classes = outcomes if classes is None else list(classes)
    bad = [c for c in classes if c not in outcomes]
    if unknown or bad or not features or not classes:
        raise ValueError(
            f"nothing to test: unknown term(s) {unknown} or class(es) {bad}; terms are "
            f"{res.terms}, non-reference classes {outcomes}"
        )
    q = len(res.terms)
    index = [outcomes.index(c) * q + res.terms.index(f) for c in classes for f in features]
    what = (
        f"no effect of {', '.join(features)} on any class"
        if len(classes) == len(outcomes)
        else f"zero coefficients of {', '.join(features)} for class(es) {classes}"
    )
    return wald(theta, cov, np.eye(len(theta))[index], np.zeros(len(index)), what)


def lr_test(restricted: InferenceResults, full: InferenceResults) -> HypothesisTest:
    """Likelihood-ratio test of a restricted model against a larger one.

    Both must be unpenalised maximum-likelihood fits on the same rows, labels
    and weights, and the restricted model's terms a subset of the full one's.

    Parameters
    ----------
    restricted, full : InferenceResults

    Returns
    -------
    HypothesisTest
        ``2 (llf_full - llf_restricted)``, on as many degrees of freedom as
        the full model has extra parameters.

    Raises
    ------
    ValueError
        If a fit is penalised or bias-reduced (its ``llf`` is not the
        maximum, so the chi-squared law does not hold), or the models are not
        nested on the same data.
    """
    for name, res in (("restricted", restricted), ("full", full)):
        if res.method != "mle":
            raise ValueError(
                f"the {name} model's estimate is {res.method!r}, not maximum likelihood, so "
                "the likelihood-ratio statistic has no chi-squared law; refit with C=np.inf "
                "on data without separation"
            )
    same_rows = (
        np.array_equal(restricted._problem.codes, full._problem.codes)
        and np.allclose(restricted._problem.weights, full._problem.weights)
        and np.array_equal(restricted.classes, full.classes)
    )
    if not same_rows:
        raise ValueError(
            "the two models were not evaluated on the same rows, labels and weights; "
            "a likelihood-ratio test needs the same data"
        )
    extra = [t for t in restricted.terms if t not in full.terms]
    k_r, k_f = restricted.k_params, full.k_params
    if extra or k_r >= k_f:
        raise ValueError(
            "the restricted model must use a subset of the full model's terms and fewer "
            f"parameters (restricted: {restricted.terms}, full: {full.terms})"
        )
    statistic = max(2.0 * (full.llf - restricted.llf), 0.0)
    dropped = [t for t in full.terms if t not in restricted.terms]
    return HypothesisTest(
        "likelihood ratio",
        statistic,
        k_f - k_r,
        float(stats.chi2.sf(statistic, k_f - k_r)),
        f"no effect of {', '.join(dropped)} on any class",
    )
