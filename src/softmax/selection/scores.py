"""From fold scores to scikit-learn's ``cv_results_``, and the rules that pick the penalty.

Candidates are ordered l1_ratio by l1_ratio, and within one by increasing
``C`` (the order the paths run in). ``cv_results_`` has
:class:`~sklearn.model_selection.GridSearchCV`'s layout for the keys it
shares, plus ``se_test_score``, the standard error of the mean score,
``std_test_score / sqrt(n_folds)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["RULES", "cv_results", "select", "with_offset"]

#: The rules :func:`select` knows, with what they pick.
RULES = {
    "min": "the best mean score",
    "1se": "the strongest penalty (smallest C) whose mean score is within one standard error "
    "of the best, along the best l1_ratio's path",
}


def cv_results(Cs: NDArray, l1_ratios: NDArray, scores: NDArray) -> dict:
    """``cv_results_`` of a search over ``C`` and ``l1_ratio``.

    Parameters
    ----------
    Cs : ndarray of shape (n_l1_ratios, n_Cs)
        Each l1_ratio's increasing grid.
    l1_ratios : ndarray of shape (n_l1_ratios,)
    scores : ndarray of shape (n_folds, n_l1_ratios, n_Cs)
        Validation score of each fold and candidate (greater is better).

    Returns
    -------
    dict
        ``param_C``, ``param_l1_ratio`` (masked arrays), ``params`` (list of
        dicts), ``split{i}_test_score``, ``mean_test_score``,
        ``std_test_score``, ``se_test_score`` and ``rank_test_score``, one
        entry per candidate. Like GridSearchCV, ``std_test_score`` is the
        population standard deviation over folds (``ddof=0``) and rank 1 is
        the best; NaN scores rank last.
    """
    n_folds = scores.shape[0]
    flat = scores.reshape(n_folds, -1)
    C = Cs.ravel()
    ratio = np.repeat(l1_ratios, Cs.shape[1])
    results: dict = {
        "param_C": np.ma.MaskedArray(C, mask=False),
        "param_l1_ratio": np.ma.MaskedArray(ratio, mask=False),
        "params": [{"C": float(c), "l1_ratio": float(r)} for c, r in zip(C, ratio)],
    }
    for i in range(n_folds):
        results[f"split{i}_test_score"] = flat[i]
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    results["mean_test_score"] = mean
    results["std_test_score"] = std
    results["se_test_score"] = std / np.sqrt(n_folds)
    # GridSearchCV's ranking: ties share the best rank; NaN (failed) candidates come last.
    filled = np.where(np.isnan(mean), -np.inf, mean)
    results["rank_test_score"] = rankdata(-filled, method="min").astype(np.int32)
    return results


def select(results: dict, rule: str) -> int:
    """Index of the chosen candidate in ``results`` (from :func:`cv_results`).

    ``"min"``: the first candidate of best mean score (GridSearchCV's
    ``best_index_``). ``"1se"``: among the candidates of the best one's
    l1_ratio whose mean score is at least ``mean - se`` of the best, the one
    of smallest ``C``: the simplest model that the folds cannot tell from
    the best (glmnet's ``lambda.1se``).

    Raises
    ------
    ValueError
        For an unknown rule, or when every mean score is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[[-0.9, -0.52, -0.50, -0.55]], [[-1.1, -0.58, -0.56, -0.57]]])
    >>> results = cv_results(np.array([[0.01, 0.1, 1.0, 10.0]]), np.zeros(1), scores)
    >>> results["mean_test_score"].round(2).tolist()
    [-1.0, -0.55, -0.53, -0.56]
    >>> select(results, "min"), select(results, "1se")  # SE of the best: 0.03 / sqrt(2)
    (2, 1)
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
    mean = results["mean_test_score"]
    if np.all(np.isnan(mean)):
        raise ValueError("every candidate's mean validation score is NaN; nothing to choose")
    best = int(np.argmin(results["rank_test_score"]))
    if rule == "min":
        return best
    ratio = np.asarray(results["param_l1_ratio"])
    C = np.asarray(results["param_C"])
    threshold = mean[best] - results["se_test_score"][best]
    good = np.flatnonzero((ratio == ratio[best]) & (mean >= threshold))
    return int(good[np.argmin(C[good])])


class _OffsetBound(ClassifierMixin, BaseEstimator):
    """A fitted model whose predictions add the held-out rows' offset.

    scikit-learn's scorers call ``predict_proba(X)`` (or another method, by
    name) and read ``classes_``; they have no place for an offset, so the
    offset of exactly those rows is bound here.
    """

    def __init__(self, model, offset: NDArray) -> None:
        self.model = model
        self.offset = offset

    @property
    def classes_(self) -> NDArray:
        return self.model.classes_

    def decision_function(self, X) -> NDArray:
        return self.model.decision_function(X, self.offset)

    def predict_proba(self, X) -> NDArray:
        return self.model.predict_proba(X, self.offset)

    def predict_log_proba(self, X) -> NDArray:
        return self.model.predict_log_proba(X, self.offset)

    def predict(self, X) -> NDArray:
        return self.model.predict(X, self.offset)


def with_offset(scorer: Callable, offset: NDArray) -> Callable:
    """``scorer(model, X, y)`` for a model fitted with an offset, given the rows' ``offset``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.metrics import get_scorer
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> offset = np.zeros((150, 3))
    >>> model = SoftmaxRegression().fit(X, y, offset=offset)
    >>> round(with_offset(get_scorer("accuracy"), offset)(model, X, y), 2)
    0.97
    """

    def score(model, X, y) -> float:
        return scorer(_OffsetBound(model, offset), X, y)

    return score
