"""The one metrics printer, for ``fit``, ``evaluate`` and the streamed ``fit``.

Everything printed is derived from a confusion matrix, which both a fit in
memory (:func:`report_metrics`) and a streamed fit
(:class:`softmax.io.streaming.Scores`) have; accuracy and log-loss come from
whoever computed the predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from rich.table import Table

from ..estimator import SoftmaxRegression
from .app import console

__all__ = ["print_metrics", "report_metrics"]


def print_metrics(
    title: str, classes: ArrayLike, confusion: NDArray, *, accuracy: float, log_loss: float
) -> dict[str, float]:
    """Print accuracy, log-loss, per-class scores and the confusion matrix.

    Parameters
    ----------
    title : str
        What was scored, printed in bold above the tables.
    classes : array-like of shape (n_classes,)
    confusion : ndarray of shape (n_classes, n_classes)
        Counts of true class (rows) against predicted class (columns).
    accuracy, log_loss : float

    Returns
    -------
    dict
        ``{"accuracy": ..., "log_loss": ...}``, for the model file.
    """
    labels = [str(c) for c in classes]
    console.print(title, style="bold")
    summary = Table(show_header=False)
    summary.add_row("accuracy", f"{accuracy:.4f}")
    summary.add_row("log-loss", f"{log_loss:.4f}")
    console.print(summary)

    hits, predicted, support = np.diag(confusion), confusion.sum(axis=0), confusion.sum(axis=1)
    # A class never predicted (or absent) scores 0, as scikit-learn's zero_division=0;
    # F1 as 2 tp / (true + predicted), scikit-learn's formula, so the digits agree.
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(hits / predicted)
        recall = np.nan_to_num(hits / support)
        f1 = np.nan_to_num(2 * hits / (support + predicted))
    per_class = Table("class", "precision", "recall", "F1", "support", title="Per class")
    for i, label in enumerate(labels):
        scores = (precision[i], recall[i], f1[i])
        per_class.add_row(label, *(f"{v:.3f}" for v in scores), str(int(support[i])))
    console.print(per_class)

    matrix = Table(
        "true \\ predicted", *labels, title="Confusion matrix (rows: true, columns: predicted)"
    )
    for label, row in zip(labels, confusion):
        matrix.add_row(label, *map(str, row))
    console.print(matrix)
    return {"accuracy": float(accuracy), "log_loss": float(log_loss)}


def report_metrics(
    model: SoftmaxRegression, X: pd.DataFrame | NDArray, y: NDArray, title: str
) -> dict[str, float]:
    """Score `model` on rows in memory with scikit-learn, and print as :func:`print_metrics`."""
    from sklearn import metrics  # deferred: only fit and evaluate need it

    predicted = model.predict(X)
    return print_metrics(
        title,
        model.classes_,
        metrics.confusion_matrix(y, predicted, labels=model.classes_),
        accuracy=metrics.accuracy_score(y, predicted),
        log_loss=metrics.log_loss(y, model.predict_proba(X), labels=model.classes_),
    )
