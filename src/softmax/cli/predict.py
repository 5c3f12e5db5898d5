"""``softmax predict`` and ``softmax evaluate``: a saved model on new rows."""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from .._errors import SoftmaxInputError
from ..io.atomic import atomic_write, check_writable
from .app import command, err_console
from .inputs import load_model, prediction_data, require_labels
from .metrics import report_metrics
from .options import DataArg, DatasetOpt, DropnaOpt, ModelArg, StoredTargetOpt

__all__ = ["evaluate", "predict"]


@command()
def predict(
    model_file: ModelArg,
    data: DataArg = None,
    dataset: DatasetOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o", "--output", help="Write the CSV here (default: stdout).", show_default=False
        ),
    ] = None,
    dropna: DropnaOpt = False,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Read DATA in chunks (of at least this many rows), so memory stays bounded; "
            "files over 256 MB are always read in chunks.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Predict labels and class probabilities, as CSV.

    Reads the model's feature columns by name from DATA (other columns are
    ignored). The CSV has a column 'label' with the predicted class, then one
    column 'proba_<class>' per class.

    \b
    Examples:
      softmax predict iris.softmax --dataset iris
      softmax predict iris.softmax new_flowers.csv -o predictions.csv
      softmax predict iris.softmax new_flowers.parquet > predictions.csv
      softmax predict big.softmax big.parquet --batch-size 100000 -o predictions.csv
    """
    if output is not None:
        check_writable(output)  # before reading data that may be large
    model, target = load_model(model_file)
    if data is not None and dataset is None:
        from . import streaming  # deferred: only chunked prediction needs it

        if streaming.should_stream(data, batch_size):
            return streaming.cli_predict(
                model, data, target=target, dropna=dropna, output=output, batch_size=batch_size
            )
    X, _, source = prediction_data(model, data, dataset, target, dropna)
    frame = pd.DataFrame(model.predict_proba(X), columns=[f"proba_{c}" for c in model.classes_])
    frame.insert(0, "label", model.predict(X))
    text = frame.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    # stderr: stdout may be a pipe that expects CSV only.
    err_console.print(f"wrote {len(frame)} predictions for {source} to {output}")


@command()
def evaluate(
    model_file: ModelArg,
    data: DataArg = None,
    dataset: DatasetOpt = None,
    target: StoredTargetOpt = None,
    dropna: DropnaOpt = False,
) -> None:
    """Score a saved model on labelled data: accuracy, log-loss, per-class metrics.

    Uses every row given; the labels are read from the model's target column
    unless --target names another.

    \b
    Examples:
      softmax evaluate iris.softmax --dataset iris
      softmax evaluate flowers.softmax more_flowers.csv
      softmax evaluate flowers.softmax more_flowers.csv --target kind
    """
    model, stored_target = load_model(model_file)
    target = target or stored_target
    X, y, source = prediction_data(model, data, dataset, target, dropna)
    labels = require_labels(y, source, target).to_numpy()
    known = set(model.classes_.tolist())
    unknown = sorted({label for label in labels.tolist() if label not in known}, key=str)
    if unknown:
        raise SoftmaxInputError(
            f"{source} has label(s) {unknown} that the model does not know; "
            f"its classes are {model.classes_.tolist()}."
        )
    report_metrics(model, X, labels, f"{source}: metrics on all {len(labels)} rows")
