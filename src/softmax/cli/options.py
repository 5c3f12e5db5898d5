"""Arguments and options that several commands take, declared once.

Each is an ``Annotated`` type to put on a command's parameter, so that the
same option reads the same in every command's ``--help``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

#: The bundled data sets, named as :data:`softmax.datasets.BUNDLED` names them;
#: written out so that reading these options (every command's --help, and
#: ``softmax explain``) does not import pandas. ``tests/test_startup.py``
#: checks that the two agree.
BUNDLED = ("iris", "wine", "digits", "penguins", "mnist")

__all__ = [
    "DATA_HELP",
    "DataArg",
    "DatasetOpt",
    "DropnaOpt",
    "Format",
    "KeyFileOpt",
    "ModelArg",
    "PlotDirOpt",
    "QuietOpt",
    "StoredTargetOpt",
    "format_option",
]

#: What DATA may be, for every command's help.
DATA_HELP = "CSV or Parquet file; - reads standard input (a pipe)."
DataArg = Annotated[
    str | None, typer.Argument(metavar="DATA", help=DATA_HELP, show_default=False)
]
DatasetOpt = Annotated[
    str | None,
    typer.Option(help=f"Bundled data set: {', '.join(BUNDLED)}.", show_default=False),
]
DropnaOpt = Annotated[
    bool, typer.Option("--dropna", help="Drop rows with missing values instead of failing.")
]
ModelArg = Annotated[
    str, typer.Argument(metavar="MODEL", help="Model file written by 'softmax fit -o'.")
]
KeyFileOpt = Annotated[
    str | None,
    typer.Option(
        "--key-file",
        metavar="PATH",
        help="File holding the secret key the model file is signed with (HMAC-SHA256); "
        "one trailing newline is ignored.",
        show_default=False,
    ),
]
#: The label column of commands that read a saved model (fit has its own default).
StoredTargetOpt = Annotated[
    str | None,
    typer.Option(
        help="Label column of DATA (default: the target column stored in the model).",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "-q",
        "--quiet",
        help="No progress bar and no messages on stderr; errors and warnings still show.",
    ),
]


class Format(StrEnum):
    """How a command writes its report on stdout."""

    text = "text"
    json = "json"
    csv = "csv"


def format_option(csv_holds: str, json_holds: str) -> typer.models.OptionInfo:
    """The ``--format`` option of a command, its help saying what CSV and JSON hold.

    Use as ``Annotated[Format, format_option(...)]``.
    """
    return typer.Option(
        "--format",
        case_sensitive=False,
        help=f"text: tables (plain, unwrapped when stdout is not a terminal); json: "
        f"{json_holds}; csv: {csv_holds}.",
    )


PlotDirOpt = Annotated[
    str | None,
    typer.Option(
        "--plot",
        metavar="DIR",
        help="Write PNG pictures into this folder (created if missing).",
        show_default=False,
    ),
]
