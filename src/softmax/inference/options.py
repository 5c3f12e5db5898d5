"""The options of :func:`softmax.inference.inference`, documented and validated once."""

from __future__ import annotations

import dataclasses
from typing import Any

from numpy.typing import ArrayLike

__all__ = ["COV_TYPES", "SEPARATION_REMEDIES", "WEIGHTS_KINDS", "InferenceOptions"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")
WEIGHTS_KINDS = ("frequency", "analytic")
SEPARATION_REMEDIES = ("firth", "ridge", "error")


@dataclasses.dataclass(frozen=True, eq=False)
class InferenceOptions:
    """How :func:`softmax.inference.inference` estimates and what it reports.

    The public signatures (:func:`~softmax.inference.inference`,
    :meth:`SoftmaxRegression.inference <softmax.SoftmaxRegression.inference>`)
    take these as keywords; the layers below take this object. It is
    validated on construction (``ValueError`` for a bad choice) and
    ``cov_type`` is normalised to its spelling in :data:`COV_TYPES`.

    Parameters
    ----------
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        ``"nonrobust"``: inverse observed information (a sandwich for
        penalised fits). ``"HC0"``: sandwich with per-row score outer
        products. ``"HC1"``: HC0 times ``n / (n - k)`` for ``k`` parameters
        (statsmodels' ``MNLogit`` applies no factor for ``"HC1"``: its HC1 is
        this HC0). ``"cluster"``: sandwich of per-cluster score sums times
        ``G / (G - 1) * (n - 1) / (n - k)`` (CRV1, statsmodels' default).
        Case-insensitive.
    reference : class label, optional
        The class whose coefficients are fixed at 0; default ``classes_[0]``.
        Text matching a label (``"1.0"`` for ``1.0``) is accepted.
    groups : array-like of shape (n_samples,), optional
        Cluster of each row; required by ``cov_type="cluster"``, refused
        otherwise (statsmodels keeps it with the covariance options, too).
    weights_kind : {"frequency", "analytic"}, default="frequency"
        How ``sample_weight`` is read. ``"frequency"``: counts of identical
        rows (``n`` is their sum). ``"analytic"``: relative precisions or
        sampling weights, rescaled to sum to the number of rows (``n``).
    separation : {"firth", "ridge", "error"}, default="firth"
        Remedy when unpenalised data are separated.

    Examples
    --------
    >>> InferenceOptions(cov_type="hc1").cov_type
    'HC1'
    >>> InferenceOptions(cov_type="cluster")
    Traceback (most recent call last):
        ...
    ValueError: groups is required with cov_type='cluster' and used only there
    """

    cov_type: str = "nonrobust"
    reference: Any = None
    groups: ArrayLike | None = None
    weights_kind: str = "frequency"
    separation: str = "firth"

    def __post_init__(self) -> None:
        names = {c.lower(): c for c in COV_TYPES}
        if not isinstance(self.cov_type, str) or self.cov_type.lower() not in names:
            raise ValueError(
                f"cov_type must be one of {', '.join(COV_TYPES)}, not {self.cov_type!r}"
            )
        object.__setattr__(self, "cov_type", names[self.cov_type.lower()])
        if (self.cov_type == "cluster") != (self.groups is not None):
            raise ValueError("groups is required with cov_type='cluster' and used only there")
        if self.weights_kind not in WEIGHTS_KINDS:
            raise ValueError(
                f"weights_kind must be 'frequency' or 'analytic', not {self.weights_kind!r}"
            )
        if self.separation not in SEPARATION_REMEDIES:
            raise ValueError(
                f"separation must be 'firth', 'ridge' or 'error', not {self.separation!r}"
            )
