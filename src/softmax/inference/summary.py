"""The summary of an inference result: a text table grouped by class, and a tidy frame.

The functions read a result through :class:`Reported`, the part of
:class:`~softmax.inference.InferenceResults` they need, so that this module
does not import :mod:`.results` (which imports this one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["InferenceSummary", "Reported", "notes", "summarize", "tidy_frame"]


class Reported(Protocol):
    """What a summary reads of an :class:`~softmax.inference.InferenceResults`."""

    classes: NDArray
    terms: list[str]
    cov_type: str
    weights_kind: str | None
    method: str
    C: float
    nobs: float
    n_iter: int
    converged: bool
    separation: Any
    n_groups: int | None
    edf: float
    dependent: str
    reference: Any
    outcome_classes: NDArray
    k_params: int
    df_model: int
    llf: float
    llnull: float
    llr: float
    llr_pvalue: float
    prsquared: float
    aic: float
    bic: float
    notes: list[str]
    params: pd.DataFrame
    bse: pd.DataFrame
    tvalues: pd.DataFrame
    pvalues: pd.DataFrame

    def conf_int(self, alpha: float = ...) -> pd.DataFrame: ...

    def summary_frame(self, alpha: float = ...) -> pd.DataFrame: ...

_METHODS = {
    "mle": "maximum likelihood",
    "penalised": "penalised (ridge, C={C:g})",
    "firth": "Firth bias-reduced",
    "ridge": "ridge fallback (C={C:g})",
}


@dataclass(frozen=True)
class InferenceSummary:
    """What :meth:`InferenceResults.summary` returns.

    Attributes
    ----------
    text : str
        A readable table: model statistics, then one block per non-reference
        class with estimate, standard error, z, p-value and confidence interval.
    frame : pandas.DataFrame
        The same coefficients as a tidy table, one row per (class, term), with
        columns ``class, term, estimate, std_err, z, p_value, ci_lower, ci_upper``.
    info : dict
        The model statistics shown in the header (JSON-able values).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import SoftmaxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] + rng.logistic(size=200) > 0, "yes", "no")  # x1 plays no part
    >>> summary = SoftmaxRegression().fit(X, y).inference(X, y).summary()
    >>> print(summary.text.splitlines()[0].strip())
    Multinomial logit (softmax regression) results
    >>> summary.frame.columns.tolist()
    ['class', 'term', 'estimate', 'std_err', 'z', 'p_value', 'ci_lower', 'ci_upper']
    """

    text: str
    frame: pd.DataFrame
    info: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def tidy_frame(res: Reported, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (class, term): estimate, SE, z, p-value, confidence interval."""
    ci = res.conf_int(alpha)
    frame = pd.DataFrame(
        {
            "estimate": res.params.T.to_numpy().ravel(),
            "std_err": res.bse.T.to_numpy().ravel(),
            "z": res.tvalues.T.to_numpy().ravel(),
            "p_value": res.pvalues.T.to_numpy().ravel(),
            "ci_lower": ci["lower"].to_numpy(),
            "ci_upper": ci["upper"].to_numpy(),
        },
        index=ci.index,
    )
    return frame.reset_index()


def notes(res: Reported) -> list[str]:
    """Caveats printed under the summary table."""
    found = []
    if res.separation is not None:
        found.append(res.separation.message)
    if res.method == "firth":
        found.append("Firth bias-reduced estimates (the MLE does not exist).")
    if res.method in ("penalised", "ridge"):
        found.append(
            f"Penalised estimate (C={res.C:g}); standard errors are the sandwich around "
            "the penalised estimand and do not include shrinkage bias."
        )
    if not res.converged:
        found.append("The Newton refinement did not converge.")
    return found


def _number(x: float, width: int = 10) -> str:
    """Fixed point for ordinary magnitudes, scientific for tiny or huge ones."""
    if x == 0 or 1e-4 <= abs(x) < 1e6:
        return f"{x:{width}.4f}"
    return f"{x:{width}.3e}"


def _pvalue(p: float) -> str:
    return f"{p:8.3f}" if p >= 0.001 else f"{p:8.1e}"


def summarize(res: Reported, alpha: float = 0.05) -> InferenceSummary:
    """Build the summary of ``res`` (see :class:`InferenceSummary`)."""
    frame = res.summary_frame(alpha)
    method = _METHODS[res.method].format(C=res.C)
    weights = "none" if res.weights_kind is None else f"{res.weights_kind} weights"
    cov = res.cov_type + (f" ({res.n_groups} clusters)" if res.cov_type == "cluster" else "")
    info = {
        "dependent_variable": res.dependent,
        "reference_class": _plain(res.reference),
        "observations": int(res.nobs) if float(res.nobs).is_integer() else res.nobs,
        "classes": len(res.classes),
        "parameters": res.k_params,
        "method": method,
        "cov_type": cov,
        "weights": weights,
        "converged": res.converged,
        "newton_steps": res.n_iter,
        "llf": res.llf,
        "llnull": res.llnull,
        "llr": res.llr,
        "df_model": res.df_model,
        "llr_pvalue": res.llr_pvalue,
        "prsquared": res.prsquared,
        "aic": res.aic,
        "bic": res.bic,
    }
    if res.method in ("penalised", "ridge"):
        info["effective_df"] = res.edf
    left = [
        ("Dependent variable:", str(res.dependent)),
        ("Reference class:", str(_plain(res.reference))),
        ("Estimate:", method),
        ("Covariance:", cov),
        ("Weights:", weights),
        ("Converged:", f"{'yes' if res.converged else 'NO'} ({res.n_iter} Newton steps)"),
        ("Pseudo R2 (McFadden):", f"{res.prsquared:.4f}"),
        ("AIC:", f"{res.aic:.3f}"),
    ]
    right = [
        ("Observations:", f"{res.nobs:g}"),
        ("Classes:", str(len(res.classes))),
        ("Parameters:", str(res.k_params)),
        ("Log-likelihood:", f"{res.llf:.3f}"),
        ("LL-null:", f"{res.llnull:.3f}"),
        (f"LR chi2({res.df_model}):", f"{res.llr:.3f}"),
        ("LR p-value:", f"{res.llr_pvalue:.4g}"),
        ("BIC:", f"{res.bic:.3f}"),
    ]
    value_width = max(len(b) for _, b in left)
    label_width = max(len(c) for c, _ in right) + 1
    number_width = max(len(d) for _, d in right)
    header = [
        f"{a:<22}{b:<{value_width}}    {c:<{label_width}}{d:>{number_width}}"
        for (a, b), (c, d) in zip(left, right)
    ]
    titles = [
        f"{res.dependent} = {_plain(label)} (vs {_plain(res.reference)})"
        for label in res.outcome_classes
    ]
    term_width = max(len(t) for t in [*map(str, res.terms), *titles])
    lo, hi = f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"
    columns = f"{'coef':>10} {'std err':>10} {'z':>8} {'P>|z|':>8} {lo:>10} {hi:>10}"
    width = max(len(header[0]), term_width + len(columns) + 1)
    lines = ["Multinomial logit (softmax regression) results".center(width), "=" * width]
    lines += header
    for title, (_, block) in zip(titles, frame.groupby("class", sort=False)):
        lines.append("=" * width)
        lines.append(f"{title:<{term_width}} {columns}")
        lines.append("-" * width)
        for row in block.itertuples(index=False):
            lines.append(
                f"{str(row.term):<{term_width}} {_number(row.estimate)} {_number(row.std_err)} "
                f"{row.z:8.3f} {_pvalue(row.p_value)} {_number(row.ci_lower)} "
                f"{_number(row.ci_upper)}"
            )
    lines.append("=" * width)
    lines += [f"Note: {note}" for note in res.notes]
    return InferenceSummary(text="\n".join(lines), frame=frame, info=info)


def _plain(value):
    """A NumPy scalar as the Python value it holds, for printing and JSON."""
    return value.item() if isinstance(value, np.generic) else value
