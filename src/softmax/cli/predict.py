"""``softmax predict`` and ``softmax evaluate``: a saved model on new rows."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .._errors import SoftmaxInputError
from ..io.atomic import atomic_write, check_writable
from ..io.streaming import prediction_frame
from ..io.tables import open_table
from .app import command
from .inputs import (
    KeepOpt, StrictOpt, load_model, prediction_data, read_key, require_labels, split_names,
)  # fmt: skip
from .metrics import Metrics, write_metrics
from .options import (
    DataArg,
    DatasetOpt,
    DropnaOpt,
    Format,
    KeyFileOpt,
    ModelArg,
    QuietOpt,
    StoredTargetOpt,
    format_option,
)
from .output import Output

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
    top_k: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Write the K most probable classes and their probabilities instead: columns "
            "top1,top1_proba,...,topK,topK_proba.",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOpt = False,
    keep: KeepOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Predict labels and class probabilities, as CSV.

    Reads the model's feature columns by name from DATA (other columns are
    ignored). The CSV has a column 'label' with the predicted class, then one
    column 'proba_<class>' per class, and one line per row of DATA, in order;
    with --top-k K, the columns top1,top1_proba,...,topK,topK_proba instead.
    --keep COL,... copies columns of DATA (ids) in front. Columns of text are
    encoded as in training; a category the model has not seen scores as all-zero
    indicators, with a warning (--strict refuses it).

    \b
    Examples:
      softmax predict iris.softmax --dataset iris
      softmax predict iris.softmax new_flowers.csv -o predictions.csv
      softmax predict iris.softmax new_flowers.parquet > predictions.csv
      zcat flowers.csv.gz | softmax predict iris.softmax - --dropna > predictions.csv
      softmax predict big.softmax big.parquet --batch-size 100000 -o predictions.csv
      softmax predict iris.softmax --dataset iris --top-k 2
      softmax predict penguins.softmax new.csv --keep id --strict -o predictions.csv
    """
    out = Output(quiet=quiet)
    if output is not None:
        check_writable(output)  # before reading data that may be large
    model, target = load_model(model_file, read_key(key_file))
    if strict:
        model.set_params(handle_unknown="error")
    if data is not None and dataset is None:
        from . import streaming  # deferred: only DATA files need it

        return streaming.cli_predict(
            model, open_table(data), out, target=target, dropna=dropna, output=output,
            batch_size=batch_size, top_k=top_k, keep=split_names(keep),
        )  # fmt: skip
    if keep is not None:
        raise SoftmaxInputError("--keep copies columns of a DATA file; give one.")
    X, _, source = prediction_data(model, data, dataset, target, dropna)
    text = prediction_frame(model, X, top_k=top_k).to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    # stderr: stdout may be a pipe that expects CSV only.
    out.note(f"wrote {len(X)} predictions for {source} to {output}")


@command()
def evaluate(
    model_file: ModelArg,
    data: DataArg = None,
    dataset: DatasetOpt = None,
    target: StoredTargetOpt = None,
    dropna: DropnaOpt = False,
    key_file: KeyFileOpt = None,
    strict: StrictOpt = False,
    output_format: Annotated[
        Format,
        format_option(
            csv_holds="the per-class table (class,precision,recall,f1,support)",
            json_holds="model_file, data, n_rows, metrics, per_class, confusion_matrix",
        ),
    ] = Format.text,
) -> None:
    """Score a saved model on labelled data: accuracy, log-loss, per-class metrics.

    Uses every row given; the labels are read from the model's target column
    unless --target names another.

    \b
    Examples:
      softmax evaluate iris.softmax --dataset iris
      softmax evaluate flowers.softmax more_flowers.csv
      softmax evaluate flowers.softmax more_flowers.csv --target kind
      softmax evaluate iris.softmax --dataset iris --format json | jq .metrics.accuracy
    """
    model, stored_target = load_model(model_file, read_key(key_file))
    if strict:
        model.set_params(handle_unknown="error")
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
    write_metrics(
        Output(output_format), Metrics.of(model, X, labels),
        title=f"{source}: metrics on all {len(labels)} rows",
        context={"model_file": model_file, "data": source, "n_rows": len(labels)},
    )  # fmt: skip
