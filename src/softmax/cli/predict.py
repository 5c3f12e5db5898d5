"""``softmax predict`` and ``softmax evaluate``: a saved model on new rows."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .._errors import SoftmaxInputError
from ..io.atomic import atomic_write, check_writable
from ..io.streaming import prediction_frame
from ..io.tables import open_table
from .app import command, err_console
from .inputs import load_model, prediction_data, read_key, require_labels
from .metrics import report_metrics
from .options import DataArg, DatasetOpt, DropnaOpt, KeyFileOpt, ModelArg, StoredTargetOpt

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
    dropna: Annotated[
        bool,
        typer.Option(
            "--dropna",
            help="Do not score rows with missing values: their line gets an empty label and "
            "empty probabilities (one line per input row still), and stderr lists them.",
        ),
    ] = False,
    key_file: KeyFileOpt = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Read DATA in chunks (of at least this many rows), so memory stays bounded; "
            "files holding over 256 MB of text (compressed ones once decompressed) are always "
            "read in chunks.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Predict labels and class probabilities, as CSV.

    Reads the model's feature columns by name from DATA (other columns are
    ignored). The CSV has a column 'label' with the predicted class, then one
    column 'proba_<class>' per class, and one line per row of DATA, in order.

    \b
    Examples:
      softmax predict iris.softmax --dataset iris
      softmax predict iris.softmax new_flowers.csv -o predictions.csv
      softmax predict iris.softmax new_flowers.parquet > predictions.csv
      zcat flowers.csv.gz | softmax predict iris.softmax - --dropna > predictions.csv
      softmax predict big.softmax big.parquet --batch-size 100000 -o predictions.csv
    """
    if output is not None:
        check_writable(output)  # before reading data that may be large
    model, target = load_model(model_file, read_key(key_file))
    if data is not None and dataset is None:
        from . import streaming  # deferred: only DATA files need it

        return streaming.cli_predict(
            model, open_table(data), target=target, dropna=dropna, output=output,
            batch_size=batch_size,
        )  # fmt: skip
    X, _, source = prediction_data(model, data, dataset, target, dropna)
    text = prediction_frame(model, X).to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    # stderr: stdout may be a pipe that expects CSV only.
    err_console.print(f"wrote {len(X)} predictions for {source} to {output}")


@command()
def evaluate(
    model_file: ModelArg,
    data: DataArg = None,
    dataset: DatasetOpt = None,
    target: StoredTargetOpt = None,
    dropna: DropnaOpt = False,
    key_file: KeyFileOpt = None,
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
    model, stored_target = load_model(model_file, read_key(key_file))
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
