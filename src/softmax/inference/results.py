"""Results of statistical inference: :class:`InferenceResults` and :func:`inference`.

How the estimate and its covariance are obtained (reference-class form,
Newton refinement, penalised fits, weights, separation) is explained in
:mod:`softmax.inference`; the options are :class:`.options.InferenceOptions`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .core import form_map
from .estimation import _reference_index, estimate
from .hypotheses import HypothesisTest, chi2_test, wald_test
from .margins import MarginalEffects, marginal_effects
from .options import InferenceOptions
from .separation import SeparationReport
from .summary import InferenceSummary, notes, summarize, tidy_frame
from ..functions import softmax
from ..model.design import design_matrix

__all__ = ["InferenceResults", "inference", "lr_test"]


def inference(
    model,
    X: ArrayLike,
    y: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    cov_type: str = "nonrobust",
    reference: Any = None,
    groups: ArrayLike | None = None,
    *,
    weights_kind: str = "frequency",
    separation: str = "firth",
) -> InferenceResults:
    """Standard errors, tests and marginal effects for a fitted model.

    The estimate is refined by Newton steps (see :mod:`softmax.inference`), so it
    is accurate to rounding whatever the estimator's ``tol``.

    Parameters
    ----------
    model : SoftmaxRegression
        A fitted model.
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Data to make inference on, usually the training data; used as a
        dense float64 array.
    y : array-like of shape (n_samples,), optional
        Labels, all among ``model.classes_``; every class must occur. None
        takes the label column of ``X`` that the model's ``formula`` names.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights, read as ``weights_kind`` says; the model's
        ``class_weight`` multiplies them, as in ``fit``.
    cov_type, reference, groups, weights_kind, separation
        How to estimate and what to report: see :class:`InferenceOptions`
        (defaults ``"nonrobust"``, the first class, none, ``"frequency"``,
        ``"firth"``).

    Returns
    -------
    InferenceResults

    Raises
    ------
    ValueError
        For an unknown option (see :class:`InferenceOptions`).
    SoftmaxInputError
        For unknown labels, a class absent from the data, collinear terms
        without a penalty, or separated data with ``separation="error"``.

    Warns
    -----
    SeparationWarning
        When the data are separated; the message names classes and features.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> X = X[["alcohol", "flavanoids"]]
    >>> model = SoftmaxRegression(C=float("inf")).fit(X, y)
    >>> res = model.inference(X, y, reference=1)
    >>> list(res.params.columns), res.terms
    ([0, 2], ['intercept', 'alcohol', 'flavanoids'])
    >>> res.params.loc["alcohol"].round(2).tolist()
    [4.84, 5.07]
    >>> res.pvalues.loc["flavanoids"].round(4).tolist()
    [0.0039, 0.0005]
    >>> round(res.llf, 3)
    -34.398
    """
    options = InferenceOptions(cov_type, reference, groups, weights_kind, separation)
    return InferenceResults(**estimate(model, X, y, sample_weight, options))


class InferenceResults:
    """Results of :func:`inference`: estimates, covariance, tests, summaries.

    Coefficients are in the reference-class form: one column per
    non-reference class (named by its label), one row per term (``intercept``
    first when the model has one, then the features). Flat vectors and
    ``cov_params()`` are class-major: all terms of the first non-reference
    class, then the next. Do not build it directly; call :func:`inference`.

    Attributes
    ----------
    classes : ndarray of shape (K,)
        All class labels.
    reference : label
        The reference class.
    terms : list of str
        Row names of ``params``.
    cov_type : str
    weights_kind : {"frequency", "analytic"} or None
        None when no weights were given.
    method : {"mle", "penalised", "firth", "ridge"}
        How the estimate was obtained: maximum likelihood, the model's
        penalised optimum, or a separation remedy.
    C : float
        Inverse penalty strength used (``inf`` for ``"mle"`` and ``"firth"``).
    nobs : float
        Number of observations (sum of frequency weights).
    n_iter : int
        Newton steps of the refinement.
    converged : bool
    separation : SeparationReport or None
        What the separation check found (None: not separated).
    n_groups : int or None
        Number of clusters for ``cov_type="cluster"``.
    edf : float
        Effective number of parameters: ``k_params`` except for penalised
        fits, where it is ``tr((I + P)^{-1} I)``.
    dependent : str
        Name of the label variable (``y.name`` or ``"y"``).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] + rng.logistic(size=200) > 0, "yes", "no")  # x1 plays no part
    >>> res = SoftmaxRegression(C=np.inf).fit(X, y).inference(X, y)
    >>> res.method, str(res.reference), res.terms, round(res.llf, 2)
    ('mle', 'no', ['intercept', 'x0', 'x1'], -117.36)
    >>> res.params["yes"].round(2).tolist()  # class "yes" against the reference "no"
    [0.13, 1.11, -0.04]
    """

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        self._model = fields["model"]
        self._problem = fields["problem"]
        self._theta = fields["theta"]
        self._cov = fields["cov"]
        self.classes: NDArray = fields["classes"]
        self.terms: list[str] = list(fields["terms"])
        self.features: list[str] = list(fields["features"])
        self.cov_type: str = fields["cov_type"]
        self.weights_kind: str | None = fields["weights_kind"]
        self.method: str = fields["method"]
        self.C: float = fields["C"]
        self.nobs: float = fields["nobs"]
        self.n_iter: int = fields["n_iter"]
        self.converged: bool = fields["converged"]
        self.separation: SeparationReport | None = fields["separation"]
        self.n_groups: int | None = fields["n_groups"]
        self.edf: float = fields["edf"]
        self.dependent: str = fields["dependent"]

    def __repr__(self) -> str:
        return (
            f"<InferenceResults: {self.method}, reference={self.reference!r}, "
            f"cov_type={self.cov_type!r}, llf={self.llf:.6g}>"
        )

    # -- labels -------------------------------------------------------------------------

    @property
    def reference(self):
        """The reference class label."""
        return self.classes[self._problem.reference]

    @property
    def outcome_classes(self) -> NDArray:
        """The non-reference class labels, the columns of ``params``."""
        return self.classes[self._problem.others]

    def _frame(self, values: NDArray) -> pd.DataFrame:
        """A (J, q) array as a (term x class) frame."""
        return pd.DataFrame(
            values.T,
            index=pd.Index(self.terms, name="term"),
            columns=pd.Index(self.outcome_classes, name="class"),
        )

    def _flat_index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_product([self.outcome_classes, self.terms],
                                          names=["class", "term"])

    # -- estimates ----------------------------------------------------------------------

    @property
    def k_params(self) -> int:
        """Number of free parameters, ``(K - 1) * len(terms)``."""
        return int(self._theta.size)

    @property
    def df_model(self) -> int:
        """Parameters beyond the intercepts, ``(K - 1) * n_features``."""
        return (len(self.classes) - 1) * len(self.features)

    @property
    def df_resid(self) -> float:
        return self.nobs - self.k_params

    @property
    def params(self) -> pd.DataFrame:
        """Estimates, shape (n_terms, K - 1)."""
        return self._frame(self._theta)

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the flat estimates, rows and columns indexed by (class, term)."""
        index = self._flat_index()
        return pd.DataFrame(self._cov, index=index, columns=index)

    @property
    def bse(self) -> pd.DataFrame:
        """Standard errors, shaped like ``params``."""
        se = np.sqrt(np.clip(np.diag(self._cov), 0.0, None))
        return self._frame(se.reshape(self._theta.shape))

    @property
    def tvalues(self) -> pd.DataFrame:
        """z statistics ``params / bse``."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of the z statistics (standard normal)."""
        z = self.tvalues
        return pd.DataFrame(2 * stats.norm.sf(np.abs(z.to_numpy())), z.index, z.columns)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals at level ``1 - alpha``.

        Returns
        -------
        pandas.DataFrame of shape (k_params, 2)
            Rows (class, term) in the flat order, columns ``lower``, ``upper``.
        """
        z = stats.norm.isf(alpha / 2)
        est = self._theta.ravel()
        se = np.sqrt(np.clip(np.diag(self._cov), 0.0, None))
        return pd.DataFrame({"lower": est - z * se, "upper": est + z * se},
                            index=self._flat_index())

    # -- likelihood statistics ------------------------------------------------------------

    @cached_property
    def llf(self) -> float:
        """Log-likelihood at the estimate (weighted; the data term only for penalised fits)."""
        return self._problem.loglik(self._theta)

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (the class shares)."""
        counts = np.bincount(self._problem.codes, weights=self._problem.weights,
                             minlength=len(self.classes))
        return float(counts @ np.log(counts / counts.sum()))

    @property
    def llr(self) -> float:
        """Likelihood-ratio statistic against the intercept-only model."""
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        """p-value of ``llr`` on ``df_model`` degrees of freedom."""
        return float(stats.chi2.sf(self.llr, self.df_model))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, ``1 - llf / llnull``."""
        return 1.0 - self.llf / self.llnull

    @property
    def aic(self) -> float:
        """``-2 llf + 2 edf``."""
        return -2.0 * self.llf + 2.0 * self.edf

    @property
    def bic(self) -> float:
        """``-2 llf + edf log(nobs)``."""
        return -2.0 * self.llf + self.edf * np.log(self.nobs)

    @property
    def notes(self) -> list[str]:
        """Caveats printed under the summary table."""
        return notes(self)

    # -- summaries ------------------------------------------------------------------------

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy coefficient table, one row per (class, term).

        Columns: ``class, term, estimate, std_err, z, p_value, ci_lower, ci_upper``.
        """
        return tidy_frame(self, alpha)

    def summary(self, alpha: float = 0.05) -> InferenceSummary:
        """Readable text table grouped by class (``str()`` of the result) and a tidy frame."""
        return summarize(self, alpha)

    # -- tests and effects ----------------------------------------------------------------

    def wald_test(
        self,
        features: Sequence[str] | None = None,
        classes: Sequence | None = None,
        R: ArrayLike | None = None,
        r: ArrayLike | None = None,
    ) -> HypothesisTest:
        """Wald test that a set of coefficients is zero, or of ``R theta = r``.

        Parameters
        ----------
        features : sequence of str, optional
            Terms whose coefficients are tested (``"intercept"`` allowed);
            default: all features. With every class, "these features have no
            effect on any class", which does not depend on the reference.
        classes : sequence of labels, optional
            Non-reference classes whose coefficients are tested; default all.
        R : array-like of shape (m, k_params), optional
            General linear restrictions on the flat estimates (class-major);
            overrides ``features`` and ``classes``.
        r : array-like of shape (m,), optional
            Right-hand side for ``R``; default zeros.

        Returns
        -------
        HypothesisTest
        """
        outcomes = [c.item() if hasattr(c, "item") else c for c in self.outcome_classes]
        return wald_test(self._theta.ravel(), self._cov, self.terms, outcomes,
                         self.features if features is None else features, classes, R, r)

    def lr_test(self, restricted: InferenceResults) -> HypothesisTest:
        """Likelihood-ratio test of a nested ``restricted`` model against this one.

        See :func:`lr_test`.
        """
        return lr_test(restricted, self)

    def marginal_effects(self, at: str = "overall") -> MarginalEffects:
        """Marginal effects of the features on every class probability.

        Parameters
        ----------
        at : {"overall", "mean"}, default="overall"
            ``"overall"``: average over the (weighted) rows; ``"mean"``: at the
            (weighted) mean of the features.

        Returns
        -------
        MarginalEffects
            Effects (n_features, K), with delta-method standard errors from
            this result's covariance.
        """
        start = len(self.terms) - len(self.features)
        return marginal_effects(self._problem, self._theta, self._cov, start, self.features,
                                list(self.classes), at)

    # -- other forms ----------------------------------------------------------------------

    def with_reference(self, reference) -> InferenceResults:
        """The same fit reported against another reference class.

        A lossless linear map ``T`` of the estimates; the covariance becomes
        ``T cov T'`` (exact for every ``cov_type``), so probabilities,
        likelihoods, tests of "no effect on any class" and marginal effects
        are unchanged.
        """
        new = _reference_index(self.classes, reference)
        T = form_map(len(self.classes), self._problem.reference, len(self.terms), new)
        return InferenceResults(
            **{
                **self._fields,
                "problem": dataclasses.replace(self._problem, reference=new),
                "theta": (T @ self._theta.ravel()).reshape(self._theta.shape),
                "cov": T @ self._cov @ T.T,
            }
        )

    def symmetric(self) -> pd.DataFrame:
        """Estimates and standard errors in the estimator's symmetric (centred) form.

        Each class row minus the average of all rows: the representative the
        estimator stores in ``coef_`` and ``intercept_``. These are contrasts,
        identified although the symmetric form itself is not; their covariance
        has rank ``(K - 1) * len(terms)``.

        Returns
        -------
        pandas.DataFrame of shape (K * n_terms, 2)
            Rows (class, term) for every class, columns ``estimate``, ``std_err``.
        """
        T = form_map(len(self.classes), self._problem.reference, len(self.terms), None)
        cov = T @ self._cov @ T.T
        index = pd.MultiIndex.from_product([self.classes, self.terms], names=["class", "term"])
        return pd.DataFrame(
            {"estimate": T @ self._theta.ravel(),
             "std_err": np.sqrt(np.clip(np.diag(cov), 0.0, None))},
            index=index,
        )

    def predict_proba(self, X: ArrayLike) -> NDArray:
        """Class probabilities at the refined estimate, shape (n_samples, K)."""
        X = design_matrix(self._model, X, dtype=np.float64)
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        Z = np.column_stack([np.ones(len(X)), X]) if len(self.terms) > len(self.features) else X
        eta = np.zeros((len(X), len(self.classes)))
        eta[:, self._problem.others] = Z @ self._theta.T
        return softmax(eta, axis=1)


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

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] + rng.logistic(size=200) > 0, "yes", "no")  # x1 plays no part
    >>> full = SoftmaxRegression(C=np.inf).fit(X, y).inference(X, y)
    >>> small = SoftmaxRegression(C=np.inf).fit(X[:, :1], y).inference(X[:, :1], y)
    >>> print(lr_test(small, full))
    likelihood ratio test of no effect of x1 on any class: chi2(1) = 0.0595, p = 0.8072
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
    return chi2_test("likelihood ratio", statistic, k_f - k_r,
                     f"no effect of {', '.join(dropped)} on any class")
