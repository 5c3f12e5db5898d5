"""``softmax fit DATA --solver sgd`` and chunked ``softmax predict``: the CLI's glue to
:mod:`softmax.io.streaming` (printing and saving only; the work is done there)."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .._errors import SoftmaxInputError
from ..io.streaming import Scores, atomic_text, fit_file, open_table, predict_file

__all__ = ["STREAM_PREDICT_BYTES", "cli_fit", "cli_predict", "print_scores", "should_stream"]


def print_scores(console, scores: Scores, title: str) -> dict[str, float]:
    """Print accuracy, log-loss, per-class scores and the confusion matrix; return the first two."""
    from rich.table import Table as RichTable

    labels = [str(c) for c in scores.classes]
    summary = RichTable(show_header=False)
    summary.add_row("accuracy", f"{scores.accuracy:.4f}")
    summary.add_row("log-loss", f"{scores.log_loss:.4f}")
    console.print(title, style="bold")
    console.print(summary)
    m = scores.confusion
    per_class = RichTable("class", "precision", "recall", "F1", "support", title="Per class")
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(np.diag(m) / m.sum(axis=0))
        recall = np.nan_to_num(np.diag(m) / m.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    for i, label in enumerate(labels):
        per_class.add_row(label, f"{precision[i]:.3f}", f"{recall[i]:.3f}", f"{f1[i]:.3f}",
                          str(int(m[i].sum())))  # fmt: skip
    console.print(per_class)
    confusion = RichTable(
        "true \\ predicted", *labels, title="Confusion matrix (rows: true, columns: predicted)"
    )
    for label, row in zip(labels, m):
        confusion.add_row(label, *map(str, row))
    console.print(confusion)
    return {"accuracy": scores.accuracy, "log_loss": scores.log_loss}


#: ``softmax predict`` streams DATA files larger than this even without --batch-size.
STREAM_PREDICT_BYTES = 256 << 20


def cli_fit(console, data: str, *, target, classes, output, plot, test_size, seed, **options):
    """``softmax fit DATA --solver sgd``: stream, report, save; see :func:`fit_file`."""
    if plot is not None:
        raise SoftmaxInputError("--plot needs the data in memory; it is not available when "
                                "streaming DATA with --solver sgd.")  # fmt: skip
    labels = None if classes is None else classes.split(",")
    # Progress bars on a terminal only: in a log they would be noise.
    model, scores, summary = fit_file(
        data, target, classes=labels, test_size=test_size, seed=seed,
        progress=sys.stderr.isatty(), **options,
    )  # fmt: skip
    where = (
        f"the held-out rows ({scores.n} rows, about {test_size:.0%})"
        if test_size > 0
        else f"the training data ({scores.n} rows; --test-size 0 leaves no held-out part)"
    )
    metrics = print_scores(console, scores, f"{data}: metrics on {where}")
    console.print(
        f"trained on {summary['n_train']} rows x {summary['epochs']} epoch(s) in "
        f"{summary['train_seconds']:.1f} s ({summary.get('rows_per_second', 0):,.0f} rows/s)"
    )
    if output is not None:
        extra = {
            "dataset": data,
            "target": target or open_table(data).columns[-1],
            "test_size": test_size,
            "seed": seed,
            "streamed": True,
            **summary,
            "metrics": metrics,
        }
        console.print(f"model saved to {model.save(output, extra=extra)}")


def should_stream(data: str, batch_size: int | None) -> bool:
    """Whether ``softmax predict`` streams DATA: asked to, or a large file."""
    if batch_size is not None:
        return True
    with contextlib.suppress(OSError):
        return os.path.getsize(data) > STREAM_PREDICT_BYTES
    return False


def cli_predict(model, data: str, *, target, dropna, output, batch_size, stderr) -> None:
    """``softmax predict MODEL DATA`` chunk by chunk, to stdout or atomically to a file."""
    if output is None:
        predict_file(model, data, sys.stdout, target=target, dropna=dropna, batch_size=batch_size)
        return
    with atomic_text(output) as handle:
        n = predict_file(model, data, handle, target=target, dropna=dropna, batch_size=batch_size)
    stderr.print(f"wrote {n} predictions for {data} to {output}")
