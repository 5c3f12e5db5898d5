"""Calibration pictures and numbers: the reliability diagram and the expected
calibration error of the top-label confidence (public in :mod:`softmax.plotting`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .base import PathLike, colours, figure, finish

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["expected_calibration_error", "plot_reliability"]


def _top_label_bins(
    y_true: ArrayLike, proba: ArrayLike, classes: ArrayLike | None, n_bins: int
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Per-sample (confidence, correct) and per-bin (count, bin index) of each sample."""
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true).ravel()
    if p.ndim != 2 or len(p) != len(y) or len(y) == 0:
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) with n_samples={len(y)} > 0, "
            f"not {p.shape}."
        )
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if len(classes) != p.shape[1]:
        raise ValueError(
            f"proba has {p.shape[1]} columns but there are {len(classes)} classes; pass "
            "classes= (for example model.classes_) to say which column is which class."
        )
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, not {n_bins}.")
    confidence = p.max(axis=1)
    correct = classes[p.argmax(axis=1)] == y
    # Equal-width bins over [0, 1]; a confidence of exactly 1 goes in the last.
    which = np.minimum((confidence * n_bins).astype(np.intp), n_bins - 1)
    return confidence, correct, np.bincount(which, minlength=n_bins), which


def expected_calibration_error(
    y_true: ArrayLike, proba: ArrayLike, *, classes: ArrayLike | None = None, n_bins: int = 10
) -> float:
    """Expected calibration error of the top-label confidence.

    ``sum_b n_b / n * |accuracy_b - mean confidence_b|`` over ``n_bins``
    equal-width bins of the largest probability of each sample.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes)
        Probabilities, columns in the order of `classes`.
    classes : array-like of shape (n_classes,), optional
        The class of each column; by default the sorted labels of `y_true`
        (give ``model.classes_`` when a class may be absent from `y_true`).
    n_bins : int, default=10

    Returns
    -------
    float
        0 for perfect calibration; at most 1.

    Examples
    --------
    >>> y = np.array([0, 1, 1, 0])
    >>> proba = [[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.8, 0.2]]  # 85% sure, always right
    >>> round(expected_calibration_error(y, proba), 3)
    0.15
    >>> expected_calibration_error(y, [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    0.0
    """
    confidence, correct, counts, which = _top_label_bins(y_true, proba, classes, n_bins)
    gap = np.bincount(which, weights=correct - confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / counts.sum())


def plot_reliability(
    y_true: ArrayLike,
    proba: ArrayLike | Mapping[str, ArrayLike],
    *,
    classes: ArrayLike | None = None,
    n_bins: int = 10,
    path: PathLike | None = None,
    dpi: int = 120,
) -> Figure:
    """Reliability (calibration) diagram of the top-label confidence.

    Top: for each of `n_bins` equal-width bins of the largest predicted
    probability, the accuracy against the mean confidence; a calibrated
    model lies on the diagonal, an over-confident one below it. Bottom: how
    many samples fall in each bin. The legend gives each curve's
    :func:`expected_calibration_error`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes), or a mapping of them
        Predicted probabilities; a mapping ``{"before": p0, "after": p1}``
        draws one curve per entry (e.g. before and after
        :meth:`~softmax.SoftmaxRegression.calibrate`).
    classes : array-like of shape (n_classes,), optional
        The class of each column (``model.classes_``); by default the sorted
        labels of `y_true`.
    n_bins : int, default=10
    path : str or path-like, optional
    dpi : int, default=120

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression(C=0.01).fit(X, y)  # a strong penalty: under-confident
    >>> fig = plot_reliability(y, {"C=0.01": model.predict_proba(X)}, classes=model.classes_)
    """
    series = dict(proba) if isinstance(proba, Mapping) else {"model": proba}
    fig = figure(6.0, 7.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8,
             label="perfectly calibrated")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for (name, p), colour in zip(series.items(), colours(len(series))):
        confidence, correct, counts, which = _top_label_bins(y_true, p, classes, n_bins)
        used = counts > 0
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins)[used] / counts[used]
        accuracy = np.bincount(which, weights=correct, minlength=n_bins)[used] / counts[used]
        ece = expected_calibration_error(y_true, p, classes=classes, n_bins=n_bins)
        top.plot(mean_conf, accuracy, color=colour, label=f"{name} (ECE {ece:.3f})")
        # Marker area follows the bin's share of the samples: small bins are noisy.
        top.scatter(mean_conf, accuracy, s=12 + 150 * counts[used] / counts.sum(), color=colour,
                    zorder=3)
        bottom.stairs(counts, edges, color=colour, linewidth=1.2)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.02)
    top.set_ylabel("accuracy")
    top.set_title(f"Reliability diagram ({len(np.asarray(y_true).ravel())} samples)")
    top.legend(loc="lower right")
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence (largest predicted probability)")
    bottom.set_ylabel("samples")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return finish(fig, path, dpi)
