"""The one metrics printer, for ``fit``, ``evaluate`` and the streamed ``fit``.

Everything reported is derived from a confusion matrix, which both a fit in
memory (:meth:`Metrics.of`) and a streamed fit
(:class:`softmax.io.streaming.Scores`) have; accuracy and log-loss come from
whoever computed the predictions. :func:`write_metrics` prints them in the
command's ``--format``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rich.table import Table
from rich.text import Text

from ..estimator import SoftmaxRegression
from .options import Format
from .output import Output

__all__ = ["PER_CLASS_COLUMNS", "Metrics", "write_metrics"]

#: The columns of the per-class table, in CSV and in JSON's ``per_class`` records.
PER_CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support")


@dataclass(frozen=True)
class Metrics:
    """Scores of predictions against labels.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
    confusion : ndarray of shape (n_classes, n_classes)
        Counts of true class (rows) against predicted class (columns).
    accuracy, log_loss : float
    """

    classes: NDArray
    confusion: NDArray
    accuracy: float
    log_loss: float

    @classmethod
    def of(cls, model: SoftmaxRegression, X: pd.DataFrame | NDArray, y: NDArray) -> Metrics:
        """Score `model` on rows in memory, with scikit-learn."""
        from sklearn import metrics  # deferred: only fit and evaluate need it

        predicted = model.predict(X)
        return cls(
            model.classes_,
            metrics.confusion_matrix(y, predicted, labels=model.classes_),
            accuracy=float(metrics.accuracy_score(y, predicted)),
            log_loss=float(metrics.log_loss(y, model.predict_proba(X), labels=model.classes_)),
        )

    def summary(self) -> dict[str, float]:
        """``{"accuracy": ..., "log_loss": ...}``, for the model file and JSON."""
        return {"accuracy": float(self.accuracy), "log_loss": float(self.log_loss)}

    def per_class(self) -> list[tuple[Any, float, float, float, int]]:
        """(class, precision, recall, F1, support) for each class."""
        confusion = self.confusion
        hits, predicted, support = np.diag(confusion), confusion.sum(axis=0), confusion.sum(axis=1)
        # A class never predicted (or absent) scores 0, as scikit-learn's zero_division=0;
        # F1 as 2 tp / (true + predicted), scikit-learn's formula, so the digits agree.
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.nan_to_num(hits / predicted)
            recall = np.nan_to_num(hits / support)
            f1 = np.nan_to_num(2 * hits / (support + predicted))
        return [
            (label, float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
            for i, label in enumerate(self.classes)
        ]

    def document(self) -> dict[str, Any]:
        """``metrics``, ``per_class`` (records) and ``confusion_matrix``, for JSON."""
        return {
            "metrics": self.summary(),
            "per_class": [dict(zip(PER_CLASS_COLUMNS, row)) for row in self.per_class()],
            "confusion_matrix": {
                "classes": self.classes,  # rows: true class, columns: predicted class
                "counts": self.confusion,
            },
        }


def write_metrics(
    out: Output,
    metrics: Metrics,
    *,
    title: str,
    lines: Sequence[str] = (),
    context: Mapping[str, Any],
    model: Mapping[str, Any] | None = None,
) -> None:
    """Print `metrics` on stdout in ``out.format``.

    Parameters
    ----------
    out : Output
    metrics : Metrics
    title : str
        What was scored: the text report's heading.
    lines : sequence of str
        Further lines of the text report, under the title.
    context : mapping
        What was scored, in fields (data, rows): the first keys of the JSON
        document, before :meth:`Metrics.document`'s.
    model : mapping, optional
        The JSON document's ``model`` (see :func:`.output.model_document`).
    """
    if out.format is Format.json:
        out.json({**context, **metrics.document(), **({} if model is None else {"model": model})})
    elif out.format is Format.csv:
        out.csv(PER_CLASS_COLUMNS, metrics.per_class())
    else:
        out.text(Text(title, style="bold"), *lines, *_tables(metrics))


def _tables(metrics: Metrics) -> list[Table]:
    """Accuracy and log-loss, the per-class scores and the confusion matrix, as text tables."""
    labels = [str(c) for c in metrics.classes]
    summary = Table(show_header=False)
    summary.add_row("accuracy", f"{metrics.accuracy:.4f}")
    summary.add_row("log-loss", f"{metrics.log_loss:.4f}")
    per_class = Table("class", "precision", "recall", "F1", "support", title="Per class")
    for label, precision, recall, f1, support in metrics.per_class():
        per_class.add_row(str(label), *(f"{v:.3f}" for v in (precision, recall, f1)), str(support))
    matrix = Table(
        "true \\ predicted", *labels, title="Confusion matrix (rows: true, columns: predicted)"
    )
    for label, row in zip(labels, metrics.confusion):
        matrix.add_row(label, *map(str, row))
    return [summary, per_class, matrix]
