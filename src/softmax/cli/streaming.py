"""``softmax fit DATA --solver sgd`` and chunked ``softmax predict``: the CLI's glue to
:mod:`softmax.io.streaming` (printing and saving only; the work is done there)."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from .._errors import SoftmaxInputError
from ..estimator import SoftmaxRegression
from ..io.atomic import atomic_write
from ..io.streaming import fit_file, predict_file
from ..io.tables import open_table
from .app import console, err_console
from .metrics import print_metrics

__all__ = ["STREAM_PREDICT_BYTES", "cli_fit", "cli_predict", "should_stream"]

#: ``softmax predict`` streams DATA files larger than this even without --batch-size.
STREAM_PREDICT_BYTES = 256 << 20


def cli_fit(
    data: str,
    *,
    target: str | None,
    classes: str | None,
    output: str | None,
    plot: str | None,
    test_size: float,
    seed: int,
    **options: Any,
) -> None:
    """``softmax fit DATA --solver sgd``: stream, report, save; see :func:`fit_file`.

    `options` (``C``, ``alpha``, ``batch_size``, ``epochs``, ``tol``,
    ``dropna``) go to :func:`fit_file` as they are.
    """
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
    metrics = print_metrics(
        f"{data}: metrics on {where}", scores.classes, scores.confusion,
        accuracy=scores.accuracy, log_loss=scores.log_loss,
    )  # fmt: skip
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


def cli_predict(
    model: SoftmaxRegression,
    data: str,
    *,
    target: str | None,
    dropna: bool,
    output: str | None,
    batch_size: int | None,
) -> None:
    """``softmax predict MODEL DATA`` chunk by chunk, to stdout or atomically to a file."""
    if output is None:
        predict_file(model, data, sys.stdout, target=target, dropna=dropna, batch_size=batch_size)
        return
    with atomic_write(output) as handle:
        n = predict_file(model, data, handle, target=target, dropna=dropna, batch_size=batch_size)
    err_console.print(f"wrote {n} predictions for {data} to {output}")
