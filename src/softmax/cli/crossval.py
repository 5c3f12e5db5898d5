"""``softmax fit --cv K``: choose ``C`` by cross-validation along regularisation paths.

Only the choice happens here: :class:`softmax.SoftmaxRegressionCV` fits the
paths, and its final model (``best_estimator_``) is then saved, scored and
drawn by ``fit`` like any other.
"""

from __future__ import annotations

import pathlib
from enum import StrEnum
from typing import Annotated

import pandas as pd
import typer
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from ..estimator import SoftmaxRegression

__all__ = ["CsOpt", "CvOpt", "Rule", "RuleOpt", "choose_c", "cv_plots"]

Rule = StrEnum("Rule", {"min": "min", "1se": "1se"})

CvOpt = Annotated[
    int | None,
    typer.Option(
        "--cv", min=2, metavar="K",
        help="Choose -C by K-fold cross-validation (stratified, seeded by --seed) along a "
        "path of --cs values, with warm starts; -C is then ignored.",
        show_default=False,
    ),
]  # fmt: skip
CsOpt = Annotated[
    int,
    typer.Option(
        "--cs", min=2, help="With --cv: how many values of C (log-spaced; from the largest C "
        "that zeroes every coefficient when --l1-ratio > 0)."
    ),
]  # fmt: skip
RuleOpt = Annotated[
    Rule,
    typer.Option(
        help="With --cv: min takes the best mean score (log-loss); 1se the strongest penalty "
        "within one standard error of it (glmnet's lambda.1se)."
    ),
]


def choose_c(
    template: SoftmaxRegression, X: pd.DataFrame, y: NDArray, sample_weight: NDArray | None,
    *, folds: int, cs: int, rule: str, seed: int,
) -> tuple[SoftmaxRegression, object, str]:  # fmt: skip
    """Cross-validate ``template``'s settings over a grid of ``C``.

    Returns
    -------
    model : SoftmaxRegression
        The final model, fitted on all of ``X`` at the chosen ``C``.
    search : SoftmaxRegressionCV
        The search, for its pictures.
    line : str
        One line for the report.
    """
    from ..selection.cv import SoftmaxRegressionCV  # deferred: only --cv needs it

    text = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if text:
        raise SoftmaxInputError(
            f"--cv takes numeric columns only; {', '.join(text)} hold text or categories "
            "(leave them out with --drop)."
        )
    params = template.get_params()
    l1_ratio = params["l1_ratio"]
    search = SoftmaxRegressionCV(
        cs, l1_ratios=None if l1_ratio == 0 else [l1_ratio], grouped=params["grouped"],
        cv=folds, rule=rule, random_state=seed, standardize=params["standardize"],
        solver=params["solver"], max_iter=params["max_iter"], tol=params["tol"],
        class_weight=params["class_weight"],
    )  # fmt: skip
    search.fit(X, y, sample_weight=sample_weight)
    model = search.best_estimator_
    score = -float(search.best_score_)
    line = (
        f"cross-validation: C = {search.C_:.4g} ({rule} rule) from {len(search.Cs_.ravel())} "
        f"values, {folds} folds; mean held-out log-loss there {score:.4f}"
    )
    return model, search, line


def cv_plots(folder: pathlib.Path, search) -> list[pathlib.Path]:
    """The CV curve and the coefficient path, as PNG files in ``folder``."""
    from ..plotting import plot_coef_path, plot_cv_curve

    curve, path = folder / "cv_curve.png", folder / "coef_path.png"
    plot_cv_curve(search, path=curve)
    plot_coef_path(search, path=path)
    return [curve, path]
