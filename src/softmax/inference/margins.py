"""Marginal effects on class probabilities, with delta-method standard errors.

For a feature ``l`` the derivative of class ``k``'s probability is

    dp_k / dx_l = p_k (beta_kl - sum_m p_m beta_ml),

with ``beta`` the coefficients of all classes (the reference row 0). It does
not depend on the reference class. The *average* marginal effect averages it
over the (weighted) rows; the effect *at the mean* evaluates it at the
(weighted) mean row. Standard errors come from the delta method,
``J Cov(theta) J'``, with the Jacobian ``J`` in closed form:

    d ME_kl / d theta_ct = avg_i [ M_ikc z_it E_ikl - p_ik p_ic z_it E_icl
                                   + M_ikc 1(t is feature l) ],

where ``M_ikc = p_ik (delta_kc - p_ic)`` and ``E_ikl = beta_kl - sum_m p_im beta_ml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from .core import Problem, row_blocks

__all__ = ["MarginalEffects", "marginal_effects"]


@dataclass(frozen=True)
class MarginalEffects:
    """Marginal effects of the features on each class probability.

    Attributes
    ----------
    at : {"overall", "mean"}
        ``"overall"``: average marginal effects (AME); ``"mean"``: marginal
        effects at the (weighted) mean of the features (MEM).
    effects : pandas.DataFrame of shape (n_features, n_classes)
        ``d P(class) / d feature``; each row sums to 0 over the classes.
    cov : pandas.DataFrame of shape (n_features * n_classes,) * 2
        Delta-method covariance; rows and columns indexed by (feature, class).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] + rng.logistic(size=200) > 0, "yes", "no")  # x1 plays no part
    >>> me = SoftmaxRegression(C=np.inf).fit(X, y).inference(X, y).marginal_effects()
    >>> me.effects.round(3)  # doctest: +NORMALIZE_WHITESPACE
    class       no    yes
    feature
    x0      -0.223  0.223
    x1       0.008 -0.008
    """

    at: str
    effects: pd.DataFrame
    cov: pd.DataFrame

    @property
    def bse(self) -> pd.DataFrame:
        """Delta-method standard errors, shaped like ``effects``."""
        se = np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0.0, None))
        return pd.DataFrame(se.reshape(self.effects.shape), self.effects.index,
                            self.effects.columns)

    @property
    def tvalues(self) -> pd.DataFrame:
        """z statistics ``effects / bse`` (0 where both are 0)."""
        se = self.bse
        return self.effects / se.where(se > 0, np.inf)

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided normal p-values."""
        z = self.tvalues
        return pd.DataFrame(2 * stats.norm.sf(np.abs(z.to_numpy())), z.index, z.columns)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals, rows (feature, class), columns ``lower``, ``upper``."""
        z = stats.norm.isf(alpha / 2)
        est = self.effects.stack()
        se = self.bse.stack()
        return pd.DataFrame({"lower": est - z * se, "upper": est + z * se})

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: one row per (feature, class) with estimate, SE, z, p and CI."""
        ci = self.conf_int(alpha)
        frame = pd.DataFrame(
            {
                "effect": self.effects.stack(),
                "std_err": self.bse.stack(),
                "z": self.tvalues.stack(),
                "p_value": self.pvalues.stack(),
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
            }
        )
        return frame.rename_axis(["feature", "class"]).reset_index()


def _effects_jacobian(
    problem: Problem, theta: NDArray, rows_Z: NDArray, weights: NDArray, start: int
) -> tuple[NDArray, NDArray]:
    """Average effects (d, K) and their Jacobian (d, K, J, q) over the rows given."""
    K = problem.n_classes
    J, q = theta.shape
    d = q - start
    others = problem.others
    beta = np.zeros((K, d))
    beta[others] = theta[:, start:]
    w = weights / weights.sum()
    effects = np.zeros((d, K))
    jac = np.zeros((d, K, J, q))
    for rows in row_blocks(len(rows_Z), K * J * q):
        Z, wb = rows_Z[rows], w[rows]
        eta = np.zeros((Z.shape[0], K))
        eta[:, others] = Z @ theta.T
        p = np.exp(eta - eta.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        E = beta[None, :, :] - (p @ beta)[:, None, :]  # (n, K, d)
        effects += np.einsum("i,ik,ikl->lk", wb, p, E)
        pc = p[:, others]
        M = p[:, :, None] * (np.eye(K)[None, :, others] - pc[:, None, :])  # (n, K, J)
        jac += np.einsum("i,ikc,it,ikl->lkct", wb, M, Z, E, optimize=True)
        jac -= np.einsum("i,ik,ic,it,icl->lkct", wb, p, pc, Z, E[:, others], optimize=True)
        Mbar = np.einsum("i,ikc->kc", wb, M)
        jac[np.arange(d), :, :, start + np.arange(d)] += Mbar[None]
    return effects, jac


def marginal_effects(
    problem: Problem,
    theta: NDArray,
    cov: NDArray,
    start: int,
    features: list[str],
    classes: list,
    at: str = "overall",
) -> MarginalEffects:
    """Marginal effects of the features on the probabilities of all classes.

    Parameters
    ----------
    problem : Problem
    theta : ndarray of shape (J, q)
    cov : ndarray of shape (Jq, Jq)
        Covariance of ``theta`` (flat layout).
    start : int
        1 when the first column of ``Z`` is the intercept, else 0.
    features : list of str
        Feature names (without the intercept).
    classes : list
        All class labels.
    at : {"overall", "mean"}, default="overall"

    Returns
    -------
    MarginalEffects
    """
    if at == "overall":
        rows_Z, weights = problem.Z, problem.weights
    elif at == "mean":
        w = problem.weights / problem.weights.sum()
        rows_Z, weights = (w @ problem.Z)[None, :], np.ones(1)
    else:
        raise ValueError(f"at must be 'overall' or 'mean', not {at!r}")
    if len(features) == 0:
        raise ValueError("the model has no features, so there are no marginal effects")
    effects, jac = _effects_jacobian(problem, theta, rows_Z, weights, start)
    d, K = effects.shape
    G = jac.reshape(d * K, -1)
    index = pd.MultiIndex.from_product([features, classes], names=["feature", "class"])
    return MarginalEffects(
        at=at,
        effects=pd.DataFrame(effects, index=pd.Index(features, name="feature"),
                             columns=pd.Index(classes, name="class")),
        cov=pd.DataFrame(G @ cov @ G.T, index=index, columns=index),
    )
