"""``softmax fit DATA --solver sgd`` and ``softmax predict MODEL DATA``: the CLI's glue to
:mod:`softmax.io.streaming` (printing and saving only; the work is done there)."""

from __future__ import annotations

import sys
from typing import Any

from .._errors import SoftmaxInputError
from ..estimator import SoftmaxRegression
from ..io.atomic import atomic_write
from ..io.sources import text_bytes
from ..io.streaming import fit_file, predict_file
from ..io.tables import Table, open_table
from .metrics import Metrics, write_metrics
from .output import Output, model_document

__all__ = ["STREAM_PREDICT_BYTES", "cli_fit", "cli_predict", "should_stream"]

#: ``softmax predict`` streams DATA holding more text than this even without --batch-size.
STREAM_PREDICT_BYTES = 256 << 20


def cli_fit(
    data: str,
    out: Output,
    *,
    target: str | None,
    classes: str | None,
    output: str | None,
    plot: str | None,
    test_size: float,
    seed: int,
    key: bytes | None = None,
    **options: Any,
) -> None:
    """``softmax fit DATA --solver sgd``: stream, save, report (in ``out.format``); see
    :func:`fit_file`.

    `key` signs the model file (see :meth:`SoftmaxRegression.save`).

    `options` (``C``, ``alpha``, ``batch_size``, ``epochs``, ``tol``,
    ``dropna``) go to :func:`fit_file` as they are.
    """
    if plot is not None:
        raise SoftmaxInputError("--plot needs the data in memory; it is not available when "
                                "streaming DATA with --solver sgd.")  # fmt: skip
    labels = None if classes is None else classes.split(",")
    table = open_table(data)  # once: DATA may be standard input
    model, scores, summary = fit_file(
        table, target, classes=labels, test_size=test_size, seed=seed,
        progress=out.progress, **options,
    )  # fmt: skip
    metrics = Metrics(scores.classes, scores.confusion, scores.accuracy, scores.log_loss)
    rows = {"dataset": table.shown, "test_size": test_size, "seed": seed, "streamed": True,
            **summary}  # fmt: skip
    solver = getattr(model, "solver_", model.solver)  # a stream's fit may not name it
    # The model file before the report: see softmax.cli.fit.
    if output is not None:
        extra = {**rows, "solver_": solver, "metrics": metrics.summary()}
        out.note(f"model saved to {model.save(output, extra=extra, key=key)}")
    where = (
        f"the held-out rows ({scores.n} rows, about {test_size:.0%})"
        if test_size > 0
        else f"the training data ({scores.n} rows; --test-size 0 leaves no held-out part)"
    )
    trained = (
        f"trained on {summary['n_train']} rows x {summary['epochs']} epoch(s) in "
        f"{summary['train_seconds']:.1f} s ({summary.get('rows_per_second', 0):,.0f} rows/s)"
    )
    write_metrics(
        out, metrics, title=f"{table.shown}: metrics on {where}", lines=[trained],
        context={**rows, "scored_on": "test" if test_size > 0 else "train",
                 "model_file": output},
        model=model_document(model, solver),
    )  # fmt: skip


def should_stream(table: Table, batch_size: int | None) -> bool:
    """Whether ``softmax predict`` reads DATA in chunks: asked to, or much text.

    A compressed file is judged by its text (:func:`softmax.io.sources.text_bytes`):
    a 100 MB ``.csv.gz`` may hold 1 GB of CSV, and reading it whole takes ten
    times that.
    """
    return batch_size is not None or text_bytes(table.path) > STREAM_PREDICT_BYTES


def cli_predict(
    model: SoftmaxRegression,
    table: Table,
    out: Output,
    *,
    target: str | None,
    dropna: bool,
    output: str | None,
    batch_size: int | None,
    top_k: int | None = None,
    keep: list[str] | None = None,
) -> None:
    """``softmax predict MODEL DATA``, to stdout or atomically to a file; `keep`
    names columns of DATA copied to the output.

    Small files are read whole, so that bad input fails before any output;
    see :func:`should_stream`. Rows not scored (``--dropna``) are reported on
    stderr (unless ``out`` is quiet), as is the file written.
    """
    options = dict(
        target=target, dropna=dropna, batch_size=batch_size,
        whole=not should_stream(table, batch_size), top_k=top_k, keep=keep or (),
    )  # fmt: skip
    if output is None:
        done = predict_file(model, table, sys.stdout, **options)
    else:
        with atomic_write(output) as handle:
            done = predict_file(model, table, handle, **options)
    # stderr: stdout may be a pipe that expects CSV only.
    note = done.note()
    if note is not None:
        out.note(note)
    if output is not None:
        out.note(f"wrote {done.rows} predictions for {table.shown} to {output}")
