"""Pictures of a :class:`~softmax.SoftmaxRegressionCV`: the cross-validation curve and the
coefficient path (public in :mod:`softmax.plotting`).

Both draw on a given matplotlib ``Axes`` (to compose them with other plots)
or on a new bare figure, and return the ``Axes``; ``path`` writes the figure.
They read only the fitted attributes (``cv_results_``, ``rule_indices_``,
``coef_path_``, ...); :mod:`softmax.selection` is imported for the type only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import PathLike, colours, figure, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..selection.cv import SoftmaxRegressionCV

__all__ = ["plot_coef_path", "plot_cv_curve"]

#: How each rule's choice is marked on the curve: marker and words.
_RULE_MARKS = {
    "min": ("o", "best mean (min)"),
    "1se": ("D", "within 1 SE, strongest penalty (1se)"),
}


def _axes(ax: Axes | None, width: float, height: float) -> Axes:
    return figure(width, height).add_subplot() if ax is None else ax


def _fitted(model, *names: str) -> None:
    missing = [name for name in names if not hasattr(model, name)]
    if missing:
        raise ValueError(
            f"this picture needs a fitted SoftmaxRegressionCV with {', '.join(missing)}"
            + (" (fit it with refit=True)" if "coef_path_" in missing else "")
        )


def plot_cv_curve(
    model: SoftmaxRegressionCV, ax: Axes | None = None, *, path: PathLike | None = None,
    dpi: int = 120,
) -> Axes:  # fmt: skip
    """Mean validation score against ``C`` (log axis), error bars one standard error.

    One curve per ``l1_ratio``; the candidates that the ``"min"`` and
    ``"1se"`` rules pick are marked, the chosen one (``best_index_``) with a
    vertical line, as glmnet's ``plot.cv.glmnet``.

    Parameters
    ----------
    model : SoftmaxRegressionCV
        Fitted.
    ax : matplotlib.axes.Axes, optional
        Draw here; by default on a new figure.
    path : str or path-like, optional
        Also write the figure here.
    dpi : int, default=120

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegressionCV
    >>> from softmax.plotting import plot_cv_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegressionCV(Cs=5, cv=3, standardize=True, random_state=0).fit(X, y)
    >>> plot_cv_curve(model).get_xscale()
    'log'
    """
    _fitted(model, "cv_results_", "rule_indices_")
    results = model.cv_results_
    ax = _axes(ax, 6.5, 4.5)
    C = np.asarray(results["param_C"], dtype=np.float64)
    ratio = np.asarray(results["param_l1_ratio"], dtype=np.float64)
    mean, se = results["mean_test_score"], results["se_test_score"]
    ratios = model.l1_ratios_
    for r, colour in zip(ratios, colours(len(ratios))):
        rows = ratio == r
        label = f"l1_ratio={r:g}" if len(ratios) > 1 else "mean over folds ± 1 SE"
        ax.errorbar(C[rows], mean[rows], yerr=se[rows], color=colour, marker=".",
                    capsize=2, linewidth=1.2, label=label)
    for rule, index in model.rule_indices_.items():
        marker, words = _RULE_MARKS[rule]
        ax.plot(C[index], mean[index], marker=marker, markersize=9, linestyle="none",
                markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5,
                label=f"{words}: C={C[index]:.3g}")
    ax.axvline(model.C_, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("C (inverse penalty; the penalty weakens to the right)")
    scoring = model.scoring if isinstance(model.scoring, str) else (
        "neg_log_loss" if model.scoring is None else "score"
    )  # fmt: skip
    ax.set_ylabel(f"mean validation {scoring}")
    ax.set_title(f"Cross-validation, {model.n_splits_} folds (rule {model.rule!r})")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    finish(ax.figure, path, dpi)
    return ax


def plot_coef_path(
    model: SoftmaxRegressionCV, ax: Axes | None = None, *, l1_ratio: float | None = None,
    kind: str | None = None, path: PathLike | None = None, dpi: int = 120,
) -> Axes:  # fmt: skip
    """Coefficients against ``C`` (log axis), along the path fitted on all the data.

    Parameters
    ----------
    model : SoftmaxRegressionCV
        Fitted with ``refit=True`` (``coef_path_``).
    ax : matplotlib.axes.Axes, optional
        Draw here; by default on a new figure.
    l1_ratio : float, optional
        Which path (one of ``l1_ratios_``); by default the chosen ``l1_ratio_``.
    kind : {"classes", "norm"}, optional
        ``"classes"``: one line per class and feature, coloured by class.
        ``"norm"``: one line per feature, the norm of its coefficients across
        the classes, the quantity the grouped penalty acts on. By default
        ``"norm"`` when ``model.grouped``, else ``"classes"``.
    path : str or path-like, optional
        Also write the figure here.
    dpi : int, default=120

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a model without ``coef_path_``, an ``l1_ratio`` not tried, or an
        unknown ``kind``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegressionCV
    >>> from softmax.plotting import plot_coef_path
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegressionCV(Cs=5, cv=3, l1_ratios=[1.0], standardize=True,
    ...                             random_state=0).fit(X, y)
    >>> len(plot_coef_path(model).get_lines())  # 3 classes x 4 features, y = 0 and C_
    14
    """
    _fitted(model, "coef_path_", "Cs_", "l1_ratios_", "C_")
    kind = kind if kind is not None else ("norm" if model.grouped else "classes")
    if kind not in ("classes", "norm"):
        raise ValueError(f"kind must be 'classes' or 'norm', not {kind!r}")
    chosen = model.l1_ratio_ if l1_ratio is None else l1_ratio
    found = np.flatnonzero(np.isclose(model.l1_ratios_, chosen))
    if len(found) == 0:
        raise ValueError(f"l1_ratio={chosen} was not tried; l1_ratios_ = {model.l1_ratios_}")
    i = found[0]
    Cs, coef = model.Cs_[i], model.coef_path_[i]  # (n_Cs,), (n_Cs, n_classes, n_features)
    ax = _axes(ax, 6.5, 4.5)
    if kind == "norm":
        norms = np.linalg.norm(coef, axis=1)  # (n_Cs, n_features)
        for j, colour in zip(range(norms.shape[1]), colours(norms.shape[1])):
            ax.plot(Cs, norms[:, j], color=colour, linewidth=1.0)
        ax.set_ylabel("norm of a feature's coefficients over the classes")
    else:
        for k, (label, colour) in enumerate(zip(model.classes_, colours(coef.shape[1]))):
            lines = ax.plot(Cs, coef[:, k, :], color=colour, linewidth=0.8, alpha=0.8)
            lines[0].set_label(f"class {label}")
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_ylabel("coefficient (original feature units)")
        ax.legend(loc="best", fontsize="small", ncols=2 if coef.shape[1] > 5 else 1)
    ax.axvline(model.C_, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("C (inverse penalty; the penalty weakens to the right)")
    ax.set_title(f"Coefficient path, l1_ratio={model.l1_ratios_[i]:g} (dashed: chosen C)")
    ax.grid(alpha=0.3)
    finish(ax.figure, path, dpi)
    return ax
