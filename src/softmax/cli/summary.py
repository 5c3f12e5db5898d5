"""The ``softmax summary`` command: a statistics table for a saved model.

Registered on the ``softmax`` app when :mod:`softmax.cli` imports this module.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from .._errors import SoftmaxInputError
from ..inference import InferenceResults, inference
from ..inference.options import COV_TYPES, WEIGHTS_KINDS
from ..io.tables import Table, names_for_message, open_table, read_frame
from .app import command, console
from .inputs import load_model, prediction_data, read_key, require_labels
from .options import DATA_HELP, DropnaOpt, KeyFileOpt, ModelArg, StoredTargetOpt

__all__ = ["summary"]

# The choices are the library's, spelled in lower case on the command line.
CovType = StrEnum("CovType", [(c.lower(), c.lower()) for c in COV_TYPES])
WeightsKind = StrEnum("WeightsKind", [(k, k) for k in WEIGHTS_KINDS])


class Format(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


@command()
def summary(
    model_file: ModelArg,
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA", help=f"{DATA_HELP} It holds the model's features and the labels."
        ),
    ],
    target: StoredTargetOpt = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Reference class, whose coefficients are 0 (default: the first class).",
            show_default=False,
        ),
    ] = None,
    cov_type: Annotated[
        CovType,
        typer.Option(
            case_sensitive=False,
            help="Covariance: inverse information, robust HC0/HC1, or cluster-robust "
            "(with --groups).",
        ),
    ] = CovType.nonrobust,
    groups: Annotated[
        str | None,
        typer.Option(help="Cluster column of DATA, for --cov-type cluster.", show_default=False),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(help="Column of non-negative row weights in DATA.", show_default=False),
    ] = None,
    weights_kind: Annotated[
        WeightsKind,
        typer.Option(case_sensitive=False, help="Frequency (counts) or analytic weights."),
    ] = WeightsKind.frequency,
    alpha: Annotated[
        float, typer.Option(min=1e-12, max=0.999, help="1 - confidence level of the intervals.")
    ] = 0.05,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format", case_sensitive=False, help="A text table, or csv/json for machines."
        ),
    ] = Format.text,
    dropna: DropnaOpt = False,
    key_file: KeyFileOpt = None,
) -> None:
    """Coefficients with standard errors, z, p-values and intervals, by class.

    Refits the saved model's estimate to full precision on DATA (see the
    library's SoftmaxRegression.inference) and prints the table of a
    statistics package. Separated classes are reported on stderr.

    \b
    Examples:
      softmax summary anes.softmax anes96.csv --target PID
      softmax summary anes.softmax anes96.csv --reference 3 --cov-type hc1
      softmax summary anes.softmax anes96.csv --format csv > coefficients.csv
    """
    model, stored_target = load_model(model_file, read_key(key_file))
    target = target or stored_target
    table = open_table(data)  # once: DATA may be standard input, read twice below
    X, y, source = prediction_data(model, table, None, target, dropna)
    y = require_labels(y, source, target)
    extra = _extra_columns(table, X, {"--groups": groups, "--weights": weights})
    sample_weight = None
    if weights is not None:
        sample_weight = pd.to_numeric(extra["--weights"], errors="coerce").to_numpy(float)
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise SoftmaxInputError(
                f"The weights column {weights!r} must hold finite non-negative numbers."
            )
    result = inference(
        model,
        X,
        y.rename(target),
        sample_weight,
        cov_type=cov_type.value,
        reference=reference,
        groups=None if groups is None else extra["--groups"].to_numpy(),
        weights_kind=weights_kind.value,
    )
    _print(result, output_format, alpha)


def _extra_columns(table: Table, X, columns: dict[str, str | None]) -> dict[str, pd.Series]:
    """The named non-feature columns of DATA, on the rows kept in ``X``."""
    wanted = {option: name for option, name in columns.items() if name is not None}
    if not wanted:
        return {}
    if not isinstance(X, pd.DataFrame):
        raise SoftmaxInputError(
            f"{' and '.join(wanted)} need a model trained with named feature columns."
        )
    frame = read_frame(table)
    missing = [name for name in wanted.values() if name not in frame.columns]
    if missing:
        raise SoftmaxInputError(
            f"{table.shown} lacks the column(s) {names_for_message(missing)}; its columns are "
            f"{names_for_message(frame.columns)}."
        )
    # X's index is the 0-based data row, so rows dropped by --dropna stay aligned.
    out = {option: frame[name].iloc[X.index.to_numpy()] for option, name in wanted.items()}
    for option, column in out.items():
        if column.isna().any():
            raise SoftmaxInputError(f"The {option} column {wanted[option]!r} has missing values.")
    return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _print(result: InferenceResults, output_format: Format, alpha: float) -> None:
    """Write the summary to stdout as a text table, CSV or JSON."""
    summary_ = result.summary(alpha)
    if output_format is Format.text:
        # soft_wrap: a table wider than the terminal must not be folded.
        console.print(summary_.text, soft_wrap=True, highlight=False)
    elif output_format is Format.csv:
        sys.stdout.write(summary_.frame.to_csv(index=False))
    else:
        records = [
            {key: _plain(value) for key, value in row.items()}
            for row in summary_.frame.to_dict(orient="records")
        ]
        document = {
            "model": {key: _plain(value) for key, value in summary_.info.items()},
            "coefficients": records,
            "notes": result.notes,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
