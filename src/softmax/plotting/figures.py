"""Pictures of softmax and of softmax regression models (matplotlib).

Every function draws one :class:`matplotlib.figure.Figure`, returns it, and
writes it to ``path`` when one is given (the format follows the suffix:
``.png``, ``.svg``, ``.pdf``). Figures are bare ``Figure`` objects on the Agg
canvas: no pyplot, so no global state, no display needed, nothing left open
in a user's session; Jupyter shows a returned figure as usual. Matplotlib is
imported only when a function here is called. Softmax itself:
:func:`plot_explain`, :func:`plot_beta_sweep`; training: :func:`plot_training`,
:func:`plot_confusion_matrix`; the model: :func:`plot_decision_regions`,
:func:`plot_weights` ("templates"); calibration: :mod:`.reliability`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .base import PathLike
from .base import colours as _colours
from .base import figure as _figure
from .base import finish as _finish
from ..explain import compare, format_probability
from ..functions import softmax

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..estimator import SoftmaxRegression

__all__ = [
    "image_shape",
    "plot_beta_sweep",
    "plot_confusion_matrix",
    "plot_decision_regions",
    "plot_explain",
    "plot_training",
    "plot_weights",
]

_PIXEL_NAME = re.compile(r"pixel_(\d+)_(\d+)")  # the bundled digits and read_idx
_NUMBERED_NAME = re.compile(r"(\D*)(\d+)")  # "pixel0" ... "pixel783", as in Kaggle's MNIST CSV
_MIN_IMAGE_SIDE = 8  # unnamed features make an image only from 8 x 8 up


# -- softmax itself ------------------------------------------------------------------


def plot_explain(
    scores: ArrayLike, beta: float = 1.0, *, path: PathLike | None = None, dpi: int = 120
) -> Figure:
    """The founding article's comparison as a grouped bar chart.

    For each score, three bars: hard-max, sum-normalisation (left out where
    the scores sum to zero) and softmax with inverse temperature `beta`,
    each labelled with its value as :func:`softmax.explain.format_probability`
    prints it.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Two or more finite scores, e.g. ``[3, 7, 14]``.
    beta : float, default=1.0
    path : str or path-like, optional
        Also write the figure here.
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_explain([3, 7, 14])  # path="explain.png" also writes it
    """
    c = compare(scores, beta=beta)
    # One colour per method, the same whether or not sum-normalisation is drawn.
    methods = [
        (name, values, colour)
        for name, values, colour in zip(
            ("hard-max", "sum-normalisation", f"softmax (beta={c.beta:g})"),
            (c.hardmax, c.normalized, c.softmax),
            _colours(3),
        )
        if values is not None
    ]
    fig = _figure(max(6.0, 1.6 * len(c.scores) + 2), 4.5)
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    x = np.arange(len(c.scores))
    for m, (name, values, colour) in enumerate(methods):
        bars = ax.bar(x + (m - (len(methods) - 1) / 2) * width, values, width, label=name,
                      color=colour)
        ax.bar_label(bars, [format_probability(v) for v in values], fontsize="small", padding=2)
    if c.normalized is None:
        ax.text(0.99, 0.98, "sum-normalisation: undefined\n(the scores sum to 0)",
                transform=ax.transAxes, ha="right", va="top", fontsize="small")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [f"{s:g}" for s in c.scores])
    ax.set_xlabel("score")
    ax.set_ylabel("share of the total")
    ax.set_title("Scores " + ", ".join(f"{s:g}" for s in c.scores) + " as probabilities")
    ax.legend(loc="upper left")
    ax.margins(y=0.15)  # room for the labels above the tallest bars
    return _finish(fig, path, dpi)


def plot_beta_sweep(
    scores: ArrayLike,
    betas: ArrayLike | None = None,
    *,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """Softmax of the same scores as the inverse temperature beta varies.

    At ``beta`` near 0 every score gets the same share; as ``beta`` grows
    the largest score takes everything (hard-max). ``beta = 1`` is marked.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Two or more finite scores.
    betas : array-like of shape (m,), optional
        Positive values to draw, on a log axis. By default 200 values from
        where softmax is nearly uniform (``beta * spread = 0.01``) to where it
        is nearly hard-max (``beta * spread = 100``), and at least 0.1 to 10.
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_beta_sweep([3, 7, 14], betas=np.geomspace(0.01, 100, 50))
    """
    z = compare(scores).scores  # the same checks as `softmax explain`
    spread = float(np.ptp(z)) or 1.0
    if betas is None:
        betas = np.geomspace(min(0.01 / spread, 0.1), max(100 / spread, 10.0), 200)
    b = np.asarray(betas, dtype=np.float64).ravel()
    if b.size == 0 or not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError("betas must be positive finite numbers.")
    b = np.sort(b)
    p = softmax(b[:, None] * z[None, :], axis=1)  # (m, n)
    fig = _figure(7.0, 4.5)
    ax = fig.add_subplot()
    for i, colour in zip(range(len(z)), _colours(len(z))):
        ax.plot(b, p[:, i], color=colour, label=f"score {z[i]:g}")
    if b[0] <= 1.0 <= b[-1]:
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
        ax.annotate("beta = 1", (1.0, 1.0), xytext=(3, -12), textcoords="offset points",
                    color="grey", fontsize="small")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("beta (inverse temperature); temperature = 1 / beta")
    ax.set_ylabel("softmax probability")
    ax.set_title("softmax(beta * z): uniform at small beta, hard-max at large beta")
    ax.legend(loc="center left")
    ax.grid(alpha=0.3)
    return _finish(fig, path, dpi)


# -- training ------------------------------------------------------------------------


def plot_training(
    objective: ArrayLike | SoftmaxRegression,
    gradient_max: ArrayLike | None = None,
    *,
    tol: float | None = None,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """Objective and largest gradient entry per solver iteration.

    Parameters
    ----------
    objective : array-like of shape (n_iter + 1,) or SoftmaxRegression
        The mean objective at the start and after each iteration, e.g. a
        fitted model's ``objective_history_`` (or the model itself, whose
        ``tol`` is then used as `tol` by default).
    gradient_max : array-like of shape (n_iter + 1,) or (n_iter,), optional
        ``max |gradient|`` at the start and after each iteration, as a
        ``callback`` receives it (the last values are matched with the last
        iterations, so a record without the start works too; see the example).
    tol : float, optional
        Drawn as the stopping threshold on the gradient panel.
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> grads = []
    >>> model = SoftmaxRegression(callback=lambda info: grads.append(info.gradient_max))
    >>> fig = plot_training(model.fit(np.eye(4), [0, 1, 2, 3]), grads)
    """
    if hasattr(objective, "objective_history_"):
        tol = objective.tol if tol is None else tol
        objective = objective.objective_history_
    history = np.asarray(objective, dtype=np.float64).ravel()
    if history.size == 0:
        raise ValueError("objective history is empty; fit the model first.")
    panels = 1 if gradient_max is None else 2
    fig = _figure(5.5 * panels, 4.0)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    axes[0].plot(np.arange(history.size), history, marker="." if history.size < 50 else None)
    if np.all(history > 0):
        axes[0].set_yscale("log")  # the first iterations would hide the rest on a linear axis
    axes[0].set_title(f"objective (final {history[-1]:.6g})")
    axes[0].set_xlabel("iteration")
    axes[0].set_ylabel("mean loss + penalty")
    if gradient_max is not None:
        g = np.asarray(gradient_max, dtype=np.float64).ravel()
        ax = axes[1]
        steps = np.arange(history.size - g.size, history.size)
        positive = g > 0  # a log axis cannot show an exact zero
        ax.plot(steps[positive], g[positive], color="tab:red")
        if tol is not None and tol > 0:
            ax.axhline(tol, color="grey", linestyle="--", linewidth=0.8, label=f"tol = {tol:g}")
            ax.legend()
        ax.set_yscale("log")
        ax.set_title("largest gradient entry" + (f" (final {g[-1]:.2e})" if g.size else ""))
        ax.set_xlabel("iteration")
        ax.set_ylabel("max |gradient|")
    for ax in axes:
        ax.grid(alpha=0.3)
    return _finish(fig, path, dpi)


def plot_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """Counts of true (rows) against predicted (columns) classes.

    Cells are shaded by the share of their row (the recall on the diagonal)
    and show their count when there are at most 25 classes.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), optional
        Row and column order; by default the sorted union of both.
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_confusion_matrix(["cat", "dog", "dog"], ["cat", "dog", "cat"])
    """
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    k = len(labels)
    side = min(max(4.5, 0.5 * k + 2.5), 14.0)
    fig = _figure(side + 1, side)
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    if k <= 25:
        for (i, j), n in np.ndenumerate(counts):
            ax.text(j, i, str(n), ha="center", va="center", fontsize="small",
                    color="white" if share[i, j] > 0.5 else "black")
    names = [str(v) for v in labels]
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"Confusion matrix ({counts.sum()} samples, accuracy {accuracy:.3f})")
    return _finish(fig, path, dpi)


# -- the model -------------------------------------------------------------------------


def plot_decision_regions(
    model: SoftmaxRegression,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    resolution: int = 200,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """The class a 2-feature model predicts at each point of the plane.

    Each region is shaded in its class's colour, paler where the model is
    less sure (the largest probability nearer ``1 / n_classes``); black
    lines are the decision boundaries; the samples in `X` are drawn on top,
    coloured by their label in `y`.

    Parameters
    ----------
    model : SoftmaxRegression
        Fitted on exactly two features.
    X : array-like of shape (n_samples, 2)
        Samples to draw; they also set the plotted range (plus a margin).
    y : array-like of shape (n_samples,), optional
        Their labels, among ``model.classes_``.
    resolution : int, default=200
        Grid points along each axis.
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> fig = plot_decision_regions(SoftmaxRegression().fit(np.eye(2), [0, 1]), np.eye(2))
    """
    names = getattr(model, "feature_names_in_", None)
    if model.n_features_in_ != 2:
        raise ValueError(
            f"Decision regions need a model of 2 features; this one has {model.n_features_in_}."
        )
    points = np.asarray(X, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"X must have shape (n_samples, 2), not {points.shape}.")
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.08 * np.where(high > low, high - low, 1.0)
    u = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    v = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    uu, vv = np.meshgrid(u, v)
    grid: Any = np.column_stack([uu.ravel(), vv.ravel()])
    if names is not None:
        import pandas as pd  # the model was fitted on named columns; keep scikit-learn quiet

        grid = pd.DataFrame(grid, columns=names)
    p = model.predict_proba(grid)  # (resolution**2, k)
    k = p.shape[1]
    winner = p.argmax(axis=1)
    # Shade from pale (a near tie) to strong (certain): white blended with the class colour.
    sure = (p.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    colours = np.asarray(_colours(k))
    alpha = (0.15 + 0.5 * sure)[:, None]
    rgb = (1 - alpha) + alpha * colours[winner]
    fig = _figure(7.0, 6.0)
    ax = fig.add_subplot()
    ax.imshow(rgb.reshape(resolution, resolution, 3), origin="lower", aspect="auto",
              extent=(u[0], u[-1], v[0], v[-1]), interpolation="nearest")
    for c in range(k):
        # Class c's boundary: where its probability ties with the best of the others.
        others = np.delete(p, c, axis=1).max(axis=1)
        margin = (p[:, c] - others).reshape(resolution, resolution)
        if margin.min() < 0 < margin.max():
            ax.contour(uu, vv, margin, levels=[0.0], colors="black", linewidths=0.9)
    if y is not None:
        labels = np.asarray(y).ravel()
        for c, (label, colour) in enumerate(zip(model.classes_, colours)):
            mine = labels == label
            ax.scatter(points[mine, 0], points[mine, 1], color=colour, edgecolor="black",
                       linewidth=0.5, s=22, label=str(label))
        ax.legend(title="class", loc="best", fontsize="small")
    else:
        ax.scatter(points[:, 0], points[:, 1], color="black", s=8)
    axis_names = [str(n) for n in names] if names is not None else ["feature 0", "feature 1"]
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title("Decision regions (paler: less certain)")
    return _finish(fig, path, dpi)


def image_shape(
    n_features: int, feature_names: Sequence[str] | None = None
) -> tuple[int, int] | None:
    """The (rows, columns) of images whose pixels are the features, if they are.

    Pixel names ``pixel_<row>_<column>`` in row-major order (the bundled
    digits and mnist, :func:`softmax.datasets.read_idx`) give their grid;
    names that number one prefix from 0 or 1 (``pixel0`` ... ``pixel783``),
    or no names, give a square when `n_features` is a square of at least
    8 x 8. Anything else is not an image.

    Returns
    -------
    tuple of int or None

    Examples
    --------
    >>> image_shape(64), image_shape(784, [f"pixel{i}" for i in range(784)]), image_shape(13)
    ((8, 8), (28, 28), None)
    """
    if feature_names is not None:
        names = [str(n) for n in feature_names]
        if len(names) != n_features:
            return None
        found = [_PIXEL_NAME.fullmatch(n) for n in names]
        if all(found) and found:
            rows = 1 + max(int(m[1]) for m in found)  # type: ignore[index]
            cols = 1 + max(int(m[2]) for m in found)  # type: ignore[index]
            row_major = [f"pixel_{r}_{c}" for r in range(rows) for c in range(cols)]
            return (rows, cols) if names == row_major else None
        numbered = [_NUMBERED_NAME.fullmatch(n) for n in names]
        if not all(numbered) or len({m[1] for m in numbered}) != 1:  # type: ignore[index]
            return None
        first = int(numbered[0][2])  # type: ignore[index]
        if first not in (0, 1) or [int(m[2]) for m in numbered] != list(  # type: ignore[index]
            range(first, first + n_features)
        ):
            return None
    side = math.isqrt(n_features)
    return (side, side) if side * side == n_features and side >= _MIN_IMAGE_SIDE else None


def plot_weights(
    model: SoftmaxRegression,
    *,
    shape: tuple[int, int] | None = None,
    columns: int | None = None,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """Each class's weight vector ``coef_[k]`` drawn as an image.

    A softmax classifier scores an image by the dot product of its pixels
    with one weight image per class, so these are the "templates" it
    matches: red pixels raise the class's score where the image is bright,
    blue ones lower it. All panels share one colour scale, symmetric about 0.

    Parameters
    ----------
    model : SoftmaxRegression
        Fitted on image pixels (``rows * columns`` features).
    shape : (int, int), optional
        (rows, columns) of the images; by default from :func:`image_shape`.
    columns : int, optional
        Panels per row; by default up to 5.
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the features do not form images of `shape` (or of any shape, when
        it is not given).

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> fig = plot_weights(SoftmaxRegression().fit(np.eye(64), np.arange(64) % 4))
    """
    coef = np.asarray(model.coef_, dtype=np.float64)
    k, d = coef.shape
    if shape is None:
        shape = image_shape(d, getattr(model, "feature_names_in_", None))
        if shape is None:
            raise ValueError(
                f"The model's {d} features do not look like image pixels; pass shape=(rows, "
                "columns)."
            )
    if shape[0] * shape[1] != d:
        raise ValueError(f"Images of shape {shape} have {shape[0] * shape[1]} pixels, not {d}.")
    columns = columns or min(k, 5)
    rows = math.ceil(k / columns)
    fig = _figure(1.9 * columns + 1.2, 2.0 * rows + 0.6)
    axes = fig.subplots(rows, columns, squeeze=False)
    scale = float(np.abs(coef).max()) or 1.0
    image = None
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < k:
            image = ax.imshow(coef[i].reshape(shape), cmap="RdBu_r", vmin=-scale, vmax=scale,
                              interpolation="nearest")
            ax.set_title(str(model.classes_[i]))
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    fig.suptitle("Weights per class (red: bright pixel raises the score; blue: lowers it)")
    return _finish(fig, path, dpi)
