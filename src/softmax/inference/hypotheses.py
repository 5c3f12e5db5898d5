"""Tests of hypotheses on a multinomial logit: Wald tests on arrays, the chi-squared law.

Functions here take the estimate, covariance and names they need, never a
results object (:mod:`.results` builds on this module, not the other way);
the likelihood-ratio test of two results is :func:`.results.lr_test`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import linalg, stats

__all__ = ["HypothesisTest", "chi2_test", "wald", "wald_test"]


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

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] + rng.logistic(size=200) > 0, "yes", "no")  # x1 plays no part
    >>> test = SoftmaxRegression(C=np.inf).fit(X, y).inference(X, y).wald_test(features=["x1"])
    >>> test.df, round(test.pvalue, 2)
    (1, 0.81)
    >>> print(test)
    Wald test of no effect of x1 on any class: chi2(1) = 0.0594, p = 0.8075
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
    return chi2_test("Wald", float(diff @ inv @ diff), int(rank), hypothesis)


def chi2_test(test: str, statistic: float, df: int, hypothesis: str) -> HypothesisTest:
    """A :class:`HypothesisTest` with the p-value of ``statistic`` on ``df`` degrees of freedom."""
    return HypothesisTest(test, statistic, df, float(stats.chi2.sf(statistic, df)), hypothesis)


def wald_test(
    theta: NDArray,
    cov: NDArray,
    terms: Sequence[str],
    outcomes: Sequence,
    features: Sequence[str],
    classes: Sequence | None,
    R: NDArray | None,
    r: NDArray | None,
) -> HypothesisTest:
    """:meth:`InferenceResults.wald_test`: zero coefficients, or ``R theta = r``.

    Parameters
    ----------
    theta : ndarray of shape (len(outcomes) * len(terms),)
        Flat estimate, class-major.
    cov : ndarray of shape (len(theta), len(theta))
    terms : sequence of str
        All terms, in the order of ``theta``.
    outcomes : sequence of labels
        The non-reference classes, in the order of ``theta``.
    features : sequence of str
        Terms whose coefficients are tested.
    classes : sequence of labels or None
        Classes whose coefficients are tested; None: all of ``outcomes``.
    R, r : see :meth:`InferenceResults.wald_test`
    """
    if R is not None:
        R = np.atleast_2d(np.asarray(R, dtype=np.float64))
        r = np.zeros(len(R)) if r is None else np.asarray(r, dtype=np.float64)
        return wald(theta, cov, R, r, f"R theta = r ({len(R)} rows)")
    features, outcomes, terms = list(features), list(outcomes), list(terms)
    unknown = [f for f in features if f not in terms]
    classes = outcomes if classes is None else list(classes)
    bad = [c for c in classes if c not in outcomes]
    if unknown or bad or not features or not classes:
        raise ValueError(
            f"nothing to test: unknown term(s) {unknown} or class(es) {bad}; terms are "
            f"{terms}, non-reference classes {outcomes}"
        )
    q = len(terms)
    index = [outcomes.index(c) * q + terms.index(f) for c in classes for f in features]
    what = (
        f"no effect of {', '.join(features)} on any class"
        if len(classes) == len(outcomes)
        else f"zero coefficients of {', '.join(features)} for class(es) {classes}"
    )
    return wald(theta, cov, np.eye(len(theta))[index], np.zeros(len(index)), what)
